"""`make demo`'s path (scripts/demo.py: every DAG through `airflow dags test`), unchanged, on a Spark
standalone cluster over a real HDFS, in the lecture's /sparkdata/oil: only the connection and the root
change. The outputs equal the oracle, the files land where the lecture puts them, the pump monitor reads
them through WebHDFS, the master's /json/ lists the applications as finished, and a worker killed with
SIGKILL in the middle of a job changes nothing. The daily statistics of STAT_DAYS days prove the job on the
cluster (one application a day, as the other days): the in-process run and tests/airflow do every day.
Before it, in the same Airflow home, make demo ran on local storage: a second root in one home.

One run for all of it (the longest fixture of the suite): the in-process run of tests/conftest.py covers
the jobs on local storage, tests/airflow the scheduler's path.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from datetime import datetime, timezone

import pytest

from devstack.airflow_stack import wait_for
from devstack.local_airflow import BIN_DIR, INCUBATOR_WARNING
from include import settings
from tests.cluster.conftest import CLUSTER_SPARK_CONN
from tests.hdfs.conftest import NAMENODE
from tests.pipeline_run import WHOLE_DATA_SET_MINUTES, assert_equal_to_the_oracle, outputs, run_demo
from tests.plugins.monitor_checks import check_alerts, check_daily, check_runs, expected_of
from testsupport import oracle

LECTURE_ROOT = f"{NAMENODE}/sparkdata/oil"
STAT_DAYS = 2  # make demo --days: the first two days' statistics


def listing(path: str) -> dict[str, tuple[str, int]]:
    """name -> (type, length) of a folder, through WebHDFS (the lecture's `hadoop fs -ls`)."""
    from airflow.providers.apache.hdfs.hooks.webhdfs import WebHDFSHook

    entries = WebHDFSHook().get_conn().list(path, status=True)
    return {name: (status["type"], status["length"]) for name, status in entries}


def pumps_per_day(data_dir) -> Counter:
    """ISO day -> rows of the oracle's daily statistics, for the STAT_DAYS days the demo computes."""
    stats = oracle.daily_stats(oracle.readings(data_dir / settings.SENSOR_FILE))
    every_day = Counter(datetime.strptime(date, "%m/%d/%y").date().isoformat() for _, date in stats)
    return Counter({day: every_day[day] for day in sorted(every_day)[:STAT_DAYS]})


@pytest.fixture(scope="module")
def cluster_pipeline(spark_cluster, hdfs_server, webhdfs_connection, tmp_path_factory, data_dir) -> dict:
    from include.storage.webhdfs import WebHdfsStorage

    WebHdfsStorage().delete(LECTURE_ROOT, recursive=True)  # a clean /sparkdata/oil for this run
    base = tmp_path_factory.mktemp("cluster-pipeline")
    # First make demo on local storage in the same Airflow home, as a user who then moves to HDFS does (the
    # Assets of the first root once made the second's runs fail): the whole data set as one slice, no
    # daily statistics, local Spark.
    local = run_demo(
        base, data_dir, (base / "local-storage").as_uri(), "--slice-minutes", WHOLE_DATA_SET_MINUTES, "--days", "0"
    )
    before = {app["id"] for app in spark_cluster.state()["completedapps"]}
    run = run_demo(
        base,
        data_dir,
        LECTURE_ROOT,
        "--slice-minutes",
        WHOLE_DATA_SET_MINUTES,
        "--days",
        str(STAT_DAYS),
        AIRFLOW_CONN_SPARK_DEFAULT=CLUSTER_SPARK_CONN,
    )
    apps = [app for app in spark_cluster.state()["completedapps"] if app["id"] not in before]
    return {**run, "apps": apps, "local": local}


def test_outputs_on_the_cluster_equal_the_oracle(spark, cluster_pipeline, data_dir):
    got = outputs(spark, cluster_pipeline["layout"])
    assert_equal_to_the_oracle(got, data_dir, STAT_DAYS)
    # the lecture-like report at the end of make demo
    readings = oracle.readings(data_dir / settings.SENSOR_FILE)
    assert f"alerts: {len(oracle.alerts(readings))} rows" in cluster_pipeline["stdout"]
    assert f"daily_stats: {sum(pumps_per_day(data_dir).values())} rows" in cluster_pipeline["stdout"]
    # and its summary: the oracle's counts (one drop, so one streaming run), without the JVM's noise
    tables = ("readings", "alerts", "alerts_enriched", "incidents", "quarantine")
    rows = ", ".join(f"{name} {len(got[name])}" for name in tables)
    assert f"rows    {rows}, daily_stats {len(got['daily_stats'])}, runs 1" in cluster_pipeline["stdout"]
    assert INCUBATOR_WARNING not in cluster_pipeline["stdout"]


def test_make_demo_on_two_storage_roots_in_one_airflow_home(spark, cluster_pipeline, data_dir):
    """make demo on local storage, then on HDFS, in one Airflow home: both equal the oracle (the HDFS run's
    outputs are checked above)."""
    local = cluster_pipeline["local"]
    assert local["env"]["AIRFLOW_HOME"] == cluster_pipeline["env"]["AIRFLOW_HOME"]
    assert local["layout"].root != cluster_pipeline["layout"].root
    assert_equal_to_the_oracle(outputs(spark, local["layout"]), data_dir, stat_days=0)


def test_the_master_lists_every_job_as_a_finished_application(cluster_pipeline, data_dir):
    apps = cluster_pipeline["apps"]
    # stage and drop run no Spark; one streaming run (alerts, enrichment, incidents); one daily-stats run a day
    assert Counter(app["name"] for app in apps) == {
        "oil-alerts": 1,
        "oil-enrich-alerts": 1,
        "oil-incidents": 1,
        "oil-daily-stats": len(pumps_per_day(data_dir)),
    }
    assert {app["state"] for app in apps} == {"FINISHED"}
    executor_memory = settings.SPARK_CONF["spark.executor.memory"]  # e.g. 768m, from the settings
    assert {app["memoryperexecutor"] for app in apps} == {int(executor_memory.rstrip("m"))}


def test_files_land_where_the_lecture_puts_them(cluster_pipeline, data_dir):
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


def test_pump_monitor_reads_the_outputs_on_hdfs(cluster_pipeline, data_dir):
    """The pump monitor's data through WebHDFS equals the oracle (as tests/plugins checks it on the local
    run): the alerts with their pump's details, the pumps and their days (statistics of STAT_DAYS days), the
    runs, the landed files."""
    from include.monitor.pump_monitor import MonitorData

    on_hdfs, expected = MonitorData(LECTURE_ROOT), expected_of(data_dir)
    check_alerts(on_hdfs, expected, data_dir, limit=100)
    stat_days = {datetime.fromisoformat(day).strftime("%-m/%-d/%y") for day in pumps_per_day(data_dir)}
    check_daily(on_hdfs, expected, stat_days)
    check_runs(on_hdfs, expected, datetime.now(timezone.utc))


def running_on_a_worker(cluster) -> tuple[dict, dict] | None:
    """A daily-stats application RUNNING on the master, and a worker with one of its executors."""
    from devstack.process import http_json

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
    assert_equal_to_the_oracle(outputs(spark, cluster_pipeline["layout"]), data_dir, STAT_DAYS)
    assert spark_cluster.ready()
