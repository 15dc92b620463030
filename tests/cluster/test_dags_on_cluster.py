"""The DAGs, unchanged, on a Spark standalone cluster over a real HDFS: only the connection changes.

Through `airflow dags test` with AIRFLOW_CONN_SPARK_DEFAULT at spark://127.0.0.1:7077, the streaming
and daily-statistics DAGs give the oracle's outputs and the local run's, the master's /json/ lists
their applications as finished, and a worker killed with SIGKILL in the middle of a job changes nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections import Counter
from datetime import datetime

import pytest

from include import settings
from include.local_airflow import BIN_DIR
from scripts.airflow_stack import wait_for
from tests.cluster.conftest import CLUSTER_SPARK_CONN
from tests.hdfs.conftest import NAMENODE
from tests.pipeline_run import WHOLE_DATA_SET_MINUTES, assert_equal_to_the_oracle, outputs, run_demo
from testsupport import oracle


def pumps_per_day(data_dir) -> Counter:
    """ISO day -> rows of the oracle's daily statistics (one daily-stats application per day)."""
    stats = oracle.daily_stats(oracle.readings(data_dir / settings.SENSOR_FILE))
    return Counter(datetime.strptime(date, "%m/%d/%y").date().isoformat() for _, date in stats)


@pytest.fixture(scope="module")
def cluster_pipeline(spark_cluster, hdfs_server, webhdfs_connection, tmp_path_factory, data_dir) -> dict:
    from include.storage.webhdfs import WebHdfsStorage

    root = f"{NAMENODE}/tmp/oil-cluster-{uuid.uuid4().hex[:12]}"
    before = {app["id"] for app in spark_cluster.state()["completedapps"]}
    run = run_demo(
        tmp_path_factory.mktemp("cluster-pipeline"),
        data_dir,
        root,
        "--slice-minutes",
        WHOLE_DATA_SET_MINUTES,
        AIRFLOW_CONN_SPARK_DEFAULT=CLUSTER_SPARK_CONN,
    )
    apps = [app for app in spark_cluster.state()["completedapps"] if app["id"] not in before]
    yield {**run, "apps": apps}
    WebHdfsStorage().delete(root, recursive=True)


def test_outputs_on_the_cluster_equal_the_oracle_and_the_local_run(spark, cluster_pipeline, local_pipeline, data_dir):
    on_cluster = outputs(spark, cluster_pipeline["layout"])
    assert_equal_to_the_oracle(on_cluster, data_dir)
    assert on_cluster == outputs(spark, local_pipeline["layout"])


def test_the_master_lists_every_job_as_a_finished_application(cluster_pipeline, data_dir):
    apps = cluster_pipeline["apps"]
    # stage and drop run no Spark; one streaming run (alerts, enrichment); one daily-stats run a day
    assert Counter(app["name"] for app in apps) == {
        "oil-alerts": 1,
        "oil-enrich-alerts": 1,
        "oil-daily-stats": len(pumps_per_day(data_dir)),
    }
    assert {app["state"] for app in apps} == {"FINISHED"}
    executor_memory = settings.SPARK_CONF["spark.executor.memory"]  # e.g. 768m, from the settings
    assert {app["memoryperexecutor"] for app in apps} == {int(executor_memory.rstrip("m"))}


def running_on_a_worker(cluster) -> tuple[dict, dict] | None:
    """A daily-stats application RUNNING on the master, and a worker with one of its executors."""
    from scripts.hdfs import http_json

    state = cluster.state()
    for app in state["activeapps"]:
        if app["name"] == "oil-daily-stats" and app["state"] == "RUNNING":
            for worker in state["workers"]:
                if worker["state"] == "ALIVE":
                    executors = http_json(f"{worker['webuiaddress']}/json/")["executors"]
                    if any(executor["appid"] == app["id"] for executor in executors):
                        return app, worker
    return None


def test_a_worker_killed_during_a_job_changes_nothing(spark, spark_cluster, cluster_pipeline, data_dir, tmp_path):
    day, pumps = min(pumps_per_day(data_dir).items())
    log = tmp_path / "daily_stats.log"
    with log.open("w") as out:
        run = subprocess.Popen(
            [str(BIN_DIR / "airflow"), "dags", "test", "oil_daily_stats", day],
            env=cluster_pipeline["env"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        app, worker = wait_for(
            "a daily-stats application with an executor on a worker",
            lambda: running_on_a_worker(spark_cluster),
            300,
            0.2,
        )
        os.kill(spark_cluster.worker_pid(worker), signal.SIGKILL)
        assert run.wait(timeout=600) == 0, log.read_text()[-5000:]
    finally:
        if run.poll() is None:
            run.kill()
        restart = spark_cluster.run("up")  # idempotent: starts the killed worker again, nothing else
    assert restart.stdout.count("started the") == 1, restart.stdout
    state = spark_cluster.state()
    assert worker["id"] in {w["id"] for w in state["workers"] if w["state"] == "DEAD"}
    assert app["id"] in {a["id"] for a in state["completedapps"]}
    # Spark rescheduled onto the other worker, or the task failed clearly and its retry did the day
    assert f"daily_stats: {day}: {pumps} (pump, day) rows written" in log.read_text()
    assert_equal_to_the_oracle(outputs(spark, cluster_pipeline["layout"]), data_dir)
    assert spark_cluster.ready()
