"""Staging onto a real HDFS through `airflow dags test` rides out a NameNode outage: a clear failure, a
retry, completion, nothing duplicated or half-written. (The whole pipeline on HDFS: tests/cluster.)"""

from __future__ import annotations

import subprocess
import uuid

from devstack.airflow_stack import wait_for
from devstack.local_airflow import BIN_DIR, airflow, airflow_env
from include import settings
from tests.hdfs.conftest import NAMENODE, WEBHDFS_ADDRESS


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
