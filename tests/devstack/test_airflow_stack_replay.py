"""The stack's replay: where make airflow-trigger starts it, and the replays a stack can run."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from devstack import settings
from devstack.airflow_stack import Stack, latest_tick


def test_the_replay_starts_at_the_drop_schedules_latest_tick():
    origin = datetime(2026, 11, 1, 0, 0, 7, tzinfo=timezone.utc)
    before = datetime.now(timezone.utc)
    tick = latest_tick({"OIL_REPLAY_START": origin.isoformat(), "OIL_DROP_EVERY_MINUTES": "10"})
    after = datetime.now(timezone.utc)
    assert (tick - origin) % timedelta(minutes=10) == timedelta(0)
    assert before - timedelta(minutes=10) < tick <= after
    # a start without a zone is UTC, as the DAG's pendulum.parse reads it
    naive = latest_tick({"OIL_REPLAY_START": "2026-11-01T00:00:07", "OIL_DROP_EVERY_MINUTES": "10"})
    assert naive == tick


def test_the_fast_replay_is_a_day_a_minute_and_an_unknown_one_is_refused(tmp_path):
    env = Stack(tmp_path / "home", port=8099, replay="fast").env()
    assert (env["OIL_SLICE_MINUTES"], env["OIL_DROP_EVERY_MINUTES"]) == ("1440", "1")
    assert (
        "the fast replay: a slice of 1440 min of sensor time every 1 min" in Stack(tmp_path / "h", replay="fast").pace()
    )
    with pytest.raises(SystemExit, match="REPLAY=slow is not a replay of the stack: default or fast"):
        Stack(tmp_path / "home", replay="slow")
    assert set(settings.REPLAYS) == {"default", "fast"}
