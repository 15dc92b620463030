"""devstack/mail_server.py for real: the SMTP server through the supervisor on a free port and a tmp folder,
messages from smtplib and from Airflow's SmtpHook, make mail-ls, an idempotent up, a down that leaves nothing."""

from __future__ import annotations

import email
import email.policy
import json
import os
import smtplib
import socket
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from devstack import process, settings
from devstack.mail_server import MailServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((settings.MAIL_HOST, 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path):
    """A running server of its own; stopped at the end, whatever the test did."""
    mail = MailServer(tmp_path / "mail", free_port())
    try:
        mail.up()
        yield mail
    finally:
        mail.down()


def run_cli(mail: MailServer, *command: str) -> subprocess.CompletedProcess:
    """A command line as the person runs it, with the server's folder and port from the environment."""
    env = {
        **os.environ,
        "OIL_MAIL_HOME": str(mail.home),
        "OIL_MAIL_PORT": str(mail.port),
        "PYTHONPATH": str(settings.PROJECT_DIR),
    }
    return subprocess.run(
        command, env=env, cwd=settings.PROJECT_DIR, capture_output=True, text=True, timeout=120, check=True
    )


def message(sender: str, to: str, subject: str, body: str, number: int) -> EmailMessage:
    sent = EmailMessage()
    sent["From"], sent["To"], sent["Subject"] = sender, to, subject
    sent["Message-ID"] = f"<test-{number}@oil.example>"
    sent.set_content(body)
    return sent


def kept(path: Path) -> EmailMessage:
    with open(path, "rb") as handle:
        return email.message_from_binary_file(handle, policy=email.policy.default)


def send_through_airflow(mail: MailServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection README gives (on the test's port), through the SMTP provider's hook."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    connection = {
        "conn_type": "smtp",
        "host": mail.host,
        "port": mail.port,
        "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "airflow@localhost"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(connection))
    with SmtpHook() as hook:
        hook.send_email_smtp(
            to="oncall@oil.example",
            subject="pump 7: low pressure",
            html_content="<p>psi 0.3 &lt; 0.5</p>",
            custom_headers={"Message-ID": "<airflow-1@oil.example>"},
        )


def test_the_server_keeps_each_message_whole_and_lists_them(server: MailServer, monkeypatch):
    sent = [
        message("alerts@oil.example", "ops@oil.example", "first", "pump 1 is fine\n", 1),
        message("alerts@oil.example", "ops@oil.example, dev@oil.example", "zweite: Öl", "Druck: 0,4 psi\n", 2),
    ]
    with smtplib.SMTP(server.host, server.port, timeout=30) as client:
        for each in sent:
            client.send_message(each)
    send_through_airflow(server, monkeypatch)

    # The server answered 250 after the file was renamed into place: all three are there now.
    files = server.messages()
    assert len(files) == 3
    assert not list(server.home.glob(".*.partial"))
    for each, path in zip(sent, files, strict=False):  # sorted by name = by arrival
        received = kept(path)
        for name, value in each.items():
            assert received[name] == value, name
        assert received.get_content() == each.get_content()
        assert received["X-Envelope-From"] == "<alerts@oil.example>"
    assert kept(files[1])["X-Envelope-To"] == "ops@oil.example, dev@oil.example"

    from_airflow = kept(files[2])
    assert from_airflow["From"] == "airflow@localhost"
    assert from_airflow["To"] == "oncall@oil.example"
    assert from_airflow["Subject"] == "pump 7: low pressure"
    html = from_airflow.get_body(preferencelist=("html",))
    assert html is not None and html.get_content() == "<p>psi 0.3 &lt; 0.5</p>"

    listing = run_cli(server, "make", "--no-print-directory", "mail-ls").stdout.splitlines()
    assert listing[-1] == f"3 messages in {server.home}"
    expected = [
        ("From: alerts@oil.example", "To: ops@oil.example", "Subject: first", "Message-ID: <test-1@oil.example>"),
        ("To: ops@oil.example, dev@oil.example", "Subject: zweite: Öl", "<test-2@oil.example>"),
        ("From: airflow@localhost", "To: oncall@oil.example", "Subject: pump 7: low pressure", "<airflow-1@oil"),
    ]
    assert len(listing) == 4
    for line, parts in zip(listing, expected, strict=False):
        assert all(part in line for part in parts), line


def test_up_is_idempotent_and_down_leaves_no_process(server: MailServer):
    (daemon,) = server.daemons()
    pid = server.running_pid(daemon)
    assert pid and process.alive(pid)

    again = run_cli(server, sys.executable, "-m", "devstack.mail_server", "up").stdout
    assert f"already running (SMTP server pid {pid})" in again
    assert server.running_pid(daemon) == pid

    # A second server on the same port is refused, naming the process that holds it.
    other = MailServer(server.home.parent / "other", server.port)
    with pytest.raises(process.DevstackError, match=f"in use by pid {pid}"):
        other.up()

    stopped = run_cli(server, sys.executable, "-m", "devstack.mail_server", "down").stdout
    assert f"stopped the SMTP server (pid {pid})" in stopped
    assert not process.alive(pid)
    assert not process.find(*daemon.markers)
    assert not process.port_in_use(server.port)
    assert not server.pid_file(daemon).exists()
