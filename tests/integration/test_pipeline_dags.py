"""The whole pipeline through Airflow (`airflow dags test`, SQLite), real Spark, local storage:
`make demo`'s path, its outputs against the oracle, then re-runs of every DAG change nothing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from include import settings
from include.local_airflow import dags_test
from tests.pipeline_run import assert_equal_to_the_oracle, outputs
from testsupport import oracle


def test_demo_outputs_equal_the_oracle(spark, local_pipeline, data_dir):
    assert_equal_to_the_oracle(outputs(spark, local_pipeline["layout"]), data_dir)
    # the lecture-like report at the end
    readings = oracle.readings(data_dir / settings.SENSOR_FILE)
    assert f"alerts: {len(oracle.alerts(readings))} rows" in local_pipeline["stdout"]
    assert f"daily_stats: {len(oracle.daily_stats(readings))} rows" in local_pipeline["stdout"]


def test_files_are_where_the_lecture_puts_them(local_pipeline, data_dir):
    root: Path = local_pipeline["root"]
    for name, place in (
        (settings.SENSOR_FILE, root),
        (settings.VENDOR_FILE, root / "info"),
        (settings.MAINT_FILE, root / "info"),
    ):
        assert (place / name).read_bytes() == (data_dir / name).read_bytes()
    days = {datetime.strptime(row[1], "%m/%d/%y").date() for row in oracle.read_rows(data_dir / settings.SENSOR_FILE)}
    dropped = sorted(p.name for p in (root / "stream").iterdir())
    assert dropped == [f"sensor_{day:%Y%m%d}T0000_1440m.csv" for day in sorted(days)]


def test_every_dag_rerun_changes_nothing(spark, local_pipeline):
    env, root, layout = local_pipeline["env"], local_pipeline["root"], local_pipeline["layout"]
    before = outputs(spark, layout)
    staged_files = [root / settings.SENSOR_FILE, *(root / "info").iterdir()]
    staged = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in staged_files}
    dropped = sorted((root / "stream").iterdir())

    dags_test("oil_stage", env)
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in staged} == staged  # untouched
    dags_test("oil_file_drop", env, conf={"slice_index": 1, "slice_minutes": 1440})  # the same file again
    dags_test("oil_file_drop", env, conf={"slice_index": 999, "slice_minutes": 1440})  # past the end: skipped
    assert sorted((root / "stream").iterdir()) == dropped
    dags_test("oil_streaming", env)
    dags_test("oil_daily_stats", env, logical_date="2014-03-11")
    assert outputs(spark, layout) == before
