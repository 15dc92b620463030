"""One real Airflow stack (api-server, scheduler, dag-processor, triggerer) for the whole session.

Metadata database: PostgreSQL when a local one is set up (`bash scripts/ci_services.sh postgres` writes
var/postgres/url; `.ci/run` does it), in a database of this session's own that is dropped at the end.
On CI (CI=true) PostgreSQL is required: without it the tests fail, they are not skipped. Elsewhere,
without var/postgres/url (or with OIL_TEST_AIRFLOW_DB=sqlite), the stack runs on SQLite and says so.

The replay is set up so that the scheduled drops start at the first slice with alerts: every scheduled
micro-batch then has alerts to add. Staging runs first (a manual run through the scheduler).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from deltalake import DeltaTable

from devstack.airflow_stack import Api, Stack, backfill, wait_for
from include import settings
from include.settings import Layout
from testsupport.replay import Query, Replay

POSTGRES_URL_FILE = settings.VAR_DIR / "postgres" / "url"
ARTIFACTS = settings.VAR_DIR / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SLICE_MINUTES = 360  # the default span: 20 slices of the MapR data, alerts in the last 8
TIMINGS: dict[str, float] = {}


def on_ci() -> bool:
    return os.getenv("CI", "").lower() in ("true", "1", "yes")


@pytest.fixture(scope="session")
def airflow_database():
    """SQLAlchemy URL of the stack's metadata database, or None for SQLite (see the module docstring)."""
    choice = os.getenv("OIL_TEST_AIRFLOW_DB", "").lower()
    if not POSTGRES_URL_FILE.is_file() or (choice == "sqlite" and not on_ci()):
        if on_ci() or choice == "postgres":
            pytest.fail(
                f"PostgreSQL is required here (CI={os.getenv('CI')}, OIL_TEST_AIRFLOW_DB={choice or '-'}) "
                f"but {POSTGRES_URL_FILE} is missing: run `bash scripts/ci_services.sh postgres` first"
            )
        warnings.warn(
            f"Airflow stack tests on SQLite: no {POSTGRES_URL_FILE} (bash scripts/ci_services.sh postgres)",
            stacklevel=2,
        )
        yield None
        return
    import psycopg

    base = POSTGRES_URL_FILE.read_text().strip()
    name = f"oil_airflow_test_{secrets.token_hex(4)}"
    admin = psycopg.connect(base, autocommit=True)  # fails loudly when the server is down
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def browser():
    """Debian's headless chromium, driven by selenium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def log_in(browser, stack: RunningStack, page: str = "/dags") -> None:
    """Open a page of the UI, which asks for the login first, and log in as the admin user."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{stack.stack.url}{page}")
    WebDriverWait(browser, 60).until(lambda d: "/auth/login" in d.current_url and d.find_elements(By.NAME, "password"))
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(stack.stack.password() + Keys.ENTER)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningStack:
    stack: Stack
    api: Api
    replay: Replay
    layout: Layout
    root: Path
    data_dir: Path
    replay_start: datetime
    stage_run_id: str
    database: str
    monitor_root: Path  # OIL_MONITOR_ROOT of the stack: what its pump monitor page shows
    notes: dict = field(default_factory=dict)

    @property
    def alerts(self) -> Query:
        return Query(self.root / "checkpoints" / "alerts", self.root / "output" / "alerts")

    @property
    def enriched(self) -> Query:
        return Query(self.root / "checkpoints" / "alerts_enriched", self.root / "output" / "alerts_enriched")

    def landed(self) -> set[int]:
        """Slices in the landing directory."""
        folder = self.root / "stream"
        return {self.replay.index_of(p.name) for p in folder.iterdir() if p.name.startswith("sensor_")}


@pytest.fixture(scope="session")
def airflow_stack(tmp_path_factory: pytest.TempPathFactory, data_dir: Path, airflow_database):
    base = tmp_path_factory.mktemp("airflow_stack")
    root = base / "storage"
    # Empty until a test links it to outputs (tests/airflow/test_pump_monitor.py: the local pipeline's).
    monitor_root = base / "monitored"
    replay = Replay.of(data_dir / settings.SENSOR_FILE, SLICE_MINUTES)
    first = (replay.with_alerts() or [0])[0]
    # Drop run k (every minute from the replay start) drops slice k; the first scheduled run comes a few
    # seconds after the stack starts, so its slice is `first` (or the next one).
    replay_start = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=first)
    extra = {
        "OIL_DATA_DIR": str(data_dir),
        "OIL_STORAGE_ROOT": root.as_uri(),
        "OIL_SLICE_MINUTES": str(SLICE_MINUTES),
        "OIL_DROP_EVERY_MINUTES": "1",
        "OIL_REPLAY_START": replay_start.isoformat(),
        "OIL_MONITOR_ROOT": monitor_root.as_uri(),
        # The streaming DAG's safety-net cron, once a year: unpaused, it runs for its latest tick as with the
        # hourly default, and no tick comes during the tests. An hourly tick in the middle of the scheduled
        # test took the place of a drop's Asset-triggered run (seen on a run across 07:00).
        "OIL_STREAM_CRON": "0 0 1 1 *",
        # The DAG files do not change during the tests: parsed at the start, not every 30 s (a third of
        # the idle stack's CPU, beside the Spark jobs on 2 cores).
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
    }
    if airflow_database:
        extra["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = airflow_database
    stack = Stack(base / "airflow", port=free_port(), **extra)
    try:
        TIMINGS["stack_ready_s"] = round(stack.start(timeout=300), 1)
        api = stack.api()
        started = time.monotonic()
        # Unpaused, the daily statistics run once for the latest @daily tick (today: no data, nothing
        # written); now, while the CPU is idle, rather than during the backfill.
        api.set_paused("oil_daily_stats", False)
        api.set_paused("oil_stage", False)
        stage_run = api.trigger("oil_stage")
        assert api.wait_run("oil_stage", stage_run, timeout=180) == "success"
        TIMINGS["stage_s"] = round(time.monotonic() - started, 1)
        # The replay, on its own from now on. The file drop first: its first run drops at once. The
        # streaming DAG after that drop: unpaused, it runs for its latest cron tick, which streams the
        # first file (unpaused earlier, that run would find nothing and hold up the first drop's run).
        api.set_paused("oil_file_drop", False)
        TIMINGS["unpaused_at"] = time.time()
        wait_for("first scheduled drop", lambda: list((root / "stream").glob("sensor_*.csv")), timeout=120)
        api.set_paused("oil_streaming", False)
        yield RunningStack(
            stack,
            api,
            replay,
            Layout(root.as_uri()),
            root,
            data_dir,
            replay_start,
            stage_run,
            "postgresql" if airflow_database else "sqlite",
            monitor_root,
        )
    finally:
        stopped = stack.stop()
        TIMINGS["processes_stopped"] = len(stopped)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)  # here: under pytest-xdist the summary runs elsewhere
        (ARTIFACTS / "airflow_timings.json").write_text(json.dumps(TIMINGS, indent=2) + "\n")


# ---- the whole replay, streamed and backfilled ----------------------------------------------------------
BACKFILL_DAYS = [f"2014-03-{day}" for day in range(10, 15)]  # the days of the MapR data (and of the sample)


@pytest.fixture(scope="session")
def replayed(airflow_stack) -> dict:
    """After the scheduled micro-batches (tests/airflow/test_airflow_stack.py runs before this is asked
    for): every slice landed, streamed, and the daily statistics backfilled for the five days. The stack's
    root then holds the whole data set's outputs, which the later tests and the pump monitor read."""
    s, started = airflow_stack, time.monotonic()
    land_whole_replay(s)
    TIMINGS["land_whole_replay_s"] = round(time.monotonic() - started, 1)
    step = time.monotonic()
    stream_every_landed_slice(s)  # the daily statistics read the readings table, which streaming fills
    s.api.set_paused("oil_streaming", True)  # leaves the CPU to the backfill
    TIMINGS["stream_whole_replay_s"] = round(time.monotonic() - step, 1)
    step = time.monotonic()
    done = backfill(s.stack, "oil_daily_stats", BACKFILL_DAYS[0], BACKFILL_DAYS[-1], None, timeout=600)
    TIMINGS["backfill_s"] = round(time.monotonic() - step, 1)
    return {"backfill": done}


def land_whole_replay(s) -> None:
    """Every slice in the landing directory. The schedule's drops (tested above) stop; the slices they
    did not drop are written by the drop task's own code, all but the last, which a manual run of
    oil_file_drop (slice_index param) drops: one drop run, not one per slice (each costs a task run)."""
    from include.replay.file_drop import drop

    s.api.set_paused("oil_streaming", True)  # not needed from here on; leaves the CPU to the backfill
    active = ("queued", "running")

    def no_drop_running() -> bool:
        return not [r for r in s.api.dag_runs("oil_file_drop") if r["state"] in active]

    wanted = sorted(set(range(s.replay.count)) & set(s.replay.slices))
    missing = [index for index in wanted if index not in s.landed()] or wanted[-1:]
    for index in missing[:-1]:
        assert drop(s.layout, index, s.replay.span).written, index
    s.api.trigger("oil_file_drop", {"slice_index": missing[-1], "slice_minutes": s.replay.span})
    wait_for("every slice landed", lambda: set(wanted) <= s.landed(), timeout=300, interval=2)
    wait_for("no drop running", no_drop_running, timeout=120, interval=2)
    s.api.set_paused("oil_file_drop", True)  # the replay is complete
    failed = [r for r in s.api.dag_runs("oil_file_drop") if r["state"] == "failed"]
    assert not failed, failed


def streaming_idle(s) -> bool:
    return not [r for r in s.api.dag_runs("oil_streaming") if r["state"] in ("queued", "running")]


def stream_every_landed_slice(s) -> None:
    """The streaming DAG catches up with every landed slice: every reading in the readings table,
    once. Paused while the slices landed, its Asset events were not queued: one manual run streams
    them all."""
    table = str(s.root / "output" / "readings")
    keys = len({(row["resid"], row["date"], row["time"]) for row in s.replay.rows})

    def stored() -> int:
        return DeltaTable(table).count() if DeltaTable.is_deltatable(table) else 0

    s.api.set_paused("oil_streaming", False)
    if stored() < keys:
        s.api.trigger("oil_streaming")
    wait_for("every landed slice streamed", lambda: streaming_idle(s) and stored() == keys, timeout=900, interval=2)


def pytest_terminal_summary(terminalreporter) -> None:
    if TIMINGS:
        shown = {k: v for k, v in TIMINGS.items() if k != "unpaused_at"}
        terminalreporter.write_line(f"airflow stack timings: {json.dumps(shown)}")
