"""File drops: whole files, derived from the run, never the same rows twice."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone

import pytest

from include import settings
from include.replay import slicing
from include.replay.file_drop import drop, drop_through, slice_index_for
from include.settings import Layout


@pytest.fixture
def layout(tmp_path, data_dir) -> Layout:
    layout = Layout(tmp_path.as_uri())
    shutil.copy(data_dir / settings.SENSOR_FILE, tmp_path / settings.SENSOR_FILE)
    return layout


def landing_files(tmp_path):
    return sorted(p.name for p in (tmp_path / "stream").iterdir())


def test_a_drop_writes_one_whole_file_named_by_its_window(layout, tmp_path, data_dir):
    result = drop(layout, 1, 1440)
    assert result.written and result.slices >= 3
    assert landing_files(tmp_path) == [result.file]  # no temporary file left behind
    second_date = sorted(
        {line.split(",")[1] for line in (data_dir / settings.SENSOR_FILE).read_text().splitlines()},
        key=lambda d: datetime.strptime(d, "%m/%d/%y"),
    )[1]
    dropped = (tmp_path / "stream" / result.file).read_text().splitlines()
    assert {line.split(",")[1] for line in dropped} == {second_date}
    assert result.rows == len(dropped)


def test_rerunning_a_drop_leaves_the_same_file(layout, tmp_path):
    first = drop(layout, 0, 360)
    landed = tmp_path / "stream" / first.file
    before = (landed.read_bytes(), landed.stat().st_mtime_ns)
    again = drop(layout, 0, 360)
    assert again == first
    assert landing_files(tmp_path) == [first.file]
    assert (landed.read_bytes(), landed.stat().st_mtime_ns) == before  # not even rewritten


def test_past_the_last_slice_nothing_is_dropped(layout, tmp_path):
    count = slicing.plan(slicing.split_lines((tmp_path / settings.SENSOR_FILE).read_bytes()), 1440).count
    result = drop(layout, count, 1440)
    assert not result.written
    assert "replay is finished" in result.message()
    assert not (tmp_path / "stream").exists() or landing_files(tmp_path) == []


def test_a_second_span_in_the_same_replay_is_dropped_beside_the_first(layout, tmp_path):
    """make demo's day slices, then the stack's 6-hour ones: the readings overlap, the alert job stores
    each once (tests/spark_jobs/test_exactly_once.py)."""
    assert drop(layout, 0, 360).written and drop(layout, 0, 1440).written
    assert len(landing_files(tmp_path)) == 2


def test_slice_index_comes_from_the_logical_date():
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    every = timedelta(minutes=10)
    assert slice_index_for(start, start, every) == 0
    assert slice_index_for(start + 25 * every, start, every) == 25
    assert slice_index_for(start + 25 * every + timedelta(minutes=3), start, every) == 25
    assert slice_index_for(start - every, start, every) == -1  # a run before the start: the DAG skips it
    with pytest.raises(ValueError, match="slice_index param"):
        slice_index_for(None, start, every)


def test_a_scheduled_drop_catches_up_on_the_slices_not_landed_yet(layout, tmp_path):
    """Slices 0 and 2 landed, the scheduler then skipped to slice 4: 1 and 3 first, then 4, in order."""
    drop(layout, 0, 1440 // 2)
    drop(layout, 2, 1440 // 2)
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "stream").iterdir()}
    results = drop_through(layout, 4, 1440 // 2)
    assert [r.index for r in results] == [1, 3, 4] and all(r.written for r in results)
    plan_names = [
        slicing.plan(slicing.split_lines((tmp_path / settings.SENSOR_FILE).read_bytes()), 720).file_name(i)
        for i in range(5)
    ]
    assert landing_files(tmp_path) == sorted(plan_names)
    assert {name: (tmp_path / "stream" / name).stat().st_mtime_ns for name in before} == before  # untouched
    # past the end: the missing slices, then the finished replay's message
    finished = drop_through(layout, 10_000, 1440 // 2)
    assert not finished[-1].written and "finished" in finished[-1].message()
