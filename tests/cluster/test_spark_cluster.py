"""devstack/spark_cluster.py (make spark-up/down/status) on its own: readiness, and a taken port named clearly."""

from __future__ import annotations

import os
import socket

from devstack import settings
from devstack.spark_cluster import Cluster
from tests.cluster.conftest import SparkCluster


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_status_reports_the_master_alive_with_every_worker(spark_cluster):
    result = spark_cluster.run("status")
    assert "master                  ALIVE" in result.stdout
    assert (
        f"ALIVE workers: {settings.SPARK_WORKERS}, cores: {settings.SPARK_WORKERS * settings.SPARK_WORKER_CORES}"
        in (result.stdout)
    )
    state = spark_cluster.state()
    assert state["url"] == settings.SPARK_MASTER_URL
    if "OIL_SPARK_MASTER_PORT" not in os.environ:
        assert settings.SPARK_MASTER_URL == "spark://127.0.0.1:7077"  # the documented default
    assert {w["memory"] for w in state["workers"] if w["state"] == "ALIVE"} == {1024}  # OIL_SPARK_WORKER_MEMORY=1g


def test_a_taken_port_is_named_and_nothing_starts(tmp_path):
    cluster = SparkCluster(tmp_path / "spark")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = cluster.run(
            "up",
            check=False,
            OIL_SPARK_MASTER_PORT=str(port),
            OIL_SPARK_MASTER_WEBUI_PORT=str(free_port()),
            OIL_SPARK_WORKERS="1",
        )
    assert result.returncode == 1
    assert f"127.0.0.1:{port} (Spark master) is in use by pid {os.getpid()}" in result.stderr
    assert "started" not in result.stdout
    assert Cluster(cluster.home).leftovers() == []
