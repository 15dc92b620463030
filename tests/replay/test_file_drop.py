"""File drops: whole files, derived from the run, never the same rows twice."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone

import pytest

from include import settings
from include.replay import slicing
from include.replay.file_drop import drop, slice_index_for
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
    with pytest.raises(ValueError, match="before the replay start"):
        slice_index_for(start - every, start, every)
    with pytest.raises(ValueError, match="slice_index param"):
        slice_index_for(None, start, every)
