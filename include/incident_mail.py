"""The messages the incidents table calls for (issue 17): one when an incident opens, one when it resolves.

Pure: rows of output/incidents (dicts, columns of include/schemas.INCIDENT) in, messages out, no I/O.
include/airflow/notify.py sends them and records each in the outbox. A message's Message-ID is made from
the incident and the event only, so the same event always gets the same id, whichever run sends it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

MESSAGE_ID_DOMAIN = "oil-pump-pipeline"
OPENED, RESOLVED = "opened", "resolved"


@dataclass(frozen=True)
class IncidentMessage:
    message_id: str
    incident_id: str
    resid: str
    event: str  # OPENED or RESOLVED
    at: datetime  # the event's time (UTC, naive): opened_at or resolved_at
    subject: str
    body: str


def utc(moment: datetime | None) -> datetime | None:
    """A table's timestamp as naive UTC: deltalake gives them with the zone, Python's rows may have none."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def minute(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def duration(span: timedelta) -> str:
    """ "1 d 21 h 54 min", "17 min"."""
    days, rest = divmod(int(span.total_seconds()) // 60, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if days or hours else "", f"{minutes} min"]
    return " ".join(part for part in parts if part)


def message_id(resid: str, opened_at: datetime, event: str) -> str:
    """<NANTAHALLA.2014-03-13T02-05.opened@oil-pump-pipeline>: only characters a Message-ID's left part allows."""
    pump = re.sub(r"[^A-Za-z0-9_-]", "_", resid)
    return f"<{pump}.{opened_at:%Y-%m-%dT%H-%M}.{event}@{MESSAGE_ID_DOMAIN}>"


def body(incident: dict, event: str) -> str:
    """The incident as it stands now (the subject says which event the message is for)."""
    opened, resolved, newest = (utc(incident[name]) for name in ("opened_at", "resolved_at", "last_reading_at"))
    if resolved is not None:
        state = f"{minute(resolved)} UTC"
        how_long = duration(resolved - opened)
    else:
        state = "still open" + (f" (newest reading {minute(newest)} UTC)" if newest else "")
        how_long = f"{duration(newest - opened)} so far" if newest else "unknown"
    if incident.get("maintenance_date"):
        maintenance = f"{incident['maintenance_date']}, {incident['technician']}: {incident['maintenance']}"
    else:
        maintenance = "none recorded"
    lines = [
        f"Pump {incident['resid']}: low pressure incident {event}.",
        "",
        f"Incident:          {incident['incident_id']}",
        f"Opened:            {minute(opened)} UTC",
        f"Resolved:          {state}",
        f"Duration:          {how_long}",
        f"Low readings:      {incident['low_readings']:,}",
        f"Minimum psi:       {incident['min_psi']}",
        f"Pump type:         {incident.get('pumpType') or 'unknown'}",
        f"Vendor:            {incident.get('vendor') or 'unknown'}",
        f"Last maintenance:  {maintenance}",
    ]
    return "\n".join(lines) + "\n"


def incident_messages(incidents: list[dict]) -> list[IncidentMessage]:
    """One "opened" message per incident, one "resolved" per resolved incident, by (event time, pump, event)."""
    found = []
    for incident in incidents:
        opened_at = utc(incident["opened_at"])
        events = [(OPENED, opened_at), (RESOLVED, utc(incident["resolved_at"]))]
        for event, at in events:
            if at is None:
                continue
            resid = incident["resid"]
            subject = f"[oil] {resid}: low pressure incident {event} {minute(at)}"
            found.append(
                IncidentMessage(
                    message_id(resid, opened_at, event),
                    incident["incident_id"],
                    resid,
                    event,
                    at,
                    subject,
                    body(incident, event),
                )
            )
    return sorted(found, key=lambda message: (message.at, message.resid, message.event))
