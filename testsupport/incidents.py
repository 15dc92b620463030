"""Independent oracle of the incident rule (issue 17), in plain Python over readings: what the incidents
table and its messages must hold. Shares no code with the pipeline.

The rule: an incident of a pump opens at its first reading below the threshold when none is open. It
resolves when the pump has reported only readings at or above the threshold for CLEAR minutes of event
time: at a reading at or above the threshold taken at least CLEAR minutes after the first of an unbroken
run of such readings; `resolved_at` is the time of that first reading. A low reading before then keeps
it open (and ends the run). The data ending keeps it open.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

CLEAR_MINUTES = 15  # OIL_INCIDENT_CLEAR_MINUTES's default


def reading_time(date: str, time: str) -> datetime:
    return datetime.strptime(f"{date} {time}", "%m/%d/%y %H:%M")


def incidents(rows: list[dict], threshold: float = 0.5, clear_minutes: float = CLEAR_MINUTES) -> list[dict]:
    """One dict per incident (resid, opened_at, resolved_at or None, low_readings, min_psi), by pump then
    opening time. rows: readings as oracle.readings gives them, each (resid, date, time) once."""
    clear = timedelta(minutes=clear_minutes)
    by_pump: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for row in rows:
        by_pump[row["resid"]].append((reading_time(row["date"], row["time"]), row["psi"]))
    found = []
    for resid in sorted(by_pump):
        current: dict | None = None
        recovering_since: datetime | None = None  # first reading of the unbroken run at or above the threshold
        for at, psi in sorted(by_pump[resid]):
            if psi < threshold:
                if current is None:
                    current = {"resid": resid, "opened_at": at, "resolved_at": None, "low_readings": 0, "min_psi": psi}
                    found.append(current)
                current["low_readings"] += 1
                current["min_psi"] = min(current["min_psi"], psi)
                recovering_since = None
            elif current is not None:
                recovering_since = recovering_since or at
                if at - recovering_since >= clear:
                    current["resolved_at"] = recovering_since
                    current, recovering_since = None, None
    return found


def messages(found: list[dict]) -> list[tuple[str, str, datetime]]:
    """The notifications the incidents call for: (resid, "opened" | "resolved", when), one per event."""
    events = [(i["resid"], "opened", i["opened_at"]) for i in found]
    events += [(i["resid"], "resolved", i["resolved_at"]) for i in found if i["resolved_at"] is not None]
    return sorted(events, key=lambda event: (event[2], event[0], event[1]))


def with_pump_data(found: list[dict], vendor_rows: list[list[str]], maint_rows: list[list[str]]) -> list[dict]:
    """Each incident with its pump's type and vendor, and the latest maintenance event dated on or before its
    opening day (events of one day: the first by technician, then description); None where there is none.
    vendor_rows, maint_rows: the reference files' rows (oracle.read_rows)."""
    vendors = {row[0]: (row[1], row[4]) for row in vendor_rows}
    events = defaultdict(list)
    for resid, event_date, technician, description in maint_rows:
        day = datetime.strptime(event_date, "%m/%d/%y").date()
        events[resid].append((day, event_date, technician, description))
    out = []
    for incident in found:
        pump_type, vendor = vendors.get(incident["resid"], (None, None))
        before = [e for e in events[incident["resid"]] if e[0] <= incident["opened_at"].date()]
        # the newest day first; within a day, the smallest technician and description
        latest = min(before, key=lambda e: (-e[0].toordinal(), e[2], e[3]), default=(None,) * 4)
        out.append(
            {
                **incident,
                "pumpType": pump_type,
                "vendor": vendor,
                "maintenance_date": latest[1],
                "technician": latest[2],
                "maintenance": latest[3],
            }
        )
    return out
