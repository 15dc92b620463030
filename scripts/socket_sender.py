"""Serve lines on a TCP port, like `nc -lk 9999`, for spark_jobs/word_count.py.

With files, every client that connects gets their lines, one client after another, until Ctrl-C.
Without (or with -), the lines typed on stdin go to the first client as they are typed.

    python scripts/socket_sender.py [--port 9999] [--interval 0.5] [FILE ...]
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from collections.abc import Iterable


def send_lines(conn: socket.socket, lines: Iterable[str], interval: float = 0.0) -> int:
    """Send each line, newline-terminated, waiting INTERVAL seconds after each; the count sent."""
    sent = 0
    for line in lines:
        conn.sendall(line.rstrip("\r\n").encode() + b"\n")
        sent += 1
        if interval:
            time.sleep(interval)
    return sent


def file_lines(names: list[str]) -> Iterable[str]:
    for name in names:
        with open(name) as handle:
            yield from handle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", help="files of lines to send (default: stdin)")
    parser.add_argument("--host", default="localhost", help="address to listen on")
    parser.add_argument("--port", type=int, default=9999, help="TCP port to listen on")
    parser.add_argument("--interval", type=float, default=0.0, help="seconds between lines")
    args = parser.parse_args(argv)
    from_stdin = args.files in ([], ["-"])
    with socket.create_server((args.host, args.port)) as server:
        print(f"listening on {args.host}:{args.port}", file=sys.stderr)
        while True:
            conn, peer = server.accept()
            with conn:
                try:
                    count = send_lines(conn, sys.stdin if from_stdin else file_lines(args.files), args.interval)
                    print(f"sent {count} lines to {peer[0]}:{peer[1]}", file=sys.stderr)
                except (BrokenPipeError, ConnectionResetError):
                    print(f"{peer[0]}:{peer[1]} went away", file=sys.stderr)
            if from_stdin:
                return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
