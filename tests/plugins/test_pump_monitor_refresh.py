"""One MonitorData (include/monitor/pump_monitor.py), as the api-server keeps it, answers from what is there now:
its status changes when a sensor file lands in stream/ and when the alert job appends a run."""

from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa
from deltalake import write_deltalake

from include.monitor.pump_monitor import MonitorData

NOW = datetime(2014, 3, 12, 0, 0, tzinfo=timezone.utc)
RUNS = pa.schema(
    [
        ("finished_at", pa.timestamp("us", tz="UTC")),
        ("micro_batches", pa.int32()),
        ("lines_read", pa.int64()),
        ("alerts_written", pa.int64()),
        ("lines_quarantined", pa.int64()),
    ]
)


def run(finished_at: datetime, lines_read: int) -> pa.Table:
    """One row of the alert job's runs table (the columns the monitor reads)."""
    row = {"finished_at": finished_at, "micro_batches": 1, "lines_read": lines_read}
    return pa.Table.from_pylist([{**row, "alerts_written": 0, "lines_quarantined": 0}], schema=RUNS)


def test_status_follows_new_landed_files_and_new_runs(tmp_path):
    """The newest reading after a newer file lands, and the last run after a run is appended, without a new
    MonitorData; an unchanged status in between is answered again."""
    data = MonitorData(tmp_path.as_uri())
    stream, runs = tmp_path / "stream", tmp_path / "output" / "runs"
    stream.mkdir()
    (stream / "sensor_20140310T0000_1440m.csv").write_text("P1,3/10/14,23:50,1,1,1,1,1,1\n")
    first_run = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)
    write_deltalake(str(runs), run(first_run, 10))
    before = data.status(NOW)
    assert before["newest_reading"] == "2014-03-10T23:50:00+00:00"
    assert before["last_run"]["finished_at"] == first_run.isoformat() and before["last_run"]["lines_read"] == 10
    assert data.status(NOW) == before

    (stream / ".sensor_20140311T0000_1440m.csv.inprogress").write_text("P1,3/11/14,23:59,1,1,1,1,1,1\n")
    assert data.status(NOW) == before  # a file still being written is not a reading yet
    (stream / ".sensor_20140311T0000_1440m.csv.inprogress").rename(stream / "sensor_20140311T0000_1440m.csv")
    landed = data.status(NOW)
    assert landed["newest_reading"] == "2014-03-11T23:59:00+00:00"
    assert landed["reading_age_seconds"] == 60
    assert landed["last_run"] == before["last_run"]

    second_run = datetime(2026, 11, 26, 11, 0, tzinfo=timezone.utc)
    write_deltalake(str(runs), run(second_run, 7), mode="append")
    appended = data.status(NOW)
    assert appended["last_run"]["finished_at"] == second_run.isoformat() and appended["last_run"]["lines_read"] == 7
    assert appended["newest_reading"] == landed["newest_reading"]


def test_a_landed_file_rewritten_with_other_readings_is_read_again(tmp_path):
    """A drop re-run over changed input rewrites its file under the same name (put_if_changed): the newest
    reading is that file's new content."""
    data = MonitorData(tmp_path.as_uri())
    landed = tmp_path / "stream" / "sensor_20140310T0000_1440m.csv"
    landed.parent.mkdir()
    landed.write_text("P1,3/10/14,10:00,1,1,1,1,1,1\n")
    assert data.status(NOW)["newest_reading"] == "2014-03-10T10:00:00+00:00"
    landed.write_text("P1,3/10/14,10:00,1,1,1,1,1,1\nP1,3/10/14,22:30,1,1,1,1,1,1\n")
    assert data.status(NOW)["newest_reading"] == "2014-03-10T22:30:00+00:00"
