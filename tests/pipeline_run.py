"""`make demo`'s path run for a test (scripts/demo.py in a subprocess), and its outputs read back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from include import settings
from include.local_airflow import airflow_env
from include.settings import Layout
from include.spark import tables
from spark_jobs.daily_stats import STAT_COLUMNS
from spark_jobs.enrich_alerts import ENRICHED_COLUMNS
from testsupport import oracle

# One drop of a week of sensor time: the whole data set in one file, so one streaming run.
WHOLE_DATA_SET_MINUTES = "10080"


def run_demo(base: Path, data_dir: Path, root: str, *demo_args: str, **env_overrides: str) -> dict:
    """Run scripts/demo.py [demo_args] on data_dir with its own Airflow home under base and storage root."""
    env = airflow_env(base / "airflow", OIL_DATA_DIR=str(data_dir), OIL_STORAGE_ROOT=root, **env_overrides)
    result = subprocess.run(
        [sys.executable, str(settings.PROJECT_DIR / "scripts" / "demo.py"), *demo_args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    return {"env": env, "layout": Layout(root), "stdout": result.stdout}


def sorted_rows(spark, path: str, columns) -> list[tuple]:
    """A table's rows, sorted; [] for a table not written yet."""
    table = tables.read(spark, path)
    return [] if table is None else sorted(map(tuple, table.select(*columns).collect()), key=repr)


def outputs(spark, layout: Layout) -> dict[str, list[tuple]]:
    """Every table's rows (Spark's Delta reader: the table's current version)."""
    return {
        "readings": sorted_rows(spark, layout.output("readings"), oracle.SENSOR_COLUMNS),
        "alerts": sorted_rows(spark, layout.output("alerts"), oracle.SENSOR_COLUMNS),
        "alerts_enriched": sorted_rows(spark, layout.output("alerts_enriched"), ENRICHED_COLUMNS),
        "daily_stats": sorted_rows(spark, layout.output("daily_stats"), ("resid", "date", *STAT_COLUMNS)),
        "quarantine": sorted_rows(spark, layout.output("quarantine"), ("raw_line",)),
    }


def assert_equal_to_the_oracle(got: dict[str, list[tuple]], data_dir: Path) -> None:
    readings = oracle.readings(data_dir / settings.SENSOR_FILE)
    assert got["readings"] == sorted((tuple(r[k] for k in oracle.SENSOR_COLUMNS) for r in readings), key=repr)
    expected_alerts = oracle.alerts(readings)
    assert got["alerts"] == sorted(expected_alerts, key=repr)
    assert got["alerts_enriched"] == oracle.enriched(
        expected_alerts, data_dir / settings.VENDOR_FILE, data_dir / settings.MAINT_FILE
    )
    assert got["quarantine"] == []
    expected_stats = oracle.daily_stats(readings)
    assert len(got["daily_stats"]) == len(expected_stats)
    for resid, date, *values in got["daily_stats"]:
        expected = [expected_stats[(resid, date)][column] for column in STAT_COLUMNS]
        assert values == pytest.approx(expected, rel=1e-9, abs=1e-9), (resid, date)
