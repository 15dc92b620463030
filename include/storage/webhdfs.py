"""The storage seam on HDFS: the ``Storage`` operations of include/storage/ through WebHDFS.

Goes through the apache-hdfs provider's ``WebHDFSHook`` (Airflow connection ``webhdfs_default``:
conn_type webhdfs, host, port 9870, login = HDFS user; from the environment,
``AIRFLOW_CONN_WEBHDFS_DEFAULT``) and, for what the hook does not offer, the HdfsCLI client that
``hook.get_conn()`` returns. URIs are the storage root's: ``hdfs://localhost:8020/sparkdata/oil/x.csv``
(Spark's address, NameNode RPC) names the HDFS path ``/sparkdata/oil/x.csv``, which is reached
through the connection's WebHDFS address. Airflow is imported on first use only, so importing this
module costs nothing to a Spark job.
"""

from __future__ import annotations

import contextlib
import posixpath
from typing import Any
from urllib.parse import urlparse

from include.storage import hidden_name

# Server answers that mean "HDFS is there but cannot serve now" rather than "your request is wrong".
_UNAVAILABLE_REMOTE = {"SafeModeException", "RetriableException", "StandbyException"}


class HdfsUnavailableError(ConnectionError):
    """HDFS could not be reached (or is not serving) at the connection's WebHDFS address."""


def hdfs_path(uri: str) -> str:
    """The HDFS path of ``hdfs://host:port/a/b``, ``webhdfs://...`` or ``/a/b``: ``/a/b``."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("", "hdfs", "webhdfs"):
        raise ValueError(f"{uri}: not an HDFS URI (hdfs://host:port/path or /path)")
    if not parsed.scheme and not uri.startswith("/"):
        raise ValueError(f"{uri}: an HDFS path must be absolute")
    return posixpath.normpath("/" + parsed.path.lstrip("/"))


class WebHdfsStorage:
    """A storage root on HDFS, through WebHDFS (``Storage`` protocol of include/storage/)."""

    def __init__(self, webhdfs_conn_id: str = "webhdfs_default") -> None:
        self.conn_id = webhdfs_conn_id
        self._hook: Any = None
        self._client: Any = None

    # --- connection ------------------------------------------------------------------------------

    @property
    def hook(self) -> Any:
        if self._hook is None:
            from airflow.providers.apache.hdfs.hooks.webhdfs import WebHDFSHook

            self._hook = WebHDFSHook(webhdfs_conn_id=self.conn_id)
        return self._hook

    @property
    def address(self) -> str:
        """``host:port`` of WebHDFS, from the connection (for messages)."""
        connection = self.hook.get_connection(self.conn_id)
        return f"{connection.host}:{connection.port}"

    def _conn(self, operation: str, path: str) -> Any:
        """The HdfsCLI client of ``hook.get_conn()``; made once, made again after a failure."""
        if self._client is None:
            import requests
            from airflow.providers.apache.hdfs.hooks.webhdfs import AirflowWebHDFSHookException

            try:
                self._client = self.hook.get_conn()
            except (AirflowWebHDFSHookException, requests.exceptions.RequestException) as error:
                # The hook says only "Failed to locate the valid server.": add what and where.
                raise self._unavailable(operation, path, error) from error
        return self._client

    def _unavailable(self, operation: str, path: str, cause: BaseException) -> HdfsUnavailableError:
        self._client = None  # the next call asks the hook again (HDFS may be back by then)
        return HdfsUnavailableError(
            f"HDFS {operation} {path}: HDFS is not reachable through WebHDFS at {self.address} "
            f"(Airflow connection {self.conn_id!r}): {str(cause).rstrip('.')}. Is HDFS running (make hdfs-up)?"
        )

    def _call(self, operation: str, path: str, action):
        """Run ``action(client)``; unreachable or not-serving HDFS becomes HdfsUnavailableError."""
        import requests
        from hdfs.util import HdfsError

        client = self._conn(operation, path)
        try:
            return action(client)
        except requests.exceptions.RequestException as error:  # refused, reset, timed out
            raise self._unavailable(operation, path, error) from error
        except HdfsError as error:
            if getattr(error, "exception", None) in _UNAVAILABLE_REMOTE:
                raise self._unavailable(operation, path, error) from error
            if getattr(error, "exception", None) == "FileNotFoundException":
                raise FileNotFoundError(f"HDFS {operation} {path}: {error}") from error
            raise

    # --- Storage ---------------------------------------------------------------------------------

    def exists(self, uri: str) -> bool:
        path = hdfs_path(uri)
        return self._call("status", path, lambda c: c.status(path, strict=False)) is not None

    def read_bytes(self, uri: str) -> bytes:
        path = hdfs_path(uri)

        def read(client) -> bytes:
            with client.read(path) as reader:
                return reader.read()

        return self._call("read", path, read)

    def version(self, uri: str) -> tuple:
        """What changes when the file is written again (a rename brings a new file id and time)."""
        path = hdfs_path(uri)

        def version(client) -> tuple:
            status = client.status(path)
            return (status["fileId"], status["modificationTime"], status["length"])

        return self._call("status", path, version)

    def makedirs(self, uri: str) -> None:
        path = hdfs_path(uri)
        self._call("makedirs", path, lambda c: c.makedirs(path))

    def list_names(self, uri: str) -> list[str]:
        """Sorted names in a folder; [] when it is missing or a file (as LocalStorage)."""
        path = hdfs_path(uri)

        def names(client) -> list[str]:
            status = client.status(path, strict=False)
            if status is None or status["type"] != "DIRECTORY":
                return []
            return sorted(client.list(path))

        return self._call("list", path, names)

    def write_atomic(self, uri: str, data: bytes) -> None:
        """Write under a hidden name in the same folder, then rename it over the destination.

        The rename is WebHDFS ``RENAME`` with ``renameoptions=OVERWRITE``, which is the NameNode's
        ``rename2(src, dst, OVERWRITE)``: one metadata operation that replaces an existing file
        atomically. So a reader sees the old file whole or the new file whole, never a partial
        file and never a moment without one (a plain HDFS rename refuses an existing destination;
        delete-then-rename would leave a window with no file). The hidden name starts with "." so
        Spark's file source skips it while it is being written or if a writer died half-way.
        """
        path = hdfs_path(uri)
        folder, name = posixpath.split(path)
        tmp = posixpath.join(folder, hidden_name(name))

        def write(client) -> None:
            client.makedirs(folder)
            client.write(tmp, data=data, overwrite=True)  # WebHDFS CREATE: whole file, closed on return
            try:
                # HdfsCLI's own request helper for RENAME (client.rename cannot pass rename options).
                client._rename(tmp, destination=path, renameoptions="OVERWRITE")
            except Exception:
                with contextlib.suppress(Exception):  # best effort: a leftover hidden file is ignored anyway
                    client.delete(tmp)
                raise

        self._call("write", path, write)

    def delete(self, uri: str, recursive: bool = False) -> bool:
        """Remove a file (or a folder with recursive=True); False when nothing was there."""
        path = hdfs_path(uri)
        return bool(self._call("delete", path, lambda c: c.delete(path, recursive=recursive)))
