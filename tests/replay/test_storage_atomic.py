"""Local storage's writes (include/storage/__init__.py) are whole or absent to a reader: a thread reads the
target over and over while large versions of it are written, through put_if_changed as the file drop does."""

from __future__ import annotations

import threading
import time

from include.storage import LocalStorage, hidden_name, put_if_changed

SIZE = 20 * 1024 * 1024
VERSIONS = [bytes([65 + n]) * (SIZE - n) + b"\n" * n for n in range(5)]  # other bytes and other lengths


def test_a_reader_sees_no_file_or_a_whole_version_and_no_temporary_name(tmp_path):
    """Every read is absent or exactly one written version; every name seen is the target or hidden; the
    reader sees the last version, and no temporary file is left."""
    target = tmp_path / "stream" / "sensor_20141001T0000_1440m.csv"
    storage = LocalStorage()
    seen: list[bytes | None] = []
    names: set[str] = set()
    stop = threading.Event()

    def read_until_stopped() -> None:
        while not stop.is_set():
            if target.parent.is_dir():
                names.update(path.name for path in target.parent.iterdir())
            try:
                data = target.read_bytes()
            except FileNotFoundError:
                data = None
            if not seen or data != seen[-1]:
                seen.append(data)

    reader = threading.Thread(target=read_until_stopped)
    reader.start()
    try:
        for data in VERSIONS:
            assert put_if_changed(storage, target.as_uri(), data)
        assert not put_if_changed(storage, target.as_uri(), VERSIONS[-1])  # the same bytes: not written again
        deadline = time.monotonic() + 30
        while seen[-1:] != [VERSIONS[-1]]:
            assert time.monotonic() < deadline, "the reader never saw the last version"
            time.sleep(0.01)
    finally:
        stop.set()
        reader.join(timeout=30)

    partial = [len(data) for data in seen if data is not None and data not in VERSIONS]
    assert not partial, f"a reader saw part of a file: {partial} bytes"
    first = next(n for n, data in enumerate(seen) if data is not None)
    assert None not in seen[first:]  # once there, never gone, not even during a rename
    assert names <= {target.name, hidden_name(target.name)}
    assert all(name == target.name or name.startswith(".") for name in names)
    assert [path.name for path in target.parent.iterdir()] == [target.name]
    assert target.read_bytes() == VERSIONS[-1]
