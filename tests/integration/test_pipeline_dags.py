"""The whole pipeline through Airflow (`airflow dags test`, SQLite), real Spark, local storage:
`make demo`'s path, its outputs against the oracle, then re-runs of every DAG change nothing."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from include import settings
from include.local_airflow import airflow_env, dags_test
from include.settings import Layout
from spark_jobs.daily_stats import STAT_COLUMNS
from spark_jobs.enrich_alerts import ENRICHED_COLUMNS
from tests import oracle


@pytest.fixture(scope="module")
def demo(tmp_path_factory, data_dir):
    """Run scripts/demo.py (what `make demo` runs) on the data, in a storage root of its own."""
    base = tmp_path_factory.mktemp("pipeline")
    overrides = {
        "OIL_DATA_DIR": str(data_dir),
        "OIL_STORAGE_ROOT": (base / "storage").as_uri(),
        "OIL_AIRFLOW_HOME": str(base / "airflow"),
    }
    env = airflow_env(base / "airflow", **overrides)
    result = subprocess.run(
        [sys.executable, str(settings.PROJECT_DIR / "scripts" / "demo.py")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    return {
        "env": env,
        "layout": Layout(overrides["OIL_STORAGE_ROOT"]),
        "root": base / "storage",
        "stdout": result.stdout,
        "log": base / "airflow" / "demo.log",
    }


def sorted_rows(spark, path: str, columns) -> list[tuple]:
    return sorted(map(tuple, spark.read.parquet(path).select(*columns).collect()), key=repr)


def outputs(spark, layout: Layout) -> dict[str, list[tuple]]:
    return {
        "alerts": sorted_rows(spark, layout.output("alerts"), oracle.SENSOR_COLUMNS),
        "alerts_enriched": sorted_rows(spark, layout.output("alerts_enriched"), ENRICHED_COLUMNS),
        "daily_stats": sorted_rows(spark, layout.output("daily_stats"), ("resid", "date", *STAT_COLUMNS)),
        "quarantine": sorted_rows(spark, layout.output("quarantine"), ("raw_line",)),
    }


def test_demo_outputs_equal_the_oracle(spark, demo, data_dir):
    readings = oracle.readings(data_dir / settings.SENSOR_FILE)
    got = outputs(spark, demo["layout"])
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
    # the lecture-like report at the end
    assert f"alerts: {len(expected_alerts)} rows" in demo["stdout"]
    assert f"daily_stats: {len(expected_stats)} rows" in demo["stdout"]


def test_files_are_where_the_lecture_puts_them(demo, data_dir):
    root: Path = demo["root"]
    for name, place in (
        (settings.SENSOR_FILE, root),
        (settings.VENDOR_FILE, root / "info"),
        (settings.MAINT_FILE, root / "info"),
    ):
        assert (place / name).read_bytes() == (data_dir / name).read_bytes()
    days = {datetime.strptime(row[1], "%m/%d/%y").date() for row in oracle.read_rows(data_dir / settings.SENSOR_FILE)}
    dropped = sorted(p.name for p in (root / "stream").iterdir())
    assert dropped == [f"sensor_{day:%Y%m%d}T0000_1440m.csv" for day in sorted(days)]


def test_every_dag_rerun_changes_nothing(spark, demo):
    env, root, layout = demo["env"], demo["root"], demo["layout"]
    before = outputs(spark, layout)
    staged = {
        p: (p.stat().st_mtime_ns, p.read_bytes()) for p in [root / settings.SENSOR_FILE, *(root / "info").iterdir()]
    }
    dropped = sorted((root / "stream").iterdir())

    dags_test("oil_stage", env)
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in staged} == staged  # untouched
    dags_test("oil_file_drop", env, conf={"slice_index": 1, "slice_minutes": 1440})  # the same file again
    dags_test("oil_file_drop", env, conf={"slice_index": 999, "slice_minutes": 1440})  # past the end: skipped
    assert sorted((root / "stream").iterdir()) == dropped
    dags_test("oil_streaming", env)
    dags_test("oil_daily_stats", env, logical_date="2014-03-11")
    assert outputs(spark, layout) == before
