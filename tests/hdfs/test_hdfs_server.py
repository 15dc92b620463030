"""devstack/hdfs.py: a real NameNode and DataNode, started, looked at, stopped."""

from __future__ import annotations

import json
import re
import socket
import urllib.request

from devstack import settings
from tests.hdfs.conftest import NAMENODE, WEBHDFS_ADDRESS

RPC, HTTP = settings.NAMENODE_RPC_PORT, settings.NAMENODE_HTTP_PORT  # 8020 and 9870 + OIL_HDFS_PORT_OFFSET


def test_webhdfs_lists_the_root_of_the_running_hdfs(hdfs_server):
    with urllib.request.urlopen(f"http://{WEBHDFS_ADDRESS}/webhdfs/v1/?op=LISTSTATUS", timeout=10) as response:
        listing = json.load(response)
    assert "FileStatus" in listing["FileStatuses"]


def test_status_shows_both_daemons_and_one_live_datanode(hdfs_server):
    out = hdfs_server.run("status").stdout
    assert re.search(r"NameNode\s+running, pid \d+", out)
    assert re.search(r"DataNode\s+running, pid \d+", out)
    assert re.search(r"safe mode\s+off", out)
    assert re.search(r"live DataNodes\s+1 ", out)
    assert "the DataNode is registered" in out


def test_up_again_says_it_runs_and_succeeds(hdfs_server):
    pids = sorted(hdfs_server.pids())
    result = hdfs_server.up()
    assert "already running" in result.stdout
    assert sorted(hdfs_server.pids()) == pids  # nothing new was started


def test_up_refuses_ports_taken_by_another_process(hdfs_server, tmp_path):
    """A second HDFS (another home) finds the first one's ports taken: a clear error, nothing started."""
    other = tmp_path / "other-home"
    result = hdfs_server.run("up", check=False, home=other)
    assert result.returncode == 1
    assert f"localhost:{RPC} (NameNode RPC) is in use" in result.stderr
    assert f"localhost:{HTTP} (NameNode HTTP/WebHDFS) is in use" in result.stderr
    assert not (other / "name").exists()  # checked before formatting anything


def test_up_restarts_a_stopped_datanode_and_waits_for_it(hdfs_server, hdfs_dir):
    from include.storage.webhdfs import WebHdfsStorage

    try:
        hdfs_server.run("down", "datanode")
        status = hdfs_server.run("status", check=False)
        assert status.returncode == 3 and "no DataNode registered" in status.stdout
    finally:
        result = hdfs_server.up()
    assert "the NameNode is already running" in result.stdout
    WebHdfsStorage().write_atomic(f"{hdfs_dir}/after-restart.csv", b"1,2\n")  # data goes through the DataNode
    assert WebHdfsStorage().read_bytes(f"{hdfs_dir}/after-restart.csv") == b"1,2\n"


def test_ls_shows_names_and_sizes(hdfs_server, hdfs_dir):
    from include.storage.webhdfs import WebHdfsStorage

    storage = WebHdfsStorage()
    storage.write_atomic(f"{hdfs_dir}/info/sensorvendor.csv", b"x" * 1234)
    storage.write_atomic(f"{hdfs_dir}/sensordata.csv", b"y" * 56789)
    path = hdfs_dir.removeprefix(NAMENODE)

    lines = hdfs_server.run("ls", path).stdout.splitlines()

    assert lines[0] == "Found 2 items"
    rows = {line.split()[-1]: line.split() for line in lines[1:]}
    assert set(rows) == {f"{path}/info", f"{path}/sensordata.csv"}
    assert rows[f"{path}/sensordata.csv"][0] == "-rw-r--r--"
    assert rows[f"{path}/sensordata.csv"][4] == "56789"
    assert rows[f"{path}/info"][0].startswith("d")
    nested = hdfs_server.run("ls", f"{hdfs_dir}/info").stdout  # hdfs:// URIs work too
    assert re.search(rf"\s1234 .* {re.escape(path)}/info/sensorvendor.csv$", nested, re.MULTILINE)


def test_ls_of_a_missing_path_fails_clearly(hdfs_server, hdfs_dir):
    result = hdfs_server.run("ls", f"{hdfs_dir}/nowhere", check=False)
    assert result.returncode == 1
    assert "does not exist" in result.stderr


def test_down_leaves_no_process_and_up_brings_the_data_back(hdfs_server, hdfs_dir):
    from include.storage.webhdfs import WebHdfsStorage

    WebHdfsStorage().write_atomic(f"{hdfs_dir}/kept.csv", b"1,2,3\n")
    try:
        hdfs_server.run("down")
        assert hdfs_server.pids() == []
        ports = (RPC, HTTP, settings.DATANODE_DATA_PORT, settings.DATANODE_HTTP_PORT, settings.DATANODE_IPC_PORT)
        for port in ports:
            with socket.socket() as sock:
                assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"
        assert hdfs_server.run("status", check=False).returncode == 3
        assert "nothing was running" in hdfs_server.run("down").stdout
    finally:
        hdfs_server.up()
    assert WebHdfsStorage().read_bytes(f"{hdfs_dir}/kept.csv") == b"1,2,3\n"
