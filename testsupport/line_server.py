"""A TCP server thread that serves known lines to the socket word count (tests only)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from scripts import socket_sender

TIMEOUT = 120  # seconds: the bound of every wait (generous: CI machines can be loaded)


@contextmanager
def line_server(bursts: list[list[str]], between: threading.Event | None = None) -> Iterator[int]:
    """A server thread on an ephemeral port, serving its first client: each burst of lines, waiting
    for `between` before the next; then it holds the connection until the block ends."""
    done = threading.Event()
    failures: list[BaseException] = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.5)  # so the wait for the client ends with the block, however long the client takes

    def serve() -> None:
        try:
            while not done.is_set():
                try:
                    conn, _ = server.accept()
                    break
                except TimeoutError:
                    continue
            else:
                return  # the block ended without a client: the test's own assertions say what went wrong
            conn.settimeout(TIMEOUT)
            with conn:
                for index, lines in enumerate(bursts):
                    if index:
                        assert between is not None and between.wait(TIMEOUT), "no micro-batch read the last burst"
                    socket_sender.send_lines(conn, lines)
                done.wait(TIMEOUT)
        except BaseException as error:  # reported by the test, not lost in the thread
            failures.append(error)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        done.set()
        thread.join(TIMEOUT)
        server.close()
    assert not failures, failures
