"""Slicing the sensor file by event time: every line in exactly one slice, pumps interleaved."""

from __future__ import annotations

from collections import Counter

import pytest

from include import settings
from include.replay import slicing


@pytest.fixture(scope="module")
def lines(data_dir):
    return slicing.split_lines((data_dir / settings.SENSOR_FILE).read_bytes())


@pytest.mark.parametrize("minutes", [7200, 1440, 360, 195, 7])
def test_every_line_lands_in_exactly_one_slice(lines, minutes):
    plan = slicing.plan(lines, minutes)
    indexes = [slicing.slice_of(line, plan) for line in lines]
    assert set(indexes) <= set(range(plan.count))
    assert Counter(indexes)[plan.count - 1] > 0  # the last slice is not empty
    if plan.count <= 40:  # the whole drop path, slice by slice
        dropped = Counter()
        for index in range(plan.count):
            dropped.update(slicing.slice_lines(lines, plan, index))
        assert dropped == Counter(lines)
    assert len({plan.file_name(i) for i in range(plan.count)}) == plan.count


def test_a_slice_follows_event_time_across_all_pumps(lines, data_dir):
    plan = slicing.plan(lines, 1440)
    first_day = slicing.slice_lines(lines, plan, 0)
    # independent reading of the file: the first date in it, and its pumps
    rows = [line.split(",") for line in (data_dir / settings.SENSOR_FILE).read_text().splitlines()]
    first_date = rows[0][1]
    assert {line.split(",")[1] for line in first_day} == {first_date}
    assert {line.split(",")[0] for line in first_day} == {r[0] for r in rows}
    assert len(first_day) == sum(1 for r in rows if r[1] == first_date)


def test_windows_start_at_midnight_of_the_first_day(lines):
    plan = slicing.plan(lines, 360)
    assert (plan.origin.hour, plan.origin.minute) == (0, 0)
    assert plan.file_name(1) == f"sensor_{plan.origin:%Y%m%d}T0600_360m.csv"


def test_bom_is_dropped_line_endings_and_bad_lines_are_kept():
    data = "\ufeffP1,3/10/14,1:01,1,1,1,1,0,1\r\nnot a reading\nP1,3/10/14,7:30,1,1,1,1,0,1\r\n".encode()
    lines = slicing.split_lines(data)
    assert lines == ["P1,3/10/14,1:01,1,1,1,1,0,1\r\n", "not a reading\n", "P1,3/10/14,7:30,1,1,1,1,0,1\r\n"]
    plan = slicing.plan(lines, 360)
    assert plan.count == 2
    # the unreadable line travels with slice 0, so the streaming job quarantines it
    assert slicing.slice_lines(lines, plan, 0) == lines[:2]
    assert slicing.slice_lines(lines, plan, 1) == lines[2:]


def test_undecodable_bytes_survive_a_round_trip():
    data = b"P1,3/10/14,0:01,1,1,\xff\xfe,1,0,1\n"
    plan = slicing.plan(slicing.split_lines(data), 60)
    assert slicing.encode(slicing.slice_lines(slicing.split_lines(data), plan, 0)) == data


def test_span_must_be_positive():
    with pytest.raises(ValueError, match="at least 1 minute"):
        slicing.plan(["P1,3/10/14,1:01,1,1,1,1,0,1\n"], 0)
