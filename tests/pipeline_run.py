"""The pipeline run for a test: in-process (the jobs' main() on the shared Spark session) or `make demo`'s
path (scripts/demo.py in a subprocess, through `airflow dags test`); its outputs read back and compared
with the oracle."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from devstack.local_airflow import airflow_env
from include import settings
from include.replay import slicing
from include.replay.file_drop import drop
from include.settings import Layout
from include.spark import tables
from spark_jobs import alerts, daily_stats, enrich_alerts, incidents
from testsupport import incidents as incident_oracle
from testsupport import oracle

# One drop of a week of sensor time: the whole data set in one file, so one streaming run.
WHOLE_DATA_SET_MINUTES = "10080"
# The real data set's figures (the lecture's), pinned so that a change of oracle and job together shows.
REAL_DATA_COUNTS = {"readings": 47_900, "alerts": 2_052, "alerts_enriched": 15_631, "daily_stats": 50, "incidents": 2}


def is_real_data(data_dir: Path) -> bool:
    return data_dir.name == "mapr"


# ---- in-process: the jobs' main() --------------------------------------------------------------------
def staged(folder: Path, data_dir: Path) -> Layout:
    """What oil_stage does, on local storage: the sensor file at the root, the reference files in info/."""
    shutil.copy(data_dir / settings.SENSOR_FILE, folder / settings.SENSOR_FILE)
    (folder / "info").mkdir()
    for name in (settings.VENDOR_FILE, settings.MAINT_FILE):
        shutil.copy(data_dir / name, folder / "info" / name)
    return Layout(folder.as_uri())


def stream(layout: Layout, max_files: int | None = None) -> None:
    """One run of the streaming DAG's jobs: alerts, then their enrichment and the incidents."""
    extra = ["--max-files-per-trigger", str(max_files)] if max_files else []
    outputs_ = ["--output", layout.output("alerts"), "--quarantine", layout.output("quarantine")]
    assert alerts.main(["--source", layout.stream, *outputs_, "--checkpoints", layout.path("checkpoints"), *extra]) == 0
    enrich = [
        *("--alerts", layout.output("alerts"), "--vendor", layout.vendor, "--maint", layout.maint),
        *("--output", layout.output("alerts_enriched"), "--checkpoint", layout.checkpoint("alerts_enriched")),
    ]
    assert enrich_alerts.main([*enrich, *extra]) == 0
    # Not in max_files' micro-batches: the incident rule applies readings in event-time order, and Delta would
    # cut an alert run's commit (several files, each spanning its whole slice) into batches out of that order.
    assert incidents.main(incident_args(layout)) == 0


def incident_args(layout: Layout) -> list[str]:
    return [
        *("--readings", layout.output("readings"), "--vendor", layout.vendor, "--maint", layout.maint),
        *("--output", layout.output("incidents"), "--checkpoint", layout.checkpoint("incidents")),
    ]


def daily(layout: Layout, data_dir: Path) -> None:
    """The daily statistics of every day of the data, one run a day."""
    days = sorted(
        {datetime.strptime(row[1], "%m/%d/%y").date() for row in oracle.read_rows(data_dir / settings.SENSOR_FILE)}
    )
    for day in days:
        args = ["--readings", layout.output("readings"), "--output", layout.output("daily_stats")]
        assert daily_stats.main([*args, "--day", day.isoformat()]) == 0


def minutes_for(lines: list[str], slices: int) -> int:
    """A span that cuts the data into exactly this many slices."""
    plan = slicing.plan(lines, 60)
    last = max(t for t in map(slicing.event_time, lines) if t is not None)
    return math.ceil(((last - plan.origin).total_seconds() / 60 + 1) / slices)


def run_in_process(folder: Path, data_dir: Path) -> Layout:
    """The whole data set through the jobs: staged, dropped as one file, streamed once, every day's statistics."""
    layout = staged(folder, data_dir)
    assert drop(layout, 0, int(WHOLE_DATA_SET_MINUTES)).written
    stream(layout)
    daily(layout, data_dir)
    return layout


# ---- make demo's path: airflow dags test ---------------------------------------------------------------
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


# ---- outputs against the oracle ------------------------------------------------------------------------
def sorted_rows(spark, path: str, columns) -> list[tuple]:
    """A table's rows, sorted; [] for a table not written yet."""
    table = tables.read(spark, path)
    return [] if table is None else sorted(map(tuple, table.select(*columns).collect()), key=repr)


def outputs(spark, layout: Layout) -> dict[str, list[tuple]]:
    """Every table's rows (Spark's Delta reader: the table's current version), in the oracle's columns."""
    return {
        "readings": sorted_rows(spark, layout.output("readings"), oracle.SENSOR_COLUMNS),
        "alerts": sorted_rows(spark, layout.output("alerts"), oracle.SENSOR_COLUMNS),
        "alerts_enriched": sorted_rows(spark, layout.output("alerts_enriched"), oracle.ENRICHED_COLUMNS),
        "daily_stats": sorted_rows(spark, layout.output("daily_stats"), ("resid", "date", *oracle.STAT_COLUMNS)),
        "quarantine": sorted_rows(spark, layout.output("quarantine"), ("raw_line",)),
        "incidents": incident_rows(spark, layout),
    }


INCIDENT_FIELDS = ("resid", "opened_at", "resolved_at", "low_readings", "min_psi")
PUMP_DATA_FIELDS = ("pumpType", "vendor", "maintenance_date", "technician", "maintenance")


def incident_rows(spark, layout: Layout) -> list[dict]:
    """The incidents table as the oracle gives it (testsupport/incidents.py), by pump and opening time."""
    table = tables.read(spark, layout.output("incidents"))
    rows = [] if table is None else table.select(*INCIDENT_FIELDS, *PUMP_DATA_FIELDS).collect()
    return sorted((row.asDict() for row in rows), key=lambda row: (row["resid"], row["opened_at"]))


def expected_incidents(data_dir: Path, rows: list[dict] | None = None) -> list[dict]:
    """The oracle's incidents of the data set's readings (or of rows), with their pumps' reference data."""
    rows = oracle.readings(data_dir / settings.SENSOR_FILE) if rows is None else rows
    found = incident_oracle.incidents(rows, settings.ALERT_PSI_THRESHOLD, settings.INCIDENT_CLEAR_MINUTES)
    vendor_rows = oracle.read_rows(data_dir / settings.VENDOR_FILE)
    return incident_oracle.with_pump_data(found, vendor_rows, oracle.read_rows(data_dir / settings.MAINT_FILE))


def assert_daily_stats_equal(got: list[tuple], expected: dict) -> None:
    """(resid, date, *oracle.STAT_COLUMNS) rows against the oracle's statistics of each (pump, day)."""
    assert sorted((resid, date) for resid, date, *_ in got) == sorted(expected)
    for resid, date, *values in got:
        wanted = [expected[(resid, date)][column] for column in oracle.STAT_COLUMNS]
        assert values == pytest.approx(wanted, rel=1e-9, abs=1e-9), (resid, date)


def assert_equal_to_the_oracle(got: dict[str, list[tuple]], data_dir: Path, stat_days: int | None = None) -> None:
    """Every output equals the oracle's; the daily statistics those of the first stat_days days (default all;
    0: none was computed, the streaming tables only)."""
    readings = oracle.readings(data_dir / settings.SENSOR_FILE)
    assert got["readings"] == sorted((tuple(r[k] for k in oracle.SENSOR_COLUMNS) for r in readings), key=repr)
    expected_alerts = oracle.alerts(readings)
    assert got["alerts"] == sorted(expected_alerts, key=repr)
    assert got["alerts_enriched"] == oracle.enriched(
        expected_alerts, data_dir / settings.VENDOR_FILE, data_dir / settings.MAINT_FILE
    )
    assert got["quarantine"] == []
    stats = oracle.daily_stats(readings)
    if stat_days is not None:
        days = sorted({date for _, date in stats}, key=lambda date: datetime.strptime(date, "%m/%d/%y"))[:stat_days]
        stats = {key: row for key, row in stats.items() if key[1] in days}
    assert_daily_stats_equal(got["daily_stats"], stats)
    assert got["incidents"] == expected_incidents(data_dir, readings)
    if is_real_data(data_dir):
        daily_rows = REAL_DATA_COUNTS["daily_stats"] if stat_days is None else len(stats)
        counts = {**REAL_DATA_COUNTS, "daily_stats": daily_rows}
        assert {name: len(got[name]) for name in REAL_DATA_COUNTS} == counts
