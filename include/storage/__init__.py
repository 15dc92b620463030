"""The storage seam: the few file operations the Python tasks need, for any storage root.

Spark reads and writes the root's URIs itself (``file://`` or ``hdfs://``); Airflow tasks
(staging, file drops) go through ``storage_for(root)``. Switching storage is a change of
``OIL_STORAGE_ROOT`` (and, for HDFS, of the WebHDFS connection), never of DAG or job code.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Protocol

from include.settings import local_path, uri_scheme


class Storage(Protocol):
    def exists(self, uri: str) -> bool: ...
    def read_bytes(self, uri: str) -> bytes: ...
    def version(self, uri: str) -> tuple: ...
    def makedirs(self, uri: str) -> None: ...
    def list_names(self, uri: str) -> list[str]: ...
    def write_atomic(self, uri: str, data: bytes) -> None: ...


def hidden_name(name: str) -> str:
    """Temporary name that Spark's file source ignores (it skips names starting with . or _)."""
    return f".{name}.inprogress"


class LocalStorage:
    """A storage root on the local file system (``file:///...`` or a plain path)."""

    @staticmethod
    def _path(uri: str) -> Path:
        return local_path(uri)

    def exists(self, uri: str) -> bool:
        return self._path(uri).exists()

    def read_bytes(self, uri: str) -> bytes:
        return self._path(uri).read_bytes()

    def version(self, uri: str) -> tuple:
        """What changes when the file is written again (a rename brings a new inode and mtime)."""
        stat = self._path(uri).stat()
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def makedirs(self, uri: str) -> None:
        self._path(uri).mkdir(parents=True, exist_ok=True)

    def list_names(self, uri: str) -> list[str]:
        path = self._path(uri)
        return sorted(p.name for p in path.iterdir()) if path.is_dir() else []

    def write_atomic(self, uri: str, data: bytes) -> None:
        """Write under a hidden name, then rename, so readers see the whole file or nothing."""
        path = self._path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(hidden_name(path.name))
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)


def storage_for(root: str) -> Storage:
    scheme = uri_scheme(root)
    if scheme == "file":
        return LocalStorage()
    if scheme == "hdfs":
        from include.storage.webhdfs import WebHdfsStorage  # imports Airflow's WebHDFS hook on use only

        return WebHdfsStorage()
    raise ValueError(f"OIL_STORAGE_ROOT={root}: storage scheme {scheme!r} is not supported (local, file://, hdfs://)")


def same_content(storage: Storage, uri: str, data: bytes) -> bool:
    return storage.exists(uri) and hashlib.sha256(storage.read_bytes(uri)).digest() == hashlib.sha256(data).digest()


def put_if_changed(storage: Storage, uri: str, data: bytes) -> bool:
    """Write data at uri unless it is already there, equal; True when something was written."""
    if same_content(storage, uri, data):
        return False
    storage.write_atomic(uri, data)
    return True
