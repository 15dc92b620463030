"""Readings of two pumps and the incidents table the oracle (testsupport/incidents.py) says they make, with
the columns the incidents job writes (include/schemas.INCIDENT)."""

from __future__ import annotations

from datetime import datetime, timezone

from include.schemas import INCIDENT_COLUMNS, incident_id
from tests.testsupport.test_incident_oracle import LOW, OK, minutes
from testsupport.incidents import incidents, reading_time

# Reference data of each pump; P2 has no maintenance on record.
PUMPS = {
    "P1": {
        "pumpType": "HYDROPUMP",
        "vendor": "GENERAL",
        "maintenance_date": "3/1/14",
        "technician": "T. Ramirez",
        "maintenance": "Replace seals",
    },
    "P2": {"pumpType": "HYDROPUMP", "vendor": "MOTION", "maintenance_date": None, "technician": None},
}
UPDATED_AT = datetime(2026, 12, 1, tzinfo=timezone.utc)


def readings(p1_recovers: bool = False) -> list[dict]:
    """P1 goes low at 0:10, flickers back for 8 minutes, is low at 0:21, recovers from 0:22 for longer than the
    clear window, goes low again at 0:50 and reads well from 0:52: for 18 minutes if p1_recovers (resolved),
    else for 8 (still open). P2 is low at 0:04 only (resolved at 0:05)."""
    p1 = [(0, 9, OK), (10, 12, LOW), (13, 20, OK), (21, 21, 0.25), (22, 49, OK), (50, 51, LOW)]
    p1.append((52, 70 if p1_recovers else 60, OK))
    return minutes(*p1, resid="P1") + minutes((0, 3, OK), (4, 4, 0.1), (5, 30, OK), resid="P2")


def as_utc(moment: datetime | None) -> datetime | None:
    """As deltalake reads a Delta timestamp back."""
    return moment and moment.replace(tzinfo=timezone.utc)


def incident_rows(rows: list[dict]) -> list[dict]:
    """The incidents table of these readings: the oracle's incidents, with the columns the job adds."""
    newest: dict[str, datetime] = {}
    for row in rows:
        newest[row["resid"]] = max(newest.get(row["resid"], datetime.min), reading_time(row["date"], row["time"]))
    table = []
    for found in incidents(rows):
        resid = found["resid"]
        row = dict.fromkeys(INCIDENT_COLUMNS) | found | PUMPS.get(resid, {})
        row |= {
            "incident_id": incident_id(resid, found["opened_at"]),
            "opened_at": as_utc(found["opened_at"]),
            "resolved_at": as_utc(found["resolved_at"]),
            "last_reading_at": as_utc(newest[resid]),
            "updated_at": UPDATED_AT,
            "reference_version": "test",
        }
        table.append(row)
    return table
