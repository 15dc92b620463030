"""Airflow for real: the web UI in a real browser, scheduled micro-batches, backfills.

All on one stack started once (conftest.py), in this order: the UI test runs while the scheduler
drops the first slices, the scheduled test waits for three micro-batches, the backfill test lands
the rest of the data and backfills the daily statistics.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime

from deltalake import DeltaTable

from devstack.airflow_stack import PROJECT_DAGS, backfill, wait_for
from include import settings
from tests.airflow.conftest import ARTIFACTS, BACKFILL_DAYS, TIMINGS, log_in, stream_every_landed_slice, streaming_idle
from tests.dags.test_dag_integrity import EXPECTED_DAGS
from tests.pipeline_run import (
    REAL_DATA_COUNTS,
    assert_daily_stats_equal,
    assert_equal_to_the_oracle,
    expected_incidents,
    incident_rows,
    is_real_data,
    outputs,
)
from testsupport import oracle
from testsupport.mailbox import expected_ids, received

BATCHES = 3


def table_rows(spark, path: str, columns) -> list[tuple]:
    """A Delta table's rows (Spark's Delta reader: its current version), sorted."""
    return sorted(map(tuple, spark.read.format("delta").load(path).select(*columns).collect()), key=repr)


# ---- make demo, in the stack's home, before it ------------------------------------------------------
def test_the_demo_before_the_stack_equals_the_oracle(airflow_stack, spark):
    """`make demo` on its own root, in the Airflow home and database the stack then runs in: its outputs
    equal the oracle, its summary says so, and the stack's runs on another root are not hindered (the
    Assets are named, not tied to a root: the later tests' runs are green)."""
    demo = airflow_stack.notes["demo"]
    assert_equal_to_the_oracle(outputs(spark, demo["layout"]), airflow_stack.data_dir, stat_days=1)
    alerts = len(oracle.alerts(airflow_stack.replay.rows))
    assert f"alerts: {alerts} rows" in demo["stdout"], demo["stdout"][-3000:]
    assert demo["env"]["AIRFLOW_HOME"] == str(airflow_stack.stack.home)


# ---- web UI ---------------------------------------------------------------------------------------
def test_web_ui_login_dag_list_and_successful_runs(airflow_stack, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    started = time.monotonic()
    url, api = airflow_stack.stack.url, airflow_stack.api
    wait = WebDriverWait(browser, 60)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    # The REST API: every project DAG, no import errors.
    assert set(PROJECT_DAGS) == EXPECTED_DAGS
    assert api.get("/api/v2/importErrors")["total_entries"] == 0
    rest_dags = {dag["dag_id"] for dag in api.get("/api/v2/dags?limit=100")["dags"]}
    assert rest_dags == EXPECTED_DAGS

    # The UI asks for a login first.
    log_in(browser, airflow_stack)

    # The DAG list: every project DAG.
    wait.until(lambda d: "/auth/login" not in d.current_url and f"{len(EXPECTED_DAGS)} Dags" in d.page_source)
    wait.until(lambda d: all(dag_id in d.find_element(By.TAG_NAME, "body").text for dag_id in EXPECTED_DAGS))
    browser.save_screenshot(str(ARTIFACTS / "airflow_ui_dags.png"))

    # Home: its statistics load, and there is no "Dag Import Errors" entry.
    browser.get(f"{url}/")
    wait.until(lambda d: "Stats" in d.find_element(By.TAG_NAME, "body").text)
    home = browser.find_element(By.TAG_NAME, "body").text
    browser.save_screenshot(str(ARTIFACTS / "airflow_ui_home.png"))
    assert "Import Error" not in home, home

    # One DAG's runs: the staging run shows as successful.
    browser.get(f"{url}/dags/oil_stage/runs")
    run_id = airflow_stack.stage_run_id
    wait.until(lambda d: run_id in d.find_element(By.TAG_NAME, "body").text)
    table = browser.find_element(By.TAG_NAME, "body").text
    browser.save_screenshot(str(ARTIFACTS / "airflow_ui_oil_stage_runs.png"))
    row = next(line for line in table.split(run_id, 1)[1].splitlines() if line.strip() in ("Success", "Failed"))
    assert row.strip() == "Success", table
    assert api.dag_run("oil_stage", run_id)["state"] == "success"
    TIMINGS["test_web_ui_s"] = round(time.monotonic() - started, 1)


# ---- scheduled micro-batches -----------------------------------------------------------------------
def since_the_trigger(s, dag_id: str) -> list[dict]:
    return [r for r in s.api.dag_runs(dag_id) if r["run_after"] >= s.notes["triggered_at"]]


def test_scheduled_drops_and_streaming_make_growing_micro_batches(airflow_stack, spark):
    """The scheduler alone (drop every minute, streaming on each drop): >= 3 micro-batches, each
    the oracle's alerts of exactly the slices it read; batch ids 0, 1, 2, ...; nothing twice."""
    started = time.monotonic()
    s, replay = airflow_stack, airflow_stack.replay
    alerts, enriched = s.alerts, s.enriched

    def enough():  # BATCHES alert batches, and the enrichment of at least one alert
        done = enriched.batches()
        return (
            len(alerts.batches()) >= BATCHES
            and bool(done)
            and bool(enriched.rows(enriched.versions()[done[-1]], ["resid"]))
        )

    wait_for(f"{BATCHES} micro-batches of scheduled drops", enough, timeout=480, interval=2)
    # A snapshot: the enrichment first, then the alerts (which can only be ahead of it).
    enriched_done = enriched.batches()[-1]
    enriched_through = enriched.source_versions()[enriched_done]  # the last alerts version it has read
    enriched_rows = enriched.rows(enriched.versions()[enriched_done], oracle.ENRICHED_COLUMNS)
    batches = alerts.batches()
    inputs, versions = alerts.inputs(), alerts.versions()
    added = alerts.added(oracle.SENSOR_COLUMNS)  # the alerts each batch added to the table

    # Batch ids: 0, 1, 2, ... committed one after the other.
    assert batches == list(range(len(batches))) and len(batches) >= BATCHES
    commit_times = [(s.root / "checkpoints/alerts/commits" / str(b)).stat().st_mtime for b in batches]
    assert commit_times == sorted(commit_times)

    # Each batch read new slice files only; each file once.
    read = [replay.index_of(f.name) for b in batches for f in inputs[b]]
    assert len(read) == len(set(read)), f"a slice was read twice: {Counter(read)}"

    # Each batch wrote exactly the oracle's alerts of the slices it read; the output grows batch by batch.
    totals, got_all, expected_of = [], [], {}
    for b in batches:
        slices = [replay.index_of(f.name) for f in inputs[b]]
        expected_of[b] = oracle.alerts(replay.rows_of(slices))
        got = added[b]
        assert got == sorted(expected_of[b], key=repr), f"batch {b} (slices {slices})"
        got_all += got
        totals.append(len(got_all))
        if expected_of[b]:
            assert b == 0 or totals[-1] > totals[-2], f"batch {b} added no alert"
    keys = Counter(row[:3] for row in got_all)
    assert max(keys.values()) == 1, "an alert (resid, date, time) was written twice"
    growing = sum(1 for b, total in enumerate(totals) if total > (totals[b - 1] if b else 0))
    # The output grew in exactly the batches whose slices hold alerts (the fast replay's day slices: the
    # MapR data's last two), at least one by the time of this snapshot.
    assert growing == sum(bool(expected_of[b]) for b in batches) >= 1, totals

    # The enrichment read whole alert batches (up to the version one of them left), and its table
    # equals the oracle's enrichment of their alerts (vendor, each maintenance record).
    enriched_batches = [b for b in batches if versions[b] <= enriched_through]
    assert enriched_batches and enriched_through == versions[enriched_batches[-1]], (versions, enriched_through)
    expected_alerts = sorted(row for b in enriched_batches for row in expected_of[b])
    assert enriched_rows == oracle.enriched(
        expected_alerts, s.data_dir / settings.VENDOR_FILE, s.data_dir / settings.MAINT_FILE
    )

    # The runs were the scheduler's own: scheduled drops of consecutive slices, streaming on their assets.
    # (the runs since the trigger: make demo's manual runs, in the same home and database, came before it)
    drops = [r for r in since_the_trigger(s, "oil_file_drop") if r["state"] == "success"]
    assert len(drops) >= BATCHES and all(r["run_type"] == "scheduled" for r in drops), drops
    assert sorted(read) == list(range(min(read), min(read) + len(read))), f"slices {read}"
    streams = since_the_trigger(s, "oil_streaming")  # the first: the latest cron tick, on unpausing; then per drop
    assert not [r for r in streams if r["state"] == "failed"], streams
    assert all(r["run_type"] in ("asset_triggered", "scheduled") for r in streams), streams
    assert sum(r["run_type"] == "asset_triggered" for r in streams) >= BATCHES - 1, streams
    TIMINGS["scheduled_batches"] = len(batches)
    TIMINGS["scheduled_alert_totals"] = totals
    TIMINGS["test_scheduled_s"] = round(time.monotonic() - started, 1)
    TIMINGS["scheduled_since_unpause_s"] = round(time.time() - TIMINGS["unpaused_at"], 1)


def test_backfill_daily_stats_then_reprocess(airflow_stack, replayed, spark):
    """The backfill of the five days (the `replayed` fixture's, after the whole replay was streamed) wrote
    the oracle's statistics; reprocessing one of them runs it again and changes nothing."""
    started = time.monotonic()
    s = airflow_stack
    expected = oracle.daily_stats(s.replay.rows)
    if is_real_data(s.data_dir):
        assert len(expected) == REAL_DATA_COUNTS["daily_stats"]

    def check(runs: list[dict], days: list[str]) -> list[tuple]:
        assert sorted(r["logical_date"][:10] for r in runs) == days, runs
        assert all(r["state"] == "success" and r["run_type"] == "backfill" for r in runs), runs
        stats = spark.read.format("delta").load(s.layout.output("daily_stats"))
        got = sorted(map(tuple, stats.select("resid", "date", *oracle.STAT_COLUMNS).collect()))
        assert_daily_stats_equal(got, expected)
        return got

    def table_versions() -> int:
        return len(DeltaTable(s.layout.output("daily_stats")).history())

    done = replayed["backfill"]
    first_rows = check(done["runs"], BACKFILL_DAYS)
    # The newcomer's path (up, fast trigger, backfill right after it): every run of every DAG green, no task
    # instance failed, not even once before a retry (a retried one keeps its failed try in the log).
    assert s.api.get("/api/v2/dags/~/dagRuns?state=failed")["total_entries"] == 0
    retried = s.api.get("/api/v2/dags/~/dagRuns/~/taskInstances?limit=1000")["task_instances"]
    assert [(ti["dag_id"], ti["task_id"], ti["state"]) for ti in retried if ti["try_number"] > 1] == []
    assert not [ti for ti in retried if ti["state"] in ("failed", "upstream_failed")]
    # Reprocess a completed day: its run really runs again, after the first backfill completed, rewriting
    # its day (one table version), and the table stays the same.
    versions_before = table_versions()
    again = backfill(s.stack, "oil_daily_stats", BACKFILL_DAYS[1], BACKFILL_DAYS[1], "completed", timeout=600)
    rerun = [r for r in again["runs"] if r["logical_date"][:10] == BACKFILL_DAYS[1]]
    assert check(rerun, BACKFILL_DAYS[1:2]) == first_rows
    completed = datetime.fromisoformat(done["completed_at"])
    assert all(datetime.fromisoformat(r["end_date"]) > completed for r in rerun), (rerun, done["completed_at"])
    assert table_versions() == versions_before + 1
    TIMINGS["backfill_reprocess_s"] = round(time.monotonic() - started, 1)


# ---- clear and run again ------------------------------------------------------------------------------
def clear_run(s, dag_id: str, run_id: str) -> None:
    """What "Clear" on a run does in the UI: every task of the run again, the run back to queued."""
    body = {"dag_run_id": run_id, "dry_run": False, "only_failed": False, "reset_dag_runs": True}
    s.api.call("POST", f"/api/v2/dags/{dag_id}/clearTaskInstances", body)


def last_success(s, dag_id: str, run_type: str | None = None) -> str:
    runs = [r for r in s.api.dag_runs(dag_id) if r["state"] == "success" and run_type in (None, r["run_type"])]
    assert runs, f"no successful {run_type or ''} run of {dag_id}"
    return runs[-1]["dag_run_id"]


def task_states(s, dag_id: str, run_id: str) -> list[str]:
    return [ti["state"] for ti in s.api.task_instances(dag_id, run_id)]


def dropped_a_file(s, run_id: str) -> bool:
    return task_states(s, "oil_file_drop", run_id) == ["success"]


def test_cleared_runs_run_again_and_change_nothing(airflow_stack, replayed, spark):
    """After the whole replay is streamed: clearing a run of every DAG (stage, drop, streaming, a
    backfilled day) runs it again, successfully; a file dropped again is not read twice, and no output,
    staged file or other landed file changes."""
    started = time.monotonic()
    s = airflow_stack
    expected_alerts = oracle.alerts(s.replay.rows)
    expected_enriched = oracle.enriched(
        expected_alerts, s.data_dir / settings.VENDOR_FILE, s.data_dir / settings.MAINT_FILE
    )

    def outputs() -> dict:
        def rows(name, columns):
            return table_rows(spark, s.layout.output(name), columns)

        return {
            "alerts": rows("alerts", oracle.SENSOR_COLUMNS),
            "alerts_enriched": rows("alerts_enriched", oracle.ENRICHED_COLUMNS),
            "daily_stats": rows("daily_stats", ("resid", "date", *oracle.STAT_COLUMNS)),
            "quarantine": spark.read.format("delta").load(s.layout.output("quarantine")).count(),
            "incidents": incident_rows(spark, s.layout),
            "messages": [message["Message-ID"] for message in received(s.notes["mail"])],
        }

    def files() -> dict:
        staged = [
            s.root / settings.SENSOR_FILE,
            s.root / "info" / settings.VENDOR_FILE,
            s.root / "info" / settings.MAINT_FILE,
        ]
        landed = sorted((s.root / "stream").glob("*.csv"))
        return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in [*staged, *landed]}

    # The streaming DAG, paused for the backfill, is running again and has streamed every landed slice.
    stream_every_landed_slice(s)
    before, files_before = outputs(), files()
    assert before["alerts"] == sorted(expected_alerts, key=repr)
    assert before["alerts_enriched"] == sorted(expected_enriched, key=repr)
    # Incidents and their messages: the oracle's, each message once (the notify task of each streaming run).
    assert before["incidents"] == expected_incidents(s.data_dir, s.replay.rows)
    assert before["messages"] == expected_ids(s.replay.rows)

    # The drop to clear: the replay's last, the newest scheduled run that dropped a file (the later ones
    # were past the end: skipped). Its file is removed first, so that the cleared run really drops it again
    # (same name, same bytes) and the streaming run its Asset starts meets a file it has read before.
    last_drop = next(r for r in reversed(s.api.dag_runs("oil_file_drop")) if dropped_a_file(s, r["dag_run_id"]))
    redropped = next(
        p for p in (s.root / "stream").glob("sensor_*.csv") if s.replay.index_of(p.name) == max(s.landed())
    )
    redropped.unlink()
    cleared = {
        "oil_stage": last_success(s, "oil_stage"),
        "oil_file_drop": last_drop["dag_run_id"],
        "oil_streaming": last_success(s, "oil_streaming"),
        "oil_daily_stats": last_success(s, "oil_daily_stats", "backfill"),
    }
    s.api.set_paused("oil_file_drop", False)  # a paused DAG's cleared tasks would wait
    try:
        for dag_id, run_id in cleared.items():
            clear_run(s, dag_id, run_id)
        states = {dag_id: s.api.wait_run(dag_id, run_id, timeout=600) for dag_id, run_id in cleared.items()}
        # A drop past the replay's end: the run succeeds, its task is skipped, nothing lands.
        past = s.api.trigger("oil_file_drop", {"slice_index": 999, "slice_minutes": s.replay.span})
        assert s.api.wait_run("oil_file_drop", past, timeout=300) == "success"
        assert task_states(s, "oil_file_drop", past) == ["skipped"]
    finally:
        s.api.set_paused("oil_file_drop", True)
    assert states == dict.fromkeys(cleared, "success"), states
    # A cleared drop emits its Asset again: the streaming run it starts finds no new file.
    wait_for("streaming runs finished", lambda: streaming_idle(s), timeout=600, interval=2)
    assert not [r for r in s.api.dag_runs("oil_streaming") if r["state"] == "failed"]
    assert outputs() == before  # the cleared streaming run's notify sent nothing again
    # The re-dropped file is back, the same bytes; nothing else was even rewritten (same mtime).
    mtime, content = files_before[redropped.name]
    assert redropped.read_bytes() == content and redropped.stat().st_mtime_ns > mtime
    assert files() == {**files_before, redropped.name: (redropped.stat().st_mtime_ns, content)}
    TIMINGS["test_clear_rerun_s"] = round(time.monotonic() - started, 1)
