"""include/airflow/notify.py for real: an incidents table written with deltalake from the oracle's incidents,
the project's SMTP server (devstack/mail_server.py) on a free port, Airflow's SMTP provider through the
connection from the environment. Each event mailed once, a rerun sends nothing, a server down fails the task
with one line and loses nothing."""

from __future__ import annotations

import html
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from include import settings
from include.airflow.notify import notify_incidents, notify_task
from include.schemas import INCIDENT
from include.settings import Layout
from tests.notify.scenario import incident_rows, readings
from testsupport.mailbox import expected_ids, outbox_ids, received

ARROW_TYPES = {
    "string": pa.string(),
    "double": pa.float64(),
    "long": pa.int64(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


@pytest.fixture
def root(tmp_path: Path) -> str:
    return (tmp_path / "storage").as_uri()


def write_incidents(root: str, rows: list[dict]) -> None:
    """The table as the incidents job leaves it after a run (each run's table replaces the last here)."""
    schema = pa.schema([(name, ARROW_TYPES[kind]) for name, kind in INCIDENT])
    write_deltalake(Layout(root).output("incidents"), pa.Table.from_pylist(rows, schema=schema), mode="overwrite")


def test_each_event_once_a_rerun_sends_nothing_a_new_resolution_its_one_message(mail, root, capsys):
    first = readings()
    write_incidents(root, incident_rows(first))
    counts = notify_incidents(root)
    assert counts == {"sent": 5, "opened": 3, "resolved": 2, "already_sent": 0, "open": 1}
    summary = "notify: 5 messages sent (3 opened, 2 resolved), 0 already sent earlier, 1 incident open"
    assert summary in capsys.readouterr().out.splitlines()

    kept = received(mail)
    assert [message["Message-ID"] for message in kept] == expected_ids(first)
    assert [message["Subject"] for message in kept] == [
        "[oil] P2: low pressure incident opened 2014-03-10 00:04",
        "[oil] P2: low pressure incident resolved 2014-03-10 00:05",
        "[oil] P1: low pressure incident opened 2014-03-10 00:10",
        "[oil] P1: low pressure incident resolved 2014-03-10 00:22",
        "[oil] P1: low pressure incident opened 2014-03-10 00:50",
    ]
    assert {message["To"] for message in kept} == {settings.INCIDENT_MAIL_TO}
    text = html.unescape(kept[2].get_body(preferencelist=("html",)).get_content())
    assert "Resolved:          2014-03-10 00:22 UTC" in text and "Vendor:            GENERAL" in text
    assert outbox_ids(root) == sorted(expected_ids(first))

    assert notify_incidents(root) == {"sent": 0, "opened": 0, "resolved": 0, "already_sent": 5, "open": 1}
    assert len(received(mail)) == 5

    later = readings(p1_recovers=True)  # the open incident resolves at 0:52
    write_incidents(root, incident_rows(later))
    assert notify_incidents(root) == {"sent": 1, "opened": 0, "resolved": 1, "already_sent": 5, "open": 0}
    kept = received(mail)
    assert [message["Message-ID"] for message in kept] == expected_ids(later)
    assert kept[-1]["Subject"] == "[oil] P1: low pressure incident resolved 2014-03-10 00:52"


def test_a_server_down_fails_with_one_line_and_the_next_run_sends_what_is_left(mail, root):
    first = readings()
    write_incidents(root, incident_rows(first))
    mail.down()
    with pytest.raises(ConnectionError) as failed:
        notify_incidents(root)
    line = str(failed.value).splitlines()[0]
    assert f"SMTP server {mail.host}:{mail.port}" in line and f"connection {settings.SMTP_CONN_ID}" in line
    assert "0 of 5 messages sent" in line
    assert outbox_ids(root) == []

    mail.up()
    assert notify_incidents(root)["sent"] == 5
    # Down again with one message due: the five sent stay sent, the new one goes out once the server is back.
    later = readings(p1_recovers=True)
    write_incidents(root, incident_rows(later))
    mail.down()
    with pytest.raises(ConnectionError, match="0 of 1 message sent"):
        notify_incidents(root)
    assert outbox_ids(root) == sorted(expected_ids(first))
    mail.up()
    assert notify_incidents(root)["sent"] == 1
    assert [message["Message-ID"] for message in received(mail)] == expected_ids(later)
    assert outbox_ids(root) == sorted(expected_ids(later))


def test_no_incidents_table_yet_nothing_to_send(root, capsys):
    assert notify_incidents(root) == {"sent": 0, "opened": 0, "resolved": 0, "already_sent": 0, "open": 0}
    assert "notify: no incidents table yet" in capsys.readouterr().out


def test_the_task_and_what_parsing_imports():
    from airflow.sdk import DAG

    with DAG("notify_check", schedule=None) as dag:
        notify_task()()
    assert dag.task_ids == ["notify"]
    # A DAG file that imports the task loads neither deltalake nor the SMTP hook.
    check = "import sys, include.airflow.notify; print(sorted(set(sys.argv[1:]) & set(sys.modules)))"
    heavy = ["deltalake", "pyarrow", "airflow.providers.smtp.hooks.smtp"]
    loaded = subprocess.run(
        [sys.executable, "-c", check, *heavy], cwd=settings.PROJECT_DIR, capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"


def test_without_a_smtp_connection_the_task_is_skipped_and_nothing_is_recorded(tmp_path, root, monkeypatch):
    from airflow.sdk.exceptions import AirflowSkipException

    monkeypatch.delenv(f"AIRFLOW_CONN_{settings.SMTP_CONN_ID.upper()}", raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))  # no connection in any metadata database
    first = readings()
    write_incidents(root, incident_rows(first))
    with pytest.raises(AirflowSkipException) as skipped:
        notify_incidents(root)
    assert str(skipped.value).startswith(f"notify: no Airflow connection {settings.SMTP_CONN_ID}: 5 messages not sent")
    assert outbox_ids(root) == []
