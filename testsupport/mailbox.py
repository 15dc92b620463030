"""What the tests expect of the incident messages and read of what was sent: the oracle's events as
Message-IDs (plain Python over the readings, no pipeline code), the messages a local mail server kept, and
the outbox table (read with deltalake)."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from deltalake import DeltaTable

from testsupport.incidents import incidents, messages


def expected_ids(rows: list[dict]) -> list[str]:
    """The oracle's events as Message-IDs (<pump>.<opened, minute>.<event>@...): the oracle's order."""
    opened = {}
    found = incidents(rows)
    for incident in found:  # a resolved event's id names the incident's opening
        opened[(incident["resid"], incident["resolved_at"])] = incident["opened_at"]
    ids = []
    for resid, event, at in messages(found):
        start = at if event == "opened" else opened[(resid, at)]
        ids.append(f"<{resid}.{start:%Y-%m-%dT%H-%M}.{event}@oil-pump-pipeline>")
    return ids


def received(mail) -> list[EmailMessage]:
    """The messages a MailServer (devstack/mail_server.py) kept, in the order they arrived."""
    kept = []
    for path in mail.messages():
        with Path(path).open("rb") as handle:
            kept.append(email.message_from_binary_file(handle, policy=email.policy.default))
    return kept


def outbox_ids(root: str) -> list[str]:
    """The Message-IDs the outbox (<root>/output/notifications) holds, sorted."""
    path = f"{root.rstrip('/')}/output/notifications"
    if not DeltaTable.is_deltatable(path):
        return []
    return sorted(DeltaTable(path).to_pyarrow_table(columns=["message_id"]).column("message_id").to_pylist())
