"""The streaming DAG's notify task (issue 17): one mail per incident opened and per incident resolved, once.

Reads output/incidents and the outbox output/notifications (Delta, through ``deltalake``, local or hdfs://
as the pump monitor does), and sends every message of include/incident_mail.py whose Message-ID the outbox
does not hold yet, in order, through Airflow's SMTP provider (connection settings.SMTP_CONN_ID) to
settings.INCIDENT_MAIL_TO. deltalake and the provider are imported when the task runs, not when a DAG
file is parsed.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone

from airflow.sdk import task

from include import settings
from include.incident_mail import OPENED, RESOLVED, IncidentMessage, incident_messages
from include.settings import Layout
from include.wording import first_line, plural

OUTBOX_COLUMNS = ("message_id", "incident_id", "resid", "event", "event_at", "subject", "recipients", "sent_at")


def table_rows(uri: str, columns: list[str] | None = None) -> list[dict] | None:
    """The rows of the Delta table at uri; None when there is no table there yet."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        return DeltaTable(uri).to_pyarrow_table(columns=columns).to_pylist()
    except TableNotFoundError:
        return None
    except OSError as error:  # deltalake's error for storage it cannot reach (a NameNode down)
        raise ConnectionError(f"{uri}: {first_line(error)}") from error


def record_sent(outbox: str, message: IncidentMessage, recipients: str) -> None:
    """Appends one sent message to the outbox (a Delta commit of its own)."""
    import pyarrow as pa
    from deltalake import write_deltalake

    moment = pa.timestamp("us", tz="UTC")
    schema = pa.schema([(name, moment if name.endswith("_at") else pa.string()) for name in OUTBOX_COLUMNS])
    row = {
        "message_id": message.message_id,
        "incident_id": message.incident_id,
        "resid": message.resid,
        "event": message.event,
        "event_at": message.at.replace(tzinfo=timezone.utc),
        "subject": message.subject,
        "recipients": recipients,
        "sent_at": datetime.now(timezone.utc),
    }
    write_deltalake(outbox, pa.Table.from_pylist([row], schema=schema), mode="append")


def send(messages: list[IncidentMessage], outbox: str, conn_id: str, recipients: str) -> None:
    """Sends each message in order and records it; a server that cannot be reached fails with one line."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    hook = SmtpHook(smtp_conn_id=conn_id)
    sent = 0
    try:
        with hook:
            for message in messages:
                hook.send_email_smtp(
                    to=recipients,
                    subject=message.subject,
                    # The provider sends HTML only: the plain text as it is, in a <pre> block.
                    html_content=f"<pre>{html.escape(message.body)}</pre>",
                    custom_headers={"Message-ID": message.message_id},
                )
                # Recorded right after the server accepted it, not once at the end: a failure midway keeps
                # what went out, and the retry sends only the rest. A crash between the server's reply and
                # this write sends that one message again, with the same Message-ID, which receivers use to
                # recognise it as the same message.
                try:
                    record_sent(outbox, message, recipients)
                except OSError as error:  # the storage's failure, not the SMTP server's (below)
                    raise RuntimeError(
                        f"notify: {message.message_id} went out but the outbox {outbox} did not record it: "
                        f"{first_line(error)}; the retry sends it again, with the same Message-ID"
                    ) from error
                sent += 1
    except OSError as error:  # refused, timed out, disconnected (smtplib's errors are OSErrors)
        server = f"{hook.host}:{hook.port}" if hook.smtp_connection else "?"
        raise ConnectionError(
            f"notify: SMTP server {server} (Airflow connection {conn_id}) failed: {first_line(error)}; "
            f"{sent} of {plural(len(messages), 'message')} sent, the task's retry sends the rest"
        ) from error


def connection_defined(conn_id: str) -> bool:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return False
    return True


def notify_incidents(root: str) -> dict:
    """Sends the incident messages not sent yet; returns the counts it prints."""
    layout = Layout(root)
    incidents = table_rows(layout.output("incidents"))
    if incidents is None:
        print(f"notify: no incidents table yet ({layout.output('incidents')}): nothing to send")
        return {"sent": 0, OPENED: 0, RESOLVED: 0, "already_sent": 0, "open": 0}
    outbox = layout.output("notifications")
    already = {row["message_id"] for row in table_rows(outbox, ["message_id"]) or []}
    messages = incident_messages(incidents)
    pending = [message for message in messages if message.message_id not in already]
    if pending and not connection_defined(settings.SMTP_CONN_ID):
        from airflow.sdk.exceptions import AirflowSkipException

        # A pipeline without mail set up still runs; what is due goes out with the first run that has it.
        raise AirflowSkipException(
            f"notify: no Airflow connection {settings.SMTP_CONN_ID}: {plural(len(pending), 'message')} not sent"
            f" yet ({len(messages) - len(pending)} sent earlier). Define it (AIRFLOW_CONN_SMTP_DEFAULT, README"
            " 'Incident messages'; `make mail-up` runs a local server): the next run sends them"
        )
    if pending:
        send(pending, outbox, settings.SMTP_CONN_ID, settings.INCIDENT_MAIL_TO)
    counts = {
        "sent": len(pending),
        OPENED: sum(message.event == OPENED for message in pending),
        RESOLVED: sum(message.event == RESOLVED for message in pending),
        "already_sent": len(messages) - len(pending),
        "open": sum(incident["resolved_at"] is None for incident in incidents),
    }
    print(
        f"notify: {plural(counts['sent'], 'message')} sent ({counts[OPENED]} opened, {counts[RESOLVED]} resolved), "
        f"{counts['already_sent']} already sent earlier, {plural(counts['open'], 'incident')} open"
    )
    return counts


def notify_task():
    """The streaming DAG's task: `notify_task()()` after the incidents job."""

    @task(task_id="notify")
    def notify() -> dict:
        return notify_incidents(Layout().root)

    return notify
