"""What the daily statistics wait for: a day is complete once a later reading, or the data's last, is stored."""

from __future__ import annotations

from datetime import date, datetime

import pyarrow as pa
from deltalake import write_deltalake

from include.replay.day_landed import day_state, newest_stored_reading, source_days, state_of
from include.settings import Layout

SOURCE = b"P1,3/10/14,0:01,1,1,1,1,1,1\nP1,3/11/14,23:59,1,1,1,1,1,1\nnot,a,reading\nP2,3/11/14,7:30,1,1,1,1,1,1\n"
DAYS = {date(2014, 3, 10), date(2014, 3, 11)}
END = datetime(2014, 3, 11, 23, 59)


def test_source_days_and_last_reading_skip_unreadable_lines():
    assert source_days(SOURCE) == (DAYS, END)
    assert source_days(b"") == (set(), None)


def test_a_day_waits_until_a_later_reading_or_the_last_one_is_stored():
    first, last = date(2014, 3, 10), date(2014, 3, 11)
    assert not day_state(first, DAYS, END, None).ready
    assert not day_state(first, DAYS, END, datetime(2014, 3, 10, 23, 58)).ready
    assert day_state(first, DAYS, END, datetime(2014, 3, 11, 0, 0)).ready
    # the last day: nothing comes after it, its last reading closes it
    assert not day_state(last, DAYS, END, datetime(2014, 3, 11, 23, 58)).ready
    assert day_state(last, DAYS, END, END).ready
    waiting = day_state(first, DAYS, END, datetime(2014, 3, 10, 6, 0))
    assert not waiting.skip and "2014-03-10 06:00" in waiting.reason


def test_a_day_outside_the_data_is_skipped_with_the_reason():
    state = day_state(date(2026, 12, 2), DAYS, END, END)
    assert state.skip and not state.ready
    assert state.reason.startswith("no reading dated 2026-12-02 in the staged sensor data (2014-03-10 to 2014-03-11)")


def test_the_newest_stored_reading_comes_from_the_newest_day_of_the_readings_table(tmp_path):
    table = str(tmp_path / "readings")
    assert newest_stored_reading(table) is None
    rows = pa.table(
        {
            "resid": ["P1", "P1", "P2"],
            "date": ["3/10/14", "3/11/14", "3/11/14"],
            "time": ["23:59", "0:05", "13:07"],
            "day": pa.array([date(2014, 3, 10), date(2014, 3, 11), date(2014, 3, 11)], pa.date32()),  # as the job's
        }
    )
    write_deltalake(table, rows, partition_by=["day"])
    assert newest_stored_reading(table) == datetime(2014, 3, 11, 13, 7)


def test_a_root_with_nothing_staged_is_skipped_with_what_to_run(tmp_path):
    state = state_of(Layout(tmp_path.as_uri()), date(2014, 3, 10))
    assert state.skip and "run oil_stage" in state.reason
