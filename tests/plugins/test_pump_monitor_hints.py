"""What the pump monitor says to a newcomer (include/monitor/pump_monitor.py): plurals, hints that follow what
has run (pure, over the facts; then MonitorData gathering them from a root that fills step by step), and the
data's freshness against now or, for a replay of historical data, against the replay's clock.
Expected values are worked out by hand in the comments."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from include import settings
from include.monitor.pump_monitor import (
    MonitorData,
    Progress,
    alerts_hint,
    daily_hint,
    duration,
    freshness,
    incidents_hint,
    landed_days,
    next_step,
    plural,
    pump_days_hint,
    replay_clock,
)
from tests.plugins.test_pump_monitor_refresh import run

UTC = timezone.utc
START = datetime(2026, 11, 1, tzinfo=UTC)  # the replay's start (OIL_REPLAY_START)
EVERY, SPAN = timedelta(minutes=10), timedelta(hours=6)
ORIGIN, END = datetime(2014, 3, 10, tzinfo=UTC), datetime(2014, 3, 15, tzinfo=UTC)  # 5 days: 20 slices


# ---- words ----------------------------------------------------------------------------------------------
def test_plurals():
    assert [plural(1, "day"), plural(2, "day"), plural(0, "alert"), plural(2052, "alert")] == [
        "1 day",
        "2 days",
        "0 alerts",
        "2,052 alerts",
    ]
    assert [plural(1, "micro-batch", "micro-batches"), plural(3, "micro-batch", "micro-batches")] == [
        "1 micro-batch",
        "3 micro-batches",
    ]


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "0 seconds"),
        (1, "1 second"),
        (60, "1 minute"),
        (3661, "1 hour 1 minute"),  # 1 h + 1 min + 1 s: the two largest units
        (86400 + 7200, "1 day 2 hours"),
        (2 * 86400 + 59, "2 days"),  # 0 hours is not said
        (4644.4 * 86400, "4,644 days 9 hours"),  # 0.4 day = 9.6 hours
    ],
)
def test_durations(seconds, words):
    assert duration(seconds) == words


# ---- hints over the facts -------------------------------------------------------------------------------
def test_the_next_step_follows_what_has_run():
    nothing = next_step(Progress())
    assert "run oil_stage" in nothing and "make airflow-trigger" in nothing
    staged = next_step(Progress(staged=True))
    assert "oil_file_drop" in staged and "file drops have not started" in staged and "oil_stage" not in staged
    landed = next_step(Progress(staged=True, landed=1))
    assert landed.startswith("1 sensor file landed") and "run oil_streaming" in landed
    assert next_step(Progress(staged=True, landed=2)).startswith("2 sensor files landed")
    assert next_step(Progress(staged=True, landed=2, runs=1)) is None


def test_no_alert_after_streaming_is_said_plainly_without_an_instruction():
    progress = Progress(True, True, 3, 2, 1, datetime(2014, 3, 10, 5, 59, tzinfo=UTC))
    assert alerts_hint(progress, 0, []) == (
        "No low-pressure alert in the 1 reading streamed so far (newest reading 2014-03-10 05:59 UTC)."
    )
    hint = alerts_hint(Progress(staged=True), 0, [])
    assert hint.startswith("No alerts yet. ") and "oil_file_drop" in hint
    assert alerts_hint(progress, 5, []) is None


def test_alerts_not_enriched_say_why():
    streamed = Progress(staged=True, reference_staged=True, landed=3, runs=1, readings_streamed=10)
    hint = alerts_hint(streamed, 3, ["P2", "P3"])
    assert hint.startswith("The alerts of P2, P3 are not enriched yet: ") and "enrich_alerts" in hint
    unstaged = alerts_hint(Progress(landed=3, runs=1, readings_streamed=10), 3, ["P2"])
    assert "not staged in info/" in unstaged and "run oil_stage" in unstaged


def test_no_incident_says_why():
    hint = incidents_hint(Progress(staged=True), 0)
    assert hint.startswith("No incidents yet. ") and "oil_file_drop" in hint
    streamed = Progress(True, True, 3, 2, 2, datetime(2014, 3, 10, 5, 59, tzinfo=UTC))
    assert incidents_hint(streamed, 1) == (
        "No incidents yet, though 1 low-pressure alert streamed: oil_streaming's incidents job writes them after "
        "the alert job (if it failed, its log says why)."
    )
    assert incidents_hint(streamed, 0) == (
        "No incident: no low-pressure reading in the 2 readings streamed so far (newest reading 2014-03-10 05:59 UTC)."
    )


def test_daily_hints_name_the_days_without_statistics():
    landed = {"2014-03-10", "2014-03-11", "2014-03-12"}
    assert daily_hint({"2014-03-10"}, landed, None) == (
        "No daily statistics for 2 days with landed readings (2014-03-11, 2014-03-12): "
        "run oil_daily_stats for them once they have streamed (make airflow-backfill)."
    )
    assert daily_hint(landed, landed, None) is None
    assert daily_hint(set(), landed, "Run X.") == "No daily statistics yet. Run X."
    assert daily_hint(set(), set(), None) == "No daily statistics yet: run oil_daily_stats (make airflow-backfill)."
    many = {f"2014-03-{day:02}" for day in range(10, 17)}  # 7 days: 5 named, 2 more
    assert "(2014-03-10, 2014-03-11, 2014-03-12, 2014-03-13, 2014-03-14 and 2 more)" in daily_hint(set(), many, None)
    days = [{"day": "2014-03-10", "avg": 1.0}, {"day": "2014-03-11", "avg": None}]
    assert pump_days_hint(days) == (
        "No daily statistics for 2014-03-11 (days with alerts): run oil_daily_stats (make airflow-backfill)."
    )
    assert pump_days_hint(days[:1]) is None


def test_landed_days_come_from_the_slice_names():
    names = ["sensor_20140310T0000_1440m.csv", "sensor_20140311T1800_360m.csv", "sensor_20140312T2200_180m.csv"]
    # a day, a quarter day, and 22:00 + 3 h crossing midnight; a name of no slice counts for nothing
    assert landed_days([*names, "notes.txt"]) == {"2014-03-10", "2014-03-11", "2014-03-12", "2014-03-13"}


# ---- the replay's clock and the freshness ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("now", "clock"),
    [
        (START, datetime(2014, 3, 10, 6, tzinfo=UTC)),  # run 0 drops [0:00, 6:00)
        (START + timedelta(minutes=25), datetime(2014, 3, 10, 18, tzinfo=UTC)),  # runs 0, 1, 2: up to 18:00
        (START + timedelta(minutes=30), datetime(2014, 3, 11, tzinfo=UTC)),  # run 3 at 0:30 drops [18:00, 24:00)
        (START - timedelta(days=1), ORIGIN),  # before the replay's start: nothing due
        (START + timedelta(days=3650), END),  # long over: at the data's end (no overflow)
    ],
)
def test_replay_clock(now, clock):
    assert replay_clock(now, START, EVERY, ORIGIN, SPAN, END) == clock


def test_replay_clock_stops_at_a_data_end_inside_a_slice():
    end = datetime(2014, 3, 10, 13, tzinfo=UTC)
    assert replay_clock(START + timedelta(days=1), START, EVERY, ORIGIN, SPAN, end) == end


def test_freshness_in_words():
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    assert freshness(now, None, None, None) == "none yet"
    live = datetime(2026, 11, 26, 11, 57, tzinfo=UTC)
    assert freshness(now, live, None, None) == "2026-11-26 11:57 UTC (3 minutes before now)"
    newest, clock = datetime(2014, 3, 10, 17, 59, tzinfo=UTC), datetime(2014, 3, 10, 18, tzinfo=UTC)
    assert freshness(now, newest, clock, END) == (
        "2014-03-10 17:59 UTC sensor time, a replay of historical data: 1 minute behind the replay's clock "
        "(2014-03-10 18:00 UTC)"
    )
    assert freshness(now, newest, clock, clock).endswith("(2014-03-10 18:00 UTC, the end of the data)")


# ---- MonitorData gathers the facts from the storage ------------------------------------------------------
SENSOR_LINE = "P1,{date},{time},1,1,1,1,1,1\n"


def write_slice(root, name: str, *readings: tuple[str, str]) -> None:
    stream = root / "stream"
    stream.mkdir(exist_ok=True)
    (stream / name).write_text("".join(SENSOR_LINE.format(date=d, time=t) for d, t in readings))


@pytest.fixture
def replay_settings(monkeypatch):
    monkeypatch.setattr(settings, "REPLAY_START", "2026-11-01T00:00:00+00:00")
    monkeypatch.setattr(settings, "DROP_EVERY_MINUTES", 10)
    monkeypatch.setattr(settings, "SLICE_MINUTES", 360)


def test_hints_follow_a_root_as_the_dags_fill_it(tmp_path, replay_settings):
    data, now = MonitorData(tmp_path.as_uri()), START
    assert "run oil_stage" in data.status(now)["hint"]
    assert "run oil_stage" in data.alerts(10)["hint"] and "run oil_stage" in data.pumps()["hint"]
    none = data.incidents()
    assert (none["open"], none["resolved"], none["incidents"]) == (0, 0, [])
    assert none["hint"].startswith("No incidents yet. Nothing is staged yet")

    (tmp_path / settings.SENSOR_FILE).write_text(SENSOR_LINE.format(date="3/10/14", time="5:59"))
    assert "file drops have not started" in data.status(now)["hint"]

    write_slice(tmp_path, "sensor_20140310T0000_360m.csv", ("3/10/14", "5:59"))
    assert "1 sensor file landed" in data.status(now)["hint"]

    write_deltalake(str(tmp_path / "output" / "runs"), run(datetime(2026, 11, 1, 0, 5, tzinfo=UTC), 1))
    assert data.status(now)["hint"] is None
    assert data.alerts(10)["hint"] == (
        "No low-pressure alert in the 1 reading streamed so far (newest reading 2014-03-10 05:59 UTC)."
    )
    assert data.incidents()["hint"].startswith("No incident: no low-pressure reading in the 1 reading streamed")
    assert data.pumps()["hint"].startswith("No daily statistics for 1 day with landed readings (2014-03-10)")


def test_alerts_without_their_enrichment_say_why(tmp_path):
    alerts = pa.table({"resid": ["P1"], "date": ["3/10/14"], "time": ["1:05"], "psi": [0.1]})
    write_deltalake(str(tmp_path / "output" / "alerts"), alerts)
    hint = MonitorData(tmp_path.as_uri()).alerts(10)["hint"]
    assert hint == (
        "The alerts of P1 are not enriched yet: the vendor and maintenance files are not staged in info/: "
        "run oil_stage."
    )


NEWEST = datetime(2014, 3, 10, 5, 59, tzinfo=UTC)


def test_status_of_a_replay_reads_against_the_replays_clock(tmp_path, replay_settings):
    # Staged: readings from 3/10/14 0:00 to 3/11/14 5:00, 6-hour slices from 3/10 0:00: 5 slices, the last
    # [3/11 0:00, 6:00), so the data ends at 3/11/14 6:00. Landed: the first slice, newest reading 5:59.
    staged = [("3/10/14", "0:00"), ("3/10/14", "5:59"), ("3/11/14", "5:00")]
    (tmp_path / settings.SENSOR_FILE).write_text("".join(SENSOR_LINE.format(date=d, time=t) for d, t in staged))
    write_slice(tmp_path, "sensor_20140310T0000_360m.csv", *staged[:2])
    data = MonitorData(tmp_path.as_uri())

    # 15 minutes into the replay: runs 0 and 1 are due, the clock is at 3/10 12:00, 6 h 1 min past 5:59.
    status = data.status(START + timedelta(minutes=15))
    assert (status["replaying"], status["replay_clock"], status["replay_lag_seconds"]) == (
        True,
        "2014-03-10T12:00:00+00:00",
        6 * 3600 + 60,
    )
    assert status["freshness"] == (
        "2014-03-10 05:59 UTC sensor time, a replay of historical data: 6 hours 1 minute behind the replay's "
        "clock (2014-03-10 12:00 UTC)"
    )
    assert status["newest_reading"] == "2014-03-10T05:59:00+00:00"  # the fields of before stay
    assert status["reading_age_seconds"] == round((START + timedelta(minutes=15) - NEWEST).total_seconds())

    # A day in: the clock waits at the data's end.
    later = data.status(START + timedelta(days=1))
    assert later["replay_clock"] == "2014-03-11T06:00:00+00:00" and later["freshness"].endswith("the end of the data)")

    # Without the staged file, the end known is the newest landed slice's: 3/10 6:00, a minute past 5:59.
    (tmp_path / settings.SENSOR_FILE).unlink()
    assert data.status(START + timedelta(days=1))["replay_lag_seconds"] == 60


def test_status_of_live_data_reads_against_now(tmp_path, monkeypatch, replay_settings):
    monkeypatch.setattr(settings, "REPLAY_START", "2014-03-01T00:00:00")  # no zone: UTC, as the DAG reads it
    write_slice(tmp_path, "sensor_20140310T0000_360m.csv", ("3/10/14", "5:59"))
    status = MonitorData(tmp_path.as_uri()).status(datetime(2014, 3, 10, 6, 2, tzinfo=UTC))
    assert (status["replaying"], status["replay_clock"], status["replay_lag_seconds"]) == (False, None, None)
    assert status["freshness"] == "2014-03-10 05:59 UTC (3 minutes before now)"
