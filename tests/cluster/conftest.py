"""A real Spark standalone cluster (devstack/spark_cluster.py) for the tests of this folder, started once.

Reuses a cluster that `make spark-up` started (OIL_SPARK_CLUSTER_HOME, default var/spark) and leaves
it running; otherwise starts one in a temporary home and stops it at the end of the session. The
HDFS fixtures are tests/hdfs's (a running HDFS is reused, never stopped).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack import settings
from devstack.process import listener_pids
from devstack.spark_cluster import Cluster, master_state
from tests.hdfs.conftest import hdfs_server, webhdfs_connection  # noqa: F401 (fixtures)

# What README's "Running on a cluster" tells users to set: host and port composed by the provider.
CLUSTER_SPARK_CONN = json.dumps(
    {"conn_type": "spark", "host": f"spark://{settings.SPARK_MASTER_HOST}", "port": settings.SPARK_MASTER_PORT}
)


@dataclass
class SparkCluster:
    """devstack/spark_cluster.py for one OIL_SPARK_CLUSTER_HOME."""

    home: Path

    def run(self, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
        environment = {
            **os.environ,
            "PYTHONPATH": str(settings.PROJECT_DIR),
            "OIL_SPARK_CLUSTER_HOME": str(self.home),
            **env,
        }
        result = subprocess.run(
            [sys.executable, "-m", "devstack.spark_cluster", *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"devstack.spark_cluster {' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
            )
        return result

    def ready(self) -> bool:
        return self.run("status", check=False).returncode == 0

    @staticmethod
    def worker_pid(worker: dict) -> int:
        """The pid of a worker of the master's /json/: the process listening on its web UI port."""
        pids = listener_pids(int(worker["webuiaddress"].rsplit(":", 1)[1]))
        assert len(pids) == 1, f"no single process serves {worker['webuiaddress']}: {pids}"
        return pids[0]

    @staticmethod
    def state() -> dict:
        state = master_state()
        assert state is not None, f"the Spark master's /json/ at port {settings.SPARK_MASTER_WEBUI_PORT} is unreachable"
        return state


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> SparkCluster:
    default = SparkCluster(settings.SPARK_CLUSTER_HOME)
    if default.ready():
        yield default  # make spark-up's cluster: use it, leave it running
        return
    own = SparkCluster(tmp_path_factory.mktemp("spark-cluster"))
    own.run("up")
    try:
        yield own
    finally:
        own.run("down", check=False)
        # down leaves nothing: no daemon, no executor of this cluster
        assert Cluster(own.home).leftovers() == [], "devstack.spark_cluster down left processes running"
