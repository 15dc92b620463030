"""WebHdfsStorage on a real HDFS: the storage seam's operations, atomic writes, Spark reading them."""

from __future__ import annotations

import threading

import pytest

from include import settings
from include.storage import hidden_name
from include.storage.webhdfs import HdfsUnavailableError, WebHdfsStorage, hdfs_path
from tests.hdfs.conftest import WEBHDFS_ADDRESS


@pytest.fixture
def storage(webhdfs_connection) -> WebHdfsStorage:
    return WebHdfsStorage()


def test_uris_map_to_their_path():
    assert hdfs_path("hdfs://localhost:8020/sparkdata/oil/info/x.csv") == "/sparkdata/oil/info/x.csv"
    assert hdfs_path("hdfs://localhost:8020") == "/"
    assert hdfs_path("/sparkdata/oil/") == "/sparkdata/oil"
    with pytest.raises(ValueError, match="not an HDFS URI"):
        hdfs_path("file:///tmp/x")


def test_write_read_list_round_trip(storage, hdfs_dir, data_dir):
    sensors = (data_dir / settings.SENSOR_FILE).read_bytes()
    vendors = (data_dir / settings.VENDOR_FILE).read_bytes()
    assert not storage.exists(f"{hdfs_dir}/{settings.SENSOR_FILE}")
    assert storage.list_names(hdfs_dir) == []  # a missing folder lists as empty, as locally

    storage.write_atomic(f"{hdfs_dir}/{settings.SENSOR_FILE}", sensors)
    storage.write_atomic(f"{hdfs_dir}/info/{settings.VENDOR_FILE}", vendors)  # makes the folder

    assert storage.exists(f"{hdfs_dir}/{settings.SENSOR_FILE}")
    assert storage.read_bytes(f"{hdfs_dir}/{settings.SENSOR_FILE}") == sensors
    assert storage.read_bytes(f"{hdfs_dir}/info/{settings.VENDOR_FILE}") == vendors
    assert storage.list_names(hdfs_dir) == ["info", settings.SENSOR_FILE]  # no hidden leftovers
    assert storage.list_names(f"{hdfs_dir}/info") == [settings.VENDOR_FILE]
    assert storage.list_names(f"{hdfs_dir}/{settings.SENSOR_FILE}") == []  # a file is no folder

    storage.write_atomic(f"{hdfs_dir}/{settings.SENSOR_FILE}", b"replaced\n")  # over an existing file
    assert storage.read_bytes(f"{hdfs_dir}/{settings.SENSOR_FILE}") == b"replaced\n"
    assert storage.list_names(hdfs_dir) == ["info", settings.SENSOR_FILE]


def test_makedirs_is_idempotent_and_missing_files_raise_file_not_found(storage, hdfs_dir):
    storage.makedirs(f"{hdfs_dir}/a/b")
    storage.makedirs(f"{hdfs_dir}/a/b")
    assert storage.list_names(f"{hdfs_dir}/a") == ["b"]
    with pytest.raises(FileNotFoundError, match="not found"):
        storage.read_bytes(f"{hdfs_dir}/a/missing.csv")


def test_the_final_name_only_ever_shows_whole_files(storage, hdfs_dir):
    """Rewrites of a big file while another client reads it: every read is one whole version, and
    once the file exists it never disappears (the rename replaces it in one step)."""
    uri = f"{hdfs_dir}/stream/sensor_0.csv"
    versions = [bytes([ord("a") + i]) * (8 * 1024 * 1024) for i in range(4)]  # 8 MB each
    storage.write_atomic(uri, versions[0])
    done = threading.Event()
    seen: list[bytes | str] = []

    def read_while_written() -> None:
        reader = WebHdfsStorage()
        while not done.is_set() and len(seen) < 1000:  # bounded
            try:
                seen.append(reader.read_bytes(uri))
            except FileNotFoundError:
                seen.append("missing")
            seen.extend(n for n in reader.list_names(f"{hdfs_dir}/stream") if n != "sensor_0.csv")

    thread = threading.Thread(target=read_while_written)
    thread.start()
    try:
        for data in versions[1:]:
            storage.write_atomic(uri, data)
    finally:
        done.set()
        thread.join(timeout=120)
    assert not thread.is_alive()

    reads = [s for s in seen if isinstance(s, bytes)]
    others = [s for s in seen if not isinstance(s, bytes)]
    assert reads, "the reader read nothing"
    assert all(read in versions for read in reads), "a read saw a partial or mixed file"
    assert set(others) <= {hidden_name("sensor_0.csv")}, f"unexpected names or a missing file: {set(others)}"
    assert storage.read_bytes(uri) == versions[-1]
    assert storage.list_names(f"{hdfs_dir}/stream") == ["sensor_0.csv"]


def test_spark_reads_what_was_written_and_skips_in_progress_files(storage, hdfs_dir, data_dir, spark):
    sensors = (data_dir / settings.SENSOR_FILE).read_bytes()
    expected = sum(1 for line in sensors.decode().splitlines() if line.strip())
    storage.write_atomic(f"{hdfs_dir}/stream/{settings.SENSOR_FILE}", sensors)
    # What a writer that died half-way leaves behind: a hidden in-progress file.
    storage.write_atomic(f"{hdfs_dir}/stream/{hidden_name('sensor_1.csv')}", b"9,9,9\n" * 10)

    rows = spark.read.csv(f"{hdfs_dir}/stream").count()  # hdfs://localhost:8020/..., read by Spark's HDFS client

    assert rows == expected
    assert spark.read.csv(f"{hdfs_dir}/stream/{settings.SENSOR_FILE}").count() == expected


def test_with_the_namenode_stopped_errors_name_hdfs_and_the_address(storage, hdfs_server, hdfs_dir):
    storage.write_atomic(f"{hdfs_dir}/before/a.csv", b"1\n")  # a client from before the stop; the DataNode too
    try:
        hdfs_server.run("down", "namenode")
        for attempt in (storage, WebHdfsStorage()):  # a client made before the stop, and a new one
            with pytest.raises(HdfsUnavailableError) as raised:
                attempt.makedirs(f"{hdfs_dir}/after")
            message = str(raised.value)
            assert "HDFS" in message and WEBHDFS_ADDRESS in message, message
            assert "makedirs" in message and "/after" in message, message
    finally:
        hdfs_server.up()
    # HDFS is back: the same storage object works again, data writes too (through the DataNode,
    # whose connection to the old NameNode is dead: see dfs.client.retry.policy in devstack/hdfs.py).
    storage.makedirs(f"{hdfs_dir}/after")
    storage.write_atomic(f"{hdfs_dir}/after/b.csv", b"2\n")
    assert storage.read_bytes(f"{hdfs_dir}/after/b.csv") == b"2\n"
    assert storage.read_bytes(f"{hdfs_dir}/before/a.csv") == b"1\n"
    assert storage.list_names(hdfs_dir) == ["after", "before"]
