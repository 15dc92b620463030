"""The pump monitor's answers on the whole data set's outputs, checked against the oracle: for the local run
(tests/plugins) and the cluster run on HDFS (tests/cluster), which computes the statistics of a few days only."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from include import settings
from include.monitor.pump_monitor import RUN_COLUMNS, MonitorData, utc_moment
from testsupport import oracle


def moment(date: str, time_of_day: str) -> datetime:
    return datetime.strptime(f"{date} {time_of_day}", "%m/%d/%y %H:%M").replace(tzinfo=timezone.utc)


def expected_of(data_dir: Path) -> dict:
    readings = oracle.readings(data_dir / settings.SENSOR_FILE)
    alerts = oracle.alerts(readings)
    return {"readings": readings, "alerts": alerts, "daily": oracle.daily_stats(readings)}


def check_alerts(data: MonitorData, expected: dict, data_dir: Path, limit: int = 50) -> None:
    """Alert counts per pump, and the newest alerts with the pump's vendor and latest maintenance."""
    got = data.alerts(limit=limit)
    counts = Counter(row[0] for row in expected["alerts"])
    assert got["counts"] == dict(counts) and got["total"] == len(expected["alerts"])
    if data_dir.name == "mapr":  # the lecture's figures
        assert got["counts"] == {"NANTAHALLA": 1871, "LAGNAPPE": 181}
    newest = sorted(expected["alerts"], key=lambda row: (moment(row[1], row[2]), row[0]), reverse=True)[:limit]
    assert [(a["resid"], a["date"], a["time"], a["psi"]) for a in got["alerts"]] == [
        (resid, date, moment(date, time_of_day).isoformat(), psi) for resid, date, time_of_day, *_, psi, _chl in newest
    ]
    vendors = {row[0]: row for row in oracle.read_rows(data_dir / settings.VENDOR_FILE)}
    maintenance = list(oracle.read_rows(data_dir / settings.MAINT_FILE))
    for alert in got["alerts"]:
        assert (alert["pumpType"], alert["vendor"]) == (vendors[alert["resid"]][1], vendors[alert["resid"]][4])
        events = sorted(
            (row for row in maintenance if row[0] == alert["resid"]),
            key=lambda row: datetime.strptime(row[1], "%m/%d/%y"),
            reverse=True,
        )[:3]
        assert [list(m.values()) for m in alert["maintenance"]] == [row[1:] for row in events]


def check_daily(data: MonitorData, expected: dict, stat_days: set[str] | None = None) -> None:
    """Every pump (most alerts first) and its days: the oracle's psi on the days with statistics (all, or the
    M/D/YY `stat_days` computed), and the alerts of each day; a day with alerts but no statistics shows none."""
    daily = {key: stats for key, stats in expected["daily"].items() if stat_days is None or key[1] in stat_days}
    alert_days = Counter((row[0], row[1]) for row in expected["alerts"])
    alerts = Counter(row[0] for row in expected["alerts"])
    days = Counter(resid for resid, _ in daily)
    pumps = sorted(days.keys() | alerts.keys(), key=lambda resid: (-alerts[resid], resid))
    assert data.pumps()["pumps"] == [{"resid": r, "alerts": alerts[r], "days": days[r]} for r in pumps] and pumps
    for resid in pumps:
        dates = {date for r, date in daily if r == resid} | {date for r, date in alert_days if r == resid}
        dates = sorted(dates, key=lambda d: moment(d, "0:00"))
        got = data.daily(resid)["days"]
        assert [day["day"] for day in got] == [moment(d, "0:00").date().isoformat() for d in dates], resid
        for day, date in zip(got, dates, strict=True):
            stats, got_psi = daily.get((resid, date)), [day["min"], day["avg"], day["max"]]
            if stats:
                wanted = [stats["minpsi"], stats["avgpsi"], stats["maxpsi"]]
                assert got_psi == pytest.approx(wanted, rel=1e-9, abs=1e-9), (resid, date)
            else:  # alerts, no statistics computed that day
                assert got_psi == [None] * 3, (resid, date)
            assert day["alerts"] == alert_days.get((resid, date), 0), (resid, date)


def check_runs(data: MonitorData, expected: dict, now: datetime) -> dict:
    """Every line read once and every alert written once, whatever runs came after (reruns add zeros); the
    newest landed reading. Returns the status."""
    runs = data.rows("runs", RUN_COLUMNS)
    assert sum(run["lines_read"] for run in runs) == len(expected["readings"])
    assert sum(run["alerts_written"] for run in runs) == len(expected["alerts"])
    assert sum(run["lines_quarantined"] for run in runs) == 0
    status = data.status(now)
    newest = max(moment(row["date"], row["time"]) for row in expected["readings"])
    assert status["newest_reading"] == newest.isoformat()
    assert status["reading_age_seconds"] == round((now - newest).total_seconds())
    # Historical data (older than the replay's start) reads against the replay's clock, never "4644 days".
    replaying = newest < utc_moment(settings.REPLAY_START)
    assert status["replaying"] == replaying and (status["replay_clock"] is not None) == replaying
    assert status["freshness"].startswith(f"{newest:%Y-%m-%d %H:%M} UTC")
    # A Delta timestamp is a UTC instant: the status says it with its zone.
    assert datetime.fromisoformat(status["last_run"]["finished_at"]) == max(run["finished_at"] for run in runs)
    assert status["last_run"]["finished_at"].endswith("+00:00")
    return status


# ---- incidents ------------------------------------------------------------------------------------------
def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc)


def last_readings(readings: list[dict]) -> dict[str, datetime]:
    """Each pump's newest reading time."""
    last: dict[str, datetime] = {}
    for row in readings:
        at = moment(row["date"], row["time"])
        last[row["resid"]] = max(at, last.get(row["resid"], at))
    return last


def incident_listing(found: list[dict], readings: list[dict]) -> list[dict]:
    """What /api/incidents lists: the oracle's incidents of the readings with their pump data
    (testsupport.incidents.with_pump_data), open ones, newest opening first, then resolved ones, newest
    resolution first; each lasting until it resolved or, open, until its pump's last reading."""
    last = last_readings(readings)

    def shown(incident: dict) -> dict:
        opened, resolved = utc(incident["opened_at"]), incident["resolved_at"] and utc(incident["resolved_at"])
        event = (incident["maintenance_date"], incident["technician"], incident["maintenance"])
        return {
            "resid": incident["resid"],
            "open": resolved is None,
            "opened_at": opened.isoformat(),
            "resolved_at": resolved and resolved.isoformat(),
            "duration_seconds": ((resolved or last[incident["resid"]]) - opened).total_seconds(),
            "low_readings": incident["low_readings"],
            "min_psi": incident["min_psi"],
            "pumpType": incident["pumpType"],
            "vendor": incident["vendor"],
            "maintenance": dict(zip(("eventDate", "technician", "description"), event, strict=True))
            if event[0]
            else None,
        }

    still_open = sorted((i for i in found if i["resolved_at"] is None), key=lambda i: i["opened_at"], reverse=True)
    resolved = sorted((i for i in found if i["resolved_at"]), key=lambda i: i["resolved_at"], reverse=True)
    return [shown(i) for i in still_open + resolved]


def check_incidents(got: dict, found: list[dict], readings: list[dict]) -> list[dict]:
    """An /api/incidents answer (all of them) against the oracle's incidents with their pump data: counts,
    order and fields. Returns the expected listing."""
    expected = incident_listing(found, readings)
    still_open = sum(i["open"] for i in expected)
    assert (got["open"], got["resolved"]) == (still_open, len(expected) - still_open)
    assert [{key: i[key] for key in expected[0]} for i in got["incidents"]] == expected
    assert got["hint"] is None
    return expected
