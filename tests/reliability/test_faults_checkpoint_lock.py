"""Two streaming runs never share a checkpoint: a second run waits for the first, or is refused.

Real processes contend for include/spark/checkpoint_lock.py's lock on a local checkpoint and on HDFS (our
own), and a real spark-submit of the alert job is refused while another process holds its checkpoint.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from devstack.local_airflow import BIN_DIR
from include import settings
from include.spark.checkpoint_lock import (
    LOCK_FOLDER,
    CheckpointBusyError,
    checkpoint_lock,
    lock_folder,
    process_start_time,
    this_process,
    try_acquire,
)
from tests.hdfs.conftest import NAMENODE
from tests.reliability.conftest import alive

# A run that takes the lock, then holds it until a line on stdin (or, with a log file, writes
# "in <pid>" and "out <pid>" to it around a short hold).
HOLDER = """
import os, sys, time
from include.spark.checkpoint_lock import checkpoint_lock
checkpoint, wait, log = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
with checkpoint_lock(None, checkpoint, wait):
    if log:
        with open(log[0], "a") as out:
            out.write(f"in {os.getpid()}\\n"); out.flush(); time.sleep(0.2); out.write(f"out {os.getpid()}\\n")
    else:
        print("holding", flush=True)
        sys.stdin.readline()
"""


def holder(checkpoint: Path, wait: float = 0, *log: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(settings.PROJECT_DIR)}
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(checkpoint), str(wait), *log],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def holding(process: subprocess.Popen) -> None:
    """Read the holder's output until it holds the lock (fails if it exits first)."""
    lines = []
    while (line := process.stdout.readline()) != "holding\n":
        assert line, f"the holder exited: {''.join(lines)}"
        lines.append(line)


def test_a_second_run_is_refused_or_waits_until_the_first_releases(tmp_path):
    checkpoint = tmp_path / "checkpoint"
    first = holder(checkpoint)
    holding(first)
    refused = rf"in use by another run .*'pid': {first.pid}\b"
    with pytest.raises(CheckpointBusyError, match=refused), checkpoint_lock(None, str(checkpoint), wait_seconds=0):
        pass
    second = holder(checkpoint, 120)
    assert "is in use" in second.stdout.readline()  # it waits...
    first.communicate("\n", timeout=60)  # ...until the first releases
    holding(second)
    second.communicate("\n", timeout=60)
    assert first.returncode == second.returncode == 0


def test_a_killed_holder_is_taken_over_and_racing_runs_never_hold_it_together(tmp_path):
    checkpoint = tmp_path / "checkpoint"
    killed = holder(checkpoint)
    holding(killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    log = tmp_path / "holds.log"
    racers = [holder(checkpoint, 120, str(log)) for _ in range(4)]  # all at once, over the stale lock
    for racer in racers:
        assert racer.wait(timeout=120) == 0, racer.stdout.read()
    lines = log.read_text().split("\n")[:-1]
    assert sorted(line.split()[1] for line in lines[::2]) == sorted(str(racer.pid) for racer in racers)
    for enter, leave in zip(lines[::2], lines[1::2], strict=True):  # one holder at a time
        assert enter.split() == ["in", enter.split()[1]] and leave == f"out {enter.split()[1]}"
    assert [p.read_text() for p in (checkpoint / LOCK_FOLDER).iterdir()] == ['{"free": true}']


def test_on_hdfs_a_spark_submit_is_refused_while_another_run_holds_its_checkpoint(spark, hdfs_server, tmp_path):
    root = f"{NAMENODE}/tmp/oil-lock-{uuid.uuid4().hex[:8]}"
    checkpoints = f"{root}/checkpoints"
    folder = lock_folder(spark, f"{checkpoints}/alerts")  # through Spark's HDFS client
    hadoop_path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path
    other_run = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        # a live process of this host holds it (as the alert job records itself)
        other = {**this_process(), "pid": other_run.pid, "started": process_start_time(other_run.pid)}
        assert try_acquire(folder, other)[0] == 1
        job = [str(settings.PROJECT_DIR / "spark_jobs" / "alerts.py")]
        job += ["--source", f"{root}/stream", "--output", f"{root}/output/alerts", "--quarantine"]
        job += [f"{root}/output/quarantine", "--checkpoints", checkpoints, "--lock-wait", "0"]
        folder.fs.mkdirs(hadoop_path(f"{root}/stream"))
        env = {**os.environ, "PYTHONPATH": str(settings.PROJECT_DIR), "SPARK_CONF_DIR": str(settings.SPARK_CONF_DIR)}
        result = subprocess.run(
            [str(BIN_DIR / "spark-submit"), "--master", "local[1]", "--conf", "spark.ui.enabled=false", *job],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        output = result.stdout + result.stderr  # spark-submit passes the driver's traceback to stdout
        assert result.returncode != 0
        assert f"CheckpointBusyError: checkpoint {checkpoints}/alerts is in use by another run" in output
        assert f"'pid': {other_run.pid}" in output
        # it touched nothing: no query started, no offsets planned
        assert sorted(folder.names()) == ["000000000001"]
        assert not folder.fs.exists(hadoop_path(f"{checkpoints}/alerts/offsets"))
        # once that run is dead, the next takes over
        other_run.kill()
        other_run.wait(timeout=30)
        assert not alive(other_run.pid)
        assert try_acquire(folder, this_process())[0] == 2
    finally:
        other_run.kill()
        folder.fs.delete(hadoop_path(root), True)
