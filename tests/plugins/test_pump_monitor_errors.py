"""The pump monitor's routes (plugins/pump_monitor.py) answer 503 when the storage cannot be reached: the
route functions themselves (no Airflow login in the way) on a real MonitorData whose root is a closed port."""

from __future__ import annotations

import getpass
import json
import socket

import pytest
from fastapi import HTTPException

from include import settings
from plugins import pump_monitor


def closed_port() -> int:
    """A local port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def down(monkeypatch) -> dict:
    """The plugin's monitor() reads an HDFS root at closed ports: NameNode RPC (the Delta tables) and WebHDFS
    (the landing files' listing)."""
    namenode, webhdfs = f"localhost:{closed_port()}", closed_port()
    conn = {"conn_type": "webhdfs", "host": "localhost", "port": webhdfs, "login": getpass.getuser()}
    monkeypatch.setenv("AIRFLOW_CONN_WEBHDFS_DEFAULT", json.dumps(conn))
    monkeypatch.setattr(settings, "MONITOR_ROOT", f"hdfs://{namenode}/sparkdata/oil")
    pump_monitor.monitor.cache_clear()
    yield {"namenode": namenode, "webhdfs": f"localhost:{webhdfs}"}
    pump_monitor.monitor.cache_clear()


def unavailable(call) -> str:
    """call()'s HTTPException: a 503 with a one-line detail; the detail."""
    with pytest.raises(HTTPException) as refused:
        call()
    assert refused.value.status_code == 503, refused.value.detail
    assert "\n" not in refused.value.detail
    return refused.value.detail


def test_landing_files_on_unreachable_webhdfs_are_a_503_naming_its_address(down):
    """The freshness listing goes through WebHDFS: unreachable, it is a 503 that names its host:port."""
    detail = unavailable(lambda: pump_monitor.answer(pump_monitor.monitor().newest_landed_reading))
    assert detail.startswith("storage not reachable: ")
    assert f"not reachable through WebHDFS at {down['webhdfs']}" in detail


@pytest.mark.parametrize("route", ["incidents", "alerts", "pumps", "status", "daily"])
def test_every_route_on_an_unreachable_namenode_is_a_503_naming_the_storage(down, route):
    """Each route's answer with the Delta tables' NameNode down: 503, one line, the root's host:port in it."""
    call = {
        "incidents": lambda: pump_monitor.incidents(limit=50),
        "alerts": lambda: pump_monitor.alerts(limit=20, resid=None, events=3),
        "pumps": pump_monitor.pumps,
        "status": pump_monitor.status,
        "daily": lambda: pump_monitor.daily("NANTAHALLA"),
    }[route]
    detail = unavailable(call)
    assert down["namenode"] in detail


def test_the_outputs_being_missing_is_no_error(tmp_path, monkeypatch):
    """The contrast: a reachable root without outputs answers (with hints), no 503."""
    monkeypatch.setattr(settings, "MONITOR_ROOT", tmp_path.as_uri())
    pump_monitor.monitor.cache_clear()
    try:
        assert pump_monitor.alerts(limit=20, resid=None, events=3)["total"] == 0
        assert "run oil_stage" in pump_monitor.status()["hint"]
        assert "run oil_stage" in pump_monitor.incidents(limit=50)["hint"]
    finally:
        pump_monitor.monitor.cache_clear()
