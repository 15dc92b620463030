"""The slice of a scheduled drop run, with the dates Airflow gives a task (pendulum), not only datetime."""

from __future__ import annotations

from datetime import timedelta

import pendulum

from include.replay.file_drop import slice_index_for


def test_slice_index_of_pendulum_dates():
    start = pendulum.datetime(2026, 11, 26, 8, 40, tz="UTC")
    every = timedelta(minutes=1)
    # A scheduled run's logical date is when the scheduler made it: seconds past the minute.
    assert slice_index_for(start.add(minutes=12, seconds=32.5), start, every) == 12
    assert slice_index_for(start, start, every) == 0
    assert slice_index_for(start.subtract(seconds=1), start, every) == -1
