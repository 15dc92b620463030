"""HDFS down (NameNode stopped) while staging, dropping and streaming: each DAG fails clearly, is
retried, and completes once the NameNode is back; the outputs equal the oracle, nothing twice, and
no reader ever sees a half-written file.

On the session's HDFS (fixture hdfs_server), whose NameNode the test stops and starts again.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from devstack.airflow_stack import wait_for
from include import settings
from include.replay import slicing
from include.settings import Layout
from include.spark.checkpoint_lock import LOCK_FOLDER
from tests.hdfs.conftest import NAMENODE, WEBHDFS_ADDRESS
from tests.reliability.conftest import (
    BAD_FILE,
    BAD_LINES,
    SLICE_MINUTES,
    assert_outputs_equal_the_oracle,
    dag_run,
    finish,
    hdfs_airflow_env,
)


def through_an_outage(hdfs_server, dag_id: str, env: dict, log: Path, conf: str | None = None) -> str:
    """Run a DAG with the NameNode stopped; start it again once the first try has failed."""
    hdfs_server.run("down", "namenode")
    with dag_run(dag_id, env, log, conf) as run:
        try:
            wait_for(f"{dag_id} to fail on HDFS", lambda: "HDFS is not reachable" in log.read_text(), timeout=300)
        finally:
            hdfs_server.run("up")
        text = finish(run, log)
    assert "new_state=up_for_retry" in text
    assert f"through WebHDFS at {WEBHDFS_ADDRESS}" in text  # names HDFS and where
    return text


def test_a_namenode_outage_while_staging_dropping_and_streaming_loses_and_doubles_nothing(
    spark, hdfs_server, webhdfs_connection, fault_airflow_home, fault_expected, data_dir, tmp_path
):
    from include.replay.file_drop import drop
    from include.storage.webhdfs import WebHdfsStorage

    root = f"{NAMENODE}/tmp/oil-outage-{uuid.uuid4().hex[:8]}"
    layout = Layout(root)
    env = hdfs_airflow_env(fault_airflow_home, root, data_dir)
    timings = {}
    started = time.monotonic()

    through_an_outage(hdfs_server, "oil_stage", env, tmp_path / "stage.log")
    timings["stage"] = time.monotonic() - started
    drop_conf = f'{{"slice_index": 0, "slice_minutes": {SLICE_MINUTES}}}'
    through_an_outage(hdfs_server, "oil_file_drop", env, tmp_path / "drop.log", drop_conf)
    timings["drop"] = time.monotonic() - started
    # the other slices and the bad lines, straight through WebHDFS (the drop task's code)
    lines = slicing.split_lines((data_dir / settings.SENSOR_FILE).read_bytes())
    for index in range(1, slicing.plan(lines, SLICE_MINUTES).count):
        drop(layout, index, SLICE_MINUTES)
    storage = WebHdfsStorage()
    storage.write_atomic(f"{layout.stream}/{BAD_FILE}", "".join(f"{line}\n" for line in BAD_LINES).encode())

    # streaming: the NameNode stops while a micro-batch is in flight, and comes back
    jvm = spark.sparkContext._jvm
    checkpoint = jvm.org.apache.hadoop.fs.Path(layout.checkpoint("alerts"))
    fs = checkpoint.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())

    def in_flight() -> bool:
        def batches(log: str) -> set[int]:
            folder = jvm.org.apache.hadoop.fs.Path(checkpoint, log)
            names = [s.getPath().getName() for s in fs.listStatus(folder)] if fs.exists(folder) else []
            return {int(name) for name in names if name.isdigit()}

        committed = batches("commits")
        return bool(committed and batches("offsets") - committed)

    log = tmp_path / "streaming.log"
    with dag_run("oil_streaming", env, log, '{"max_files_per_trigger": 1}') as run:

        def running_and_in_flight() -> bool:
            assert run.poll() is None, f"the run ended before a batch was caught in flight: {log.read_text()[-3000:]}"
            return in_flight()

        wait_for("a micro-batch in flight on HDFS", running_and_in_flight, timeout=600, interval=0.2)
        hdfs_server.run("down", "namenode")
        try:  # the HDFS client of the job retries (conf/spark/log4j2.properties shows its attempts)
            wait_for("the job to retry HDFS", lambda: "Retrying connect to server" in log.read_text(), 300)
        finally:
            hdfs_server.run("up")
        text = finish(run, log)
    timings["stream"] = time.monotonic() - started
    print("seconds from the start:", {key: round(value) for key, value in timings.items()})
    assert f"Retrying connect to server: localhost/127.0.0.1:{NAMENODE.rsplit(':', 1)[1]}" in text

    assert_outputs_equal_the_oracle(spark, layout, fault_expected)
    # readers see whole files only: every visible slice is complete, each byte of the data once
    visible = [name for name in storage.list_names(layout.stream) if not name.startswith((".", "_"))]
    dropped = sum(len(storage.read_bytes(f"{layout.stream}/{name}")) for name in visible if name != BAD_FILE)
    assert dropped == (data_dir / settings.SENSOR_FILE).stat().st_size
    for name in settings.INPUT_FILES:
        folder = root if name == settings.SENSOR_FILE else layout.info
        assert storage.read_bytes(f"{folder}/{name}") == (data_dir / name).read_bytes()
    for query in ("alerts", "alerts_enriched"):  # the locks are free again
        folder = f"{layout.checkpoint(query)}/{LOCK_FOLDER}"
        assert [storage.read_bytes(f"{folder}/{name}") for name in storage.list_names(folder)] == [b'{"free": true}']
    storage.delete(root, recursive=True)
