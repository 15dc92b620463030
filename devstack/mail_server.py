"""A local SMTP server for development: it accepts every message on the loopback address and keeps it as a file.

    python -m devstack.mail_server up      # make mail-up: start it (idempotent), wait until it answers SMTP
    python -m devstack.mail_server down    # make mail-down: stop it; nothing is left running
    python -m devstack.mail_server ls      # make mail-ls: the kept messages, one line each, and a count

It relays nothing: every message to whoever is kept whole in OIL_MAIL_HOME (default var/mail), one
<arrival time>-<sequence>.eml file each, so the names sort by arrival. The server is aiosmtpd, on
127.0.0.1:OIL_MAIL_PORT (default 8025), without TLS or login: Airflow's SMTP connection must disable
both (README, "Local mail server"). Its pid file and log are under run/ and logs/ of OIL_MAIL_HOME.
`up`, `down` and `ls` need only Python's standard library; the daemon (`serve`) needs aiosmtpd.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import itertools
import json
import os
import signal
import smtplib
import sys
from datetime import UTC, datetime
from pathlib import Path

from devstack import settings
from devstack.process import Daemon, Supervisor, main_of


class MailServer(Supervisor):
    """One SMTP server (its folder and port): a single daemon, up/down."""

    tag = "mail"
    what = "the SMTP server"
    host = settings.MAIL_HOST
    port_hint = "Stop that process or choose another port (OIL_MAIL_PORT)."
    start_timeout = 60.0  # seconds; about 1 s

    def __init__(self, home: Path = settings.MAIL_HOME, port: int = settings.MAIL_PORT) -> None:
        super().__init__(home)
        self.port = port

    def daemons(self) -> list[Daemon]:
        command = [sys.executable, "-m", "devstack.mail_server", "serve", "--port", str(self.port)]
        command += ["--folder", str(self.home)]
        # The folder on the command line finds this server's process, and not another folder's.
        markers = ("devstack.mail_server", "serve", str(self.home))
        # Run from the checkout: `-m devstack.mail_server` is found there, whatever the caller's folder.
        return [Daemon("smtp", command, {self.port: "SMTP"}, markers, "SMTP server", cwd=settings.PROJECT_DIR)]

    def where(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def probe(self) -> bool:
        """The server answers an SMTP NOOP: a listening socket alone may not be aiosmtpd's yet."""
        with smtplib.SMTP(self.host, self.port, timeout=5) as client:
            return client.noop()[0] == 250

    def summary(self, state: object = None) -> str:
        return f"{self.where()}, messages kept in {self.home} (make mail-ls)"

    def airflow_connection(self) -> str:
        """Airflow's SMTP connection to this server, as AIRFLOW_CONN_SMTP_DEFAULT takes it (README): no TLS or login."""
        extra = {"disable_tls": True, "disable_ssl": True, "from_email": "airflow@localhost", "timeout": 10}
        return json.dumps({"conn_type": "smtp", "host": self.host, "port": self.port, "extra": extra})

    def messages(self) -> list[Path]:
        return sorted(self.home.glob("*.eml"))


# --- the daemon ------------------------------------------------------------------------------------


class KeepEachMessage:
    """aiosmtpd handler: each message to a file of its own, written under a hidden name, then renamed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sequence = itertools.count(1)  # two messages within the same microsecond keep their order

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        arrived = datetime.now(UTC)
        name = f"{arrived:%Y%m%dT%H%M%S%fZ}-{next(self.sequence):06d}.eml"
        # What a mailbox adds (like Return-Path and Delivered-To): the envelope, which Bcc recipients are only in.
        envelope_headers = (
            f"X-Envelope-From: <{envelope.mail_from}>\r\nX-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        )
        partial = self.folder / f".{name}.partial"
        with open(partial, "wb") as out:
            out.write(envelope_headers.encode() + envelope.original_content)
            out.flush()
            os.fsync(out.fileno())
        # mail-ls and readers see a message whole or not at all.
        os.replace(partial, self.folder / name)
        print(f"{arrived:%Y-%m-%d %H:%M:%S} kept {name}: from {envelope.mail_from} to {envelope.rcpt_tos}", flush=True)
        return "250 Message accepted for delivery"


def serve(port: int, folder: Path) -> int:
    from aiosmtpd.controller import Controller  # the daemon's only: up, down and ls run without it

    folder.mkdir(parents=True, exist_ok=True)
    # Only the main thread takes SIGTERM (down) and SIGINT: the server's thread inherits the blocked mask.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    controller = Controller(
        KeepEachMessage(folder), hostname=settings.MAIL_HOST, port=port, enable_SMTPUTF8=True, ready_timeout=30
    )
    controller.start()
    print(f"SMTP server on {settings.MAIL_HOST}:{port}, keeping messages in {folder}", flush=True)
    received = signal.sigwait(stop_signals)
    controller.stop()
    print(f"stopped by {signal.Signals(received).name}", flush=True)
    return 0


# --- commands --------------------------------------------------------------------------------------


def message_line(path: Path) -> str:
    with open(path, "rb") as handle:
        message = email.message_from_binary_file(handle, policy=email.policy.default)
    arrived = datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M:%S")
    fields = [f"{name}: {message.get(name, '')}" for name in ("From", "To", "Subject", "Message-ID")]
    return "  ".join([arrived, *fields])


def cmd_ls(server: MailServer) -> int:
    messages = server.messages()
    for path in messages:
        print(message_line(path))
    print(f"{len(messages)} message{'' if len(messages) == 1 else 's'} in {server.home}")
    return 0


COMMANDS = {
    "up": "start the server (idempotent) and wait until it answers",
    "down": "stop the server; waits until its process has exited",
    "ls": "the kept messages: time, From, To, Subject, Message-ID, and a count",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, summary in COMMANDS.items():
        commands.add_parser(name, help=summary)
    daemon = commands.add_parser("serve", help="run the server in the foreground (what `up` starts)")
    daemon.add_argument("--port", type=int, default=settings.MAIL_PORT)
    daemon.add_argument("--folder", type=Path, default=settings.MAIL_HOME)
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args.port, args.folder.resolve())
    server = MailServer()

    def run() -> int:
        if args.command == "ls":
            return cmd_ls(server)
        if args.command == "down" and not server.down():
            server.say(f"nothing was running ({server.home})")
        if args.command == "up":
            server.up()
        return 0

    return main_of("mail", run)


if __name__ == "__main__":
    sys.exit(main())
