"""The pump monitor's incidents (include/monitor/pump_monitor.py, /api/incidents): an incidents table written
from the oracle's incidents (testsupport/incidents.py) of generated readings, read back through the monitor
and the plugin's route."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa
from deltalake import write_deltalake

from include import settings
from include.monitor.pump_monitor import MonitorData
from include.schemas import INCIDENT, incident_id
from plugins import pump_monitor
from tests.plugins.monitor_checks import check_incidents, last_readings, utc
from tests.testsupport.test_incident_oracle import minutes
from testsupport import incidents

OK = 3.0
# The reference files' rows: resid,pumpType,purchaseDate,serviceDate,vendor,longitude,latitude and
# resid,eventDate,technician,description. P2's only maintenance comes after its incident opened.
VENDOR_ROWS = [["P1", "HYDRO", "1/2/12", "1/3/12", "V1", "0", "0"], ["P2", "GEAR", "1/2/12", "1/3/12", "V2", "0", "0"]]
MAINT_ROWS = [
    ["P1", "1/2/12", "T.A", "Install"],
    ["P1", "3/4/13", "T.B", "Repair"],
    ["P2", "3/11/14", "T.C", "Inspection"],
]
# P1 goes low at 1:00, flickers back for 10 minutes (1:31-1:40, less than the clear window), is low again, and
# recovers from 1:51: resolved at 1:51, 51 minutes. Low 3:01-3:20, resolved at 3:21: 20 minutes. Low from 5:00
# to its last reading at 5:30: open. P2 is low from 2:00 to its last reading at 6:15: open, 4 hours 15 minutes.
READINGS = (
    minutes((0, 59, OK), (60, 90, 0.2), (91, 100, OK), (101, 110, 0.1), (111, 180, OK), resid="P1")
    + minutes((181, 200, 0.3), (201, 240, OK), (300, 330, 0.4), resid="P1")
    + minutes((0, 119, OK), (120, 375, 0.0), resid="P2")
)
TIMESTAMP = pa.timestamp("us", tz="UTC")
TYPES = {"string": pa.string(), "double": pa.float64(), "long": pa.int64(), "timestamp": TIMESTAMP}
SCHEMA = pa.schema([(name, TYPES[kind]) for name, kind in INCIDENT])


def oracle_incidents(readings: list[dict]) -> list[dict]:
    """The oracle's incidents of the readings, with their pumps' type, vendor and latest maintenance."""
    return incidents.with_pump_data(incidents.incidents(readings), VENDOR_ROWS, MAINT_ROWS)


def incident_table(readings: list[dict]) -> pa.Table:
    """The incidents table as the incidents job writes it, from the oracle."""
    clear, last = timedelta(minutes=incidents.CLEAR_MINUTES), last_readings(readings)
    times = sorted(utc(incidents.reading_time(row["date"], row["time"])) for row in readings)
    rows = []
    for found in oracle_incidents(readings):
        opened, resolved = utc(found["opened_at"]), found["resolved_at"] and utc(found["resolved_at"])
        # the newest reading applied: the pump's last while open, else the one that resolved it
        last_reading = min(t for t in times if t >= resolved + clear) if resolved else last[found["resid"]]
        rows.append(
            {
                **found,
                "incident_id": incident_id(found["resid"], opened),
                "opened_at": opened,
                "resolved_at": resolved,
                "last_reading_at": last_reading,
                "updated_at": datetime(2026, 12, 2, tzinfo=timezone.utc),
                "reference_version": "test",
            }
        )
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def test_open_incidents_first_then_resolved_ones_with_durations_and_pumps_equal_the_oracle(tmp_path):
    write_deltalake(str(tmp_path / "output" / "incidents"), incident_table(READINGS))
    got = MonitorData(tmp_path.as_uri()).incidents()
    check_incidents(got, oracle_incidents(READINGS), READINGS)
    # by hand: the order, and the durations in words
    assert [(i["resid"], i["opened_at"][11:16], i["duration"]) for i in got["incidents"]] == [
        ("P1", "05:00", "30 minutes, still open"),
        ("P2", "02:00", "4 hours 15 minutes, still open"),
        ("P1", "03:01", "20 minutes"),
        ("P1", "01:00", "51 minutes"),
    ]
    first_p1 = got["incidents"][3]
    assert (first_p1["incident_id"], first_p1["low_readings"], first_p1["min_psi"]) == ("P1@2014-03-10T01:00", 41, 0.1)
    assert first_p1["maintenance"] == {"eventDate": "3/4/13", "technician": "T.B", "description": "Repair"}
    assert got["incidents"][1]["maintenance"] is None  # P2's only maintenance came after


def test_the_limit_keeps_the_counts_and_the_open_ones_first(tmp_path):
    write_deltalake(str(tmp_path / "output" / "incidents"), incident_table(READINGS))
    got = MonitorData(tmp_path.as_uri()).incidents(limit=1)
    assert (got["open"], got["resolved"], [i["resid"] for i in got["incidents"]]) == (2, 2, ["P1"])


def test_a_new_version_of_the_incidents_table_is_read(tmp_path):
    """P2 recovers: the job rewrites its incident as resolved; the same MonitorData shows it."""
    table, data = tmp_path / "output" / "incidents", MonitorData(tmp_path.as_uri())
    write_deltalake(str(table), incident_table(READINGS))
    before = data.incidents()
    assert data.incidents()["incidents"][0] is before["incidents"][0]  # the same version: not read again
    recovered = READINGS + minutes((376, 400, OK), resid="P2")
    write_deltalake(str(table), incident_table(recovered), mode="overwrite")
    after = check_incidents(data.incidents(), oracle_incidents(recovered), recovered)
    assert [(i["resid"], i["open"]) for i in after] == [("P1", True), ("P2", False), ("P1", False), ("P1", False)]


def test_the_route_answers_what_the_monitor_reads(tmp_path, monkeypatch):
    write_deltalake(str(tmp_path / "output" / "incidents"), incident_table(READINGS))
    monkeypatch.setattr(settings, "MONITOR_ROOT", tmp_path.as_uri())
    pump_monitor.monitor.cache_clear()
    try:
        check_incidents(pump_monitor.incidents(limit=1000), oracle_incidents(READINGS), READINGS)
    finally:
        pump_monitor.monitor.cache_clear()
