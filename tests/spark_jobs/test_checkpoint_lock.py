"""The checkpoint lock's stale rule (include/spark/checkpoint_lock.py) on a local checkpoint: a holder on
another host is never taken over, even with a pid that is dead here; the same holder on this host is."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from include.spark.checkpoint_lock import LOCK_FOLDER, CheckpointBusyError, checkpoint_lock, process_start_time

WAIT_SECONDS = 1.5


@pytest.fixture
def dead_process() -> dict:
    """pid and start time of a process of this host that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    started = process_start_time(process.pid)
    process.communicate(timeout=30)
    assert started and process_start_time(process.pid) is None
    return {"pid": process.pid, "started": started}


def plant(checkpoint, holder: dict):
    """A lock taken by `holder`, written as checkpoint_lock writes it: generation 1, its record as JSON."""
    folder = checkpoint / LOCK_FOLDER
    folder.mkdir(parents=True)
    planted = folder / f"{1:012d}"
    planted.write_text(json.dumps(holder))
    return planted


def test_a_holder_on_another_host_is_never_taken_over_one_on_this_host_is(tmp_path, dead_process, capsys):
    """Another host's holder, though its pid is dead here: wait, then refused naming it, its file untouched.
    The same record with this host's name: taken over at once."""
    run = "scheduled__2026-11-26T12:00:00+00:00"
    elsewhere = {"host": f"not-{socket.gethostname()}", **dead_process, "run": run}
    checkpoint = tmp_path / "elsewhere"
    planted = plant(checkpoint, elsewhere)
    before = (planted.read_bytes(), planted.stat().st_mtime_ns)

    started = time.monotonic()
    with pytest.raises(CheckpointBusyError) as refused, checkpoint_lock(None, str(checkpoint), WAIT_SECONDS):
        pytest.fail("took a lock held on another host")
    assert time.monotonic() - started >= WAIT_SECONDS  # it waited first
    assert "is in use" in capsys.readouterr().out
    message = str(refused.value)
    assert f"in use by another run ({elsewhere})" in message
    assert f"delete {checkpoint}/{LOCK_FOLDER}" in message
    assert [p.name for p in (checkpoint / LOCK_FOLDER).iterdir()] == [planted.name]
    assert (planted.read_bytes(), planted.stat().st_mtime_ns) == before

    here = {**elsewhere, "host": socket.gethostname()}
    checkpoint = tmp_path / "here"
    planted = plant(checkpoint, here)
    started = time.monotonic()
    with checkpoint_lock(None, str(checkpoint), WAIT_SECONDS) as generation:
        assert generation == 2
        assert time.monotonic() - started < WAIT_SECONDS  # no wait: the holder is gone
        assert not planted.exists()
        assert json.loads((checkpoint / LOCK_FOLDER / f"{2:012d}").read_text())["pid"] != dead_process["pid"]
    assert [p.read_text() for p in (checkpoint / LOCK_FOLDER).iterdir()] == ['{"free": true}']
