"""One writer per checkpoint: an exclusive lock in the checkpoint folder, taken by the job itself.

Why in the job: Airflow's ``max_active_runs=1`` holds only under one scheduler; ``airflow dags test``,
a second Airflow or a spark-submit by hand would not see it. Two runs on one checkpoint can both plan
batch N and corrupt it, so each streaming job takes this lock before it starts its queries and
releases it when they stop. A second run waits for it (up to ``wait_seconds``), then is refused with
an error naming the holder; under Airflow the task then fails and is retried.

How: ``<checkpoint>/_lock/`` holds numbered generations. Taking the lock is creating the next number
with no-overwrite, which one process only can do: ``O_CREAT|O_EXCL`` locally, the NameNode's
``create(overwrite=false)`` on HDFS (through Spark's Hadoop client, so any ``hdfs://`` or ``file://``
checkpoint works). A newer number exists only after the older was released (a ``free`` generation) or
its holder died, and the highest number is never deleted, so no one can take a lock that someone
else took meanwhile. Stale rule: a holder is dead only if it ran on this host and its process
(pid and start time) is gone, e.g. after a SIGKILL; a holder on another host is taken as alive (we
cannot tell); if it is dead, delete ``<checkpoint>/_lock`` by hand.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from include.settings import local_path, uri_scheme

LOCK_FOLDER = "_lock"
# A lock file with no owner yet is being written; past this age its writer died half-way.
UNREADABLE_GRACE_SECONDS = 60
POLL_SECONDS = 1.0


class CheckpointBusyError(RuntimeError):
    """Another run holds the checkpoint's lock."""


class LockFolder(Protocol):
    def names(self) -> list[str]: ...
    def create(self, name: str, text: str) -> bool: ...
    def read(self, name: str) -> str | None: ...
    def age_seconds(self, name: str) -> float: ...
    def delete(self, name: str) -> None: ...


class LocalLockFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def names(self) -> list[str]:
        return [p.name for p in self.folder.iterdir()]

    def create(self, name: str, text: str) -> bool:
        try:
            fd = os.open(self.folder / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        return True

    def read(self, name: str) -> str | None:
        try:
            return (self.folder / name).read_text()
        except FileNotFoundError:
            return None

    def age_seconds(self, name: str) -> float:
        return time.time() - (self.folder / name).stat().st_mtime

    def delete(self, name: str) -> None:
        (self.folder / name).unlink(missing_ok=True)


class HadoopLockFolder:
    """The same on any Hadoop file system, through the Spark session's JVM (HDFS: atomic on the NameNode)."""

    def __init__(self, spark: Any, folder: str) -> None:
        self.jvm = spark._jvm
        self.folder = self.jvm.org.apache.hadoop.fs.Path(folder)
        self.fs = self.folder.getFileSystem(spark._jsc.hadoopConfiguration())
        self.fs.mkdirs(self.folder)

    def _path(self, name: str) -> Any:
        return self.jvm.org.apache.hadoop.fs.Path(self.folder, name)

    def names(self) -> list[str]:
        return [status.getPath().getName() for status in self.fs.listStatus(self.folder)]

    def create(self, name: str, text: str) -> bool:
        from py4j.protocol import Py4JJavaError

        try:
            stream = self.fs.create(self._path(name), False)
        except Py4JJavaError as error:
            if error.java_exception.getClass().getSimpleName() == "FileAlreadyExistsException":
                return False
            raise
        stream.write(bytearray(text.encode()))
        stream.close()
        return True

    def read(self, name: str) -> str | None:
        from py4j.protocol import Py4JJavaError

        try:
            stream = self.fs.open(self._path(name))
        except Py4JJavaError as error:
            if error.java_exception.getClass().getSimpleName() == "FileNotFoundException":
                return None
            raise
        try:
            return bytes(self.jvm.org.apache.commons.io.IOUtils.toByteArray(stream)).decode()
        finally:
            stream.close()

    def age_seconds(self, name: str) -> float:
        return time.time() - self.fs.getFileStatus(self._path(name)).getModificationTime() / 1000

    def delete(self, name: str) -> None:
        self.fs.delete(self._path(name), False)


def lock_folder(spark: Any, checkpoint: str) -> LockFolder:
    if uri_scheme(checkpoint) == "file":
        return LocalLockFolder(local_path(checkpoint) / LOCK_FOLDER)
    return HadoopLockFolder(spark, f"{checkpoint.rstrip('/')}/{LOCK_FOLDER}")


def process_start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc), None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22; the name before ")" may hold spaces


def this_process() -> dict:
    """Who holds the lock: this process, and the Airflow run it belongs to (if any), for messages."""
    pid = os.getpid()
    run = os.getenv("AIRFLOW_CTX_DAG_RUN_ID", "not an Airflow run")
    return {"host": socket.gethostname(), "pid": pid, "started": process_start_time(pid), "run": run}


def holder_is_gone(owner: dict) -> bool:
    if owner.get("free"):
        return True
    if owner.get("host") != socket.gethostname():
        return False  # another machine's process: we cannot tell, so it holds
    return process_start_time(owner["pid"]) != owner.get("started")  # no such process, or a new one with its pid


def _owner(text: str) -> dict | None:
    try:
        return json.loads(text)
    except ValueError:  # empty or cut short
        return None


def generations(folder: LockFolder) -> list[int]:
    return sorted(int(name) for name in folder.names() if name.isdigit())


def try_acquire(folder: LockFolder, me: dict) -> tuple[int | None, dict | None]:
    """(our generation, None) when we took the lock, else (None, the holder)."""
    older = generations(folder)
    top = older[-1] if older else 0
    if top:
        text = folder.read(f"{top:012d}")
        if text is None:  # released or taken over since we listed
            return None, {"changing": f"{top:012d}"}
        holder = _owner(text)
        if holder is None:  # being written, or its writer died half-way
            if folder.age_seconds(f"{top:012d}") < UNREADABLE_GRACE_SECONDS:
                return None, {"being written": f"{top:012d}"}
        elif not holder_is_gone(holder):
            return None, holder
    mine = top + 1
    if not folder.create(f"{mine:012d}", json.dumps(me)):
        return None, {"taken by another run": f"{mine:012d}"}
    if generations(folder)[-1] != mine:
        folder.delete(f"{mine:012d}")  # an old number re-made after it was cleaned up: not the lock
        return None, {"a newer generation appeared": "retrying"}
    for old in older:  # ours, now the highest, stays: it is what makes old numbers unusable
        folder.delete(f"{old:012d}")
    return mine, None


def release(folder: LockFolder, generation: int) -> None:
    """Mark the lock free with the next number (never by deleting the highest one)."""
    folder.create(f"{generation + 1:012d}", json.dumps({"free": True}))
    folder.delete(f"{generation:012d}")


@contextmanager
def checkpoint_lock(spark: Any, checkpoint: str, wait_seconds: float) -> Iterator[int]:
    """Hold the checkpoint's lock for the with-block; wait up to wait_seconds for it, then refuse."""
    folder = lock_folder(spark, checkpoint)
    me = this_process()
    deadline = time.monotonic() + wait_seconds
    waited = False
    while True:
        generation, holder = try_acquire(folder, me)
        if generation is not None:
            break
        if time.monotonic() >= deadline:
            raise CheckpointBusyError(
                f"checkpoint {checkpoint} is in use by another run ({holder}); waited {wait_seconds:.0f} s. "
                f"Two runs must not share a checkpoint. If that run is dead, delete {checkpoint}/{LOCK_FOLDER}."
            )
        if not waited:
            print(f"checkpoint {checkpoint} is in use ({holder}): waiting up to {wait_seconds:.0f} s", flush=True)
            waited = True
        time.sleep(POLL_SECONDS)
    print(f"checkpoint lock {checkpoint}/{LOCK_FOLDER}/{generation:012d} taken", flush=True)
    try:
        yield generation
    finally:
        release(folder, generation)
