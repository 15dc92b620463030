"""The whole pipeline with OIL_STORAGE_ROOT on a real HDFS, through `airflow dags test`: outputs equal
the oracle and the local-storage run, files land in the lecture's /sparkdata/oil, and staging rides
out a NameNode outage (clear failure, retry, completion, nothing duplicated or half-written)."""

from __future__ import annotations

import subprocess
import uuid
from datetime import datetime, timezone

import pytest

from include import settings
from include.local_airflow import BIN_DIR, airflow, airflow_env
from scripts.airflow_stack import wait_for
from tests.hdfs.conftest import NAMENODE, WEBHDFS_ADDRESS
from tests.pipeline_run import WHOLE_DATA_SET_MINUTES, assert_equal_to_the_oracle, outputs, run_demo

LECTURE_ROOT = f"{NAMENODE}/sparkdata/oil"


def listing(path: str) -> dict[str, tuple[str, int]]:
    """name -> (type, length) of a folder, through WebHDFS (the lecture's `hadoop fs -ls`)."""
    from airflow.providers.apache.hdfs.hooks.webhdfs import WebHDFSHook

    entries = WebHDFSHook().get_conn().list(path, status=True)
    return {name: (status["type"], status["length"]) for name, status in entries}


@pytest.fixture(scope="module")
def hdfs_pipeline(hdfs_server, webhdfs_connection, tmp_path_factory, data_dir) -> dict:
    from include.storage.webhdfs import WebHdfsStorage

    WebHdfsStorage().delete(LECTURE_ROOT, recursive=True)  # a clean /sparkdata/oil for this run
    # One drop of the whole data set: the local run covers day slices, and equal outputs show the batching
    # does not matter; here what is under test is the storage.
    return run_demo(
        tmp_path_factory.mktemp("hdfs-pipeline"), data_dir, LECTURE_ROOT, "--slice-minutes", WHOLE_DATA_SET_MINUTES
    )


def test_outputs_on_hdfs_equal_the_oracle_and_the_local_run(spark, hdfs_pipeline, local_pipeline, data_dir):
    on_hdfs = outputs(spark, hdfs_pipeline["layout"])
    assert_equal_to_the_oracle(on_hdfs, data_dir)
    assert on_hdfs == outputs(spark, local_pipeline["layout"])


def test_files_land_where_the_lecture_puts_them(hdfs_pipeline, data_dir):
    size = {name: (data_dir / name).stat().st_size for name in settings.INPUT_FILES}
    root = listing("/sparkdata/oil")
    assert root == {
        settings.SENSOR_FILE: ("FILE", size[settings.SENSOR_FILE]),
        "info": ("DIRECTORY", 0),
        "stream": ("DIRECTORY", 0),
        "checkpoints": ("DIRECTORY", 0),
        "output": ("DIRECTORY", 0),
    }
    assert listing("/sparkdata/oil/info") == {
        settings.VENDOR_FILE: ("FILE", size[settings.VENDOR_FILE]),
        settings.MAINT_FILE: ("FILE", size[settings.MAINT_FILE]),
    }
    dropped = listing("/sparkdata/oil/stream")
    assert all(name.startswith("sensor_") and kind == "FILE" for name, (kind, _) in dropped.items())  # none hidden
    assert sum(length for _, length in dropped.values()) == size[settings.SENSOR_FILE]  # every byte, once


def test_pump_monitor_reads_the_outputs_on_hdfs(hdfs_pipeline, local_pipeline):
    """The pump monitor's data through WebHDFS equals the local run's (which tests/plugins checks against
    the oracle): the sinks' committed files, the partitioned statistics, the runs, the landed files."""
    from include.monitor.pump_monitor import RUN_COLUMNS, MonitorData

    on_hdfs, local = MonitorData(LECTURE_ROOT), MonitorData(local_pipeline["root"].as_uri())
    assert on_hdfs.alerts(100) == local.alerts(100) and on_hdfs.alerts(100)["total"]
    assert on_hdfs.pumps() == local.pumps() and on_hdfs.pumps()["pumps"]
    for resid in local.known_pumps():
        assert on_hdfs.daily(resid) == local.daily(resid)
    now = datetime.now(timezone.utc)
    assert on_hdfs.status(now)["newest_reading"] == local.status(now)["newest_reading"]
    assert on_hdfs.status(now)["last_run"] is not None

    def totals(data: MonitorData) -> list[int]:  # a rerun adds a run of zeros: compare the sums
        runs = data.rows("runs", RUN_COLUMNS)
        return [sum(run[column] for run in runs) for column in ("lines_read", "alerts_written", "lines_quarantined")]

    assert totals(on_hdfs) == totals(local)


def test_staging_rides_out_a_namenode_outage(hdfs_server, webhdfs_connection, tmp_path, data_dir):
    from include.storage.webhdfs import WebHdfsStorage

    root = f"{NAMENODE}/tmp/oil-outage-{uuid.uuid4().hex[:8]}"
    env = airflow_env(tmp_path / "airflow", OIL_DATA_DIR=str(data_dir), OIL_STORAGE_ROOT=root)
    airflow(["db", "migrate"], env)
    log = tmp_path / "stage.log"
    hdfs_server.run("down", "namenode")
    try:
        with log.open("w") as out:
            run = subprocess.Popen(
                [str(BIN_DIR / "airflow"), "dags", "test", "oil_stage"], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        # the first try fails, naming HDFS and where it was looked for; the task waits for its retry
        wait_for("staging to fail on the stopped NameNode", lambda: "HDFS is not reachable" in log.read_text(), 180)
        hdfs_server.up()
        assert run.wait(timeout=600) == 0, log.read_text()[-5000:]
    finally:
        if run.poll() is None:
            run.kill()
        if not hdfs_server.ready():
            hdfs_server.up()
    text = log.read_text()
    assert f"through WebHDFS at {WEBHDFS_ADDRESS}" in text
    assert "new_state=up_for_retry" in text  # the first try failed and was retried
    storage = WebHdfsStorage()
    assert storage.list_names(root) == sorted(["checkpoints", "info", "output", "stream", settings.SENSOR_FILE])
    assert storage.list_names(f"{root}/info") == sorted([settings.MAINT_FILE, settings.VENDOR_FILE])
    for name in settings.INPUT_FILES:
        folder = root if name == settings.SENSOR_FILE else f"{root}/info"
        assert storage.read_bytes(f"{folder}/{name}") == (data_dir / name).read_bytes()
    storage.delete(root, recursive=True)
