"""Shared fixtures: the input data, one Spark session for all tests, the whole pipeline run once; and
each test file's time at the end of the session."""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from pathlib import Path

import pytest

from include import settings
from include.replay.sample_data import generate

REAL_DATA_DIR = settings.PROJECT_DIR.parent / "shared" / "data" / "mapr"
ARTIFACTS = settings.VAR_DIR / "artifacts"
# `make test` runs two pytest-xdist workers; each lane runs in one worker, in file order. A lane keeps
# together the tests that share a server or stop one (the HDFS NameNode, which the fault tests stop, the
# Spark cluster, the Airflow stack); the other folders share the whole-data-set run of the session.
# Measured on 2 cores: this split (spark + airflow in one worker, servers in the other) balances the
# Spark-heavy and the waiting-heavy lanes; starting both heavy lanes at once was slower. The word-count
# DAG (its own Airflow home and line server) rides with the servers: the two workers then end together.
LANES = {
    "airflow": "airflow",
    **dict.fromkeys(("hdfs", "cluster", "reliability", "integration"), "servers"),
}


def on_ci() -> bool:
    return os.getenv("CI", "").lower() in ("true", "1", "yes")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real MapR data set where it is (CI, developers), else the generated sample. On CI it must be there."""
    if (REAL_DATA_DIR / settings.SENSOR_FILE).is_file():
        return REAL_DATA_DIR
    if on_ci():
        pytest.fail(f"CI=true but the real data set is missing: no {REAL_DATA_DIR / settings.SENSOR_FILE}")
    return generate(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for every unit test; the jobs' main() reuses it (getOrCreate)."""
    from include.spark.spark_runtime import local_session

    session = local_session("oil-tests")
    yield session
    session.stop()
    # py4j logs at INFO while the interpreter exits, after pytest closed the streams its handlers write
    # to ("--- Logging error ---"); its INFO lines are of no use here.
    logging.getLogger("py4j").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def local_pipeline(spark, tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict:
    """The whole data set through the jobs (on the session's Spark), on local storage, once per session:
    the outputs that the pump monitor's tests read. `make demo`'s own path (airflow dags test) is run by
    tests/cluster, the scheduler's by tests/airflow."""
    from tests.pipeline_run import run_in_process

    root = tmp_path_factory.mktemp("pipeline") / "storage"
    root.mkdir()
    return {"layout": run_in_process(root, data_dir), "root": root}


@pytest.fixture
def mail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A local SMTP server of the test's own (devstack/mail_server.py), and Airflow's smtp connection to it in
    the environment (README, "Local mail server")."""
    from devstack.mail_server import MailServer
    from tests.devstack.test_mail_server import free_port

    server = MailServer(tmp_path / "mail", free_port())
    monkeypatch.setenv(f"AIRFLOW_CONN_{settings.SMTP_CONN_ID.upper()}", server.airflow_connection())
    try:
        server.up()
        yield server
    finally:
        server.down()


def lane_of(nodeid: str) -> str:
    """tests/<folder>/...: the lane of the folder (`spark` for the folders not named in LANES)."""
    parts = nodeid.split("/")
    return LANES.get(parts[1] if len(parts) > 2 else "", "spark")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own choice of scheduler
def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's scope scheduling with the lanes as scopes: a lane's tests run in one worker, in order.
    (Its xdist_group marks do not group under pytest 9: xdist 3.8 sets a node id attribute pytest 9 no
    longer reads.)"""
    from xdist.scheduler import LoadScopeScheduling

    class LaneScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return lane_of(nodeid)

    return LaneScheduling(config, log)


def pytest_terminal_summary(terminalreporter) -> None:
    """Each test file's time (setup, call and teardown of its tests), slowest first; saved as JSON too."""
    per_file: dict[str, float] = defaultdict(float)
    for reports in terminalreporter.stats.values():
        for report in reports:
            if hasattr(report, "duration") and hasattr(report, "nodeid") and report.nodeid:
                per_file[report.nodeid.split("::", 1)[0]] += report.duration
    if not per_file:
        return
    ranked = sorted(per_file.items(), key=lambda item: -item[1])
    terminalreporter.section("time per test file")
    for path, seconds in ranked:
        terminalreporter.write_line(f"{seconds:8.1f} s  {path}")
    terminalreporter.write_line(f"{sum(per_file.values()):8.1f} s  in all")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "test_file_times.json").write_text(json.dumps(dict(ranked), indent=2) + "\n")
