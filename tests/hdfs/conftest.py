"""A real single-node HDFS for the tests of this folder, started once per test session.

Reuses an HDFS that already runs from OIL_HDFS_HOME (default var/hdfs; CI starts one with
`make hdfs-up`) and leaves it running. Otherwise starts one in a temporary OIL_HDFS_HOME (a new
file system; the jars in var/hadoop/lib are shared) and stops it at the end of the session.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack import process, settings
from devstack.local_airflow import DEFAULT_WEBHDFS_CONN

NAMENODE = settings.LOCAL_NAMENODE
WEBHDFS_ADDRESS = f"localhost:{settings.LOCAL_WEBHDFS_PORT}"


@dataclass
class HdfsServer:
    """devstack/hdfs.py for one OIL_HDFS_HOME."""

    home: Path

    def run(self, *args: str, check: bool = True, home: Path | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "OIL_HDFS_HOME": str(home or self.home)}
        result = subprocess.run(
            [sys.executable, "-m", "devstack.hdfs", *args],
            env=env,
            cwd=settings.PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and result.returncode != 0:
            pytest.fail(f"devstack.hdfs {' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
        return result

    def up(self) -> subprocess.CompletedProcess:
        return self.run("up")

    def ready(self) -> bool:
        return self.run("status", check=False).returncode == 0

    def pids(self) -> list[int]:
        """Processes of this home (its daemons carry -Doil.hdfs.home=<home> on their command line)."""
        return process.find(f"-Doil.hdfs.home={self.home}")


@pytest.fixture(scope="session")
def hdfs_server(tmp_path_factory: pytest.TempPathFactory) -> HdfsServer:
    default = HdfsServer(settings.HDFS_HOME)
    if default.ready():
        yield default  # someone else's HDFS: use it, leave it running
        return
    if default.pids():  # running but not ready (a daemon died?): bring it up, leave it running
        default.up()
        yield default
        return
    own = HdfsServer(tmp_path_factory.mktemp("hdfs-home"))
    own.up()
    try:
        yield own
    finally:
        own.run("down", check=False)


@pytest.fixture(scope="session")
def webhdfs_connection(hdfs_server: HdfsServer):
    """AIRFLOW_CONN_WEBHDFS_DEFAULT for the local HDFS (unless the environment names one)."""
    # WebHdfsStorage imports Airflow into this process, which attaches logging handlers to pytest's
    # captured streams; py4j (the Spark session's) logs at INFO while the interpreter exits, when
    # those streams are closed, and prints "--- Logging error ---" after pytest's summary. Its INFO
    # lines are of no use in tests: keep them quiet (for the rest of the session, on purpose).
    logging.getLogger("py4j").setLevel(logging.WARNING)
    with pytest.MonkeyPatch.context() as patch:
        if "AIRFLOW_CONN_WEBHDFS_DEFAULT" not in os.environ:
            patch.setenv("AIRFLOW_CONN_WEBHDFS_DEFAULT", DEFAULT_WEBHDFS_CONN)
        yield


@pytest.fixture
def hdfs_dir(hdfs_server: HdfsServer, webhdfs_connection) -> str:
    """A fresh folder on HDFS for one test (hdfs:// URI), removed afterwards."""
    from include.storage.webhdfs import WebHdfsStorage

    uri = f"{NAMENODE}/tmp/oil-tests/{uuid.uuid4().hex[:12]}"
    yield uri
    if hdfs_server.ready():
        WebHdfsStorage().delete(uri, recursive=True)
