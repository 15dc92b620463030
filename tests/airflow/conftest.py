"""One real Airflow stack (api-server, scheduler, dag-processor, triggerer) for the whole session.

Metadata database: PostgreSQL when a local one is set up (`bash scripts/ci_services.sh postgres` writes
var/postgres/url; `.ci/run` does it), in a database of this session's own that is dropped at the end.
On CI (CI=true) PostgreSQL is required: without it the tests fail, they are not skipped. Elsewhere,
without var/postgres/url (or with OIL_TEST_AIRFLOW_DB=sqlite), the stack runs on SQLite and says so.

It follows the README's path for a newcomer, in one Airflow home and metadata database: `make demo` (on a
storage root of its own; the whole data set as one slice, one day's statistics, to keep it short), then
`make airflow-up REPLAY=fast` (a day of sensor time a
minute), `make airflow-trigger` (staging, then the replay from slice 0: trigger_pipeline) and, right after
it, `make airflow-backfill` of the data's five days, whose runs wait for their day to land (the
daily-statistics DAG's sensor) and complete as the replay passes them.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest
from deltalake import DeltaTable

from devstack.airflow_stack import Api, Stack, backfill, start_backfill, trigger_pipeline, wait_for
from devstack.mail_server import MailServer
from include import settings
from include.settings import Layout
from tests.pipeline_run import WHOLE_DATA_SET_MINUTES, run_demo
from testsupport.replay import Query, Replay

POSTGRES_URL_FILE = settings.VAR_DIR / "postgres" / "url"
ARTIFACTS = settings.VAR_DIR / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SLICE_MINUTES = 1440  # the fast replay's span: 5 slices of the MapR data, alerts in the last 2
TIMINGS: dict[str, float] = {}
# make demo before the stack, cut short: the whole data set as one slice (one streaming run), one day's statistics.
DEMO_ARGS = ("--slice-minutes", WHOLE_DATA_SET_MINUTES, "--days", "1")


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
    stage_run_id: str
    database: str
    monitor_root: Path  # OIL_MONITOR_ROOT of the stack: what its pump monitor page shows
    backfill_id: int  # the backfill started right after the trigger
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
    extra = {
        "OIL_DATA_DIR": str(data_dir),
        "OIL_STORAGE_ROOT": root.as_uri(),
        "OIL_MONITOR_ROOT": monitor_root.as_uri(),
        # A waiting backfill run looks at its day every 15 s, not every minute: the test waits less.
        "OIL_DAY_WAIT_POKE_SECONDS": "15",
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
    # The incidents' messages go to a local mail server of the session's own (README, "Local mail server").
    mail = MailServer(base / "mail", free_port())
    extra[f"AIRFLOW_CONN_{settings.SMTP_CONN_ID.upper()}"] = mail.airflow_connection()
    mail.up()
    home = base / "airflow"
    database = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_database} if airflow_database else {}
    started = time.monotonic()
    demo = run_demo(base, data_dir, (base / "demo-storage").as_uri(), *DEMO_ARGS, **database)
    TIMINGS["demo_s"] = round(time.monotonic() - started, 1)
    stack = Stack(home, port=free_port(), replay="fast", **extra)
    try:
        TIMINGS["stack_ready_s"] = round(stack.start(timeout=300), 1)
        api = stack.api()
        started = time.monotonic()
        # Unpaused, the daily statistics run once for the latest @daily tick: today, not in the data,
        # skipped with that reason; now, while the CPU is idle.
        api.set_paused("oil_daily_stats", False)
        TIMINGS["unpaused_at"] = time.time()
        triggered_at = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")  # as the REST API's times
        trigger_pipeline(stack, timeout=300)  # make airflow-trigger: staged, the first slice dropped
        TIMINGS["trigger_s"] = round(time.monotonic() - started, 1)
        # make airflow-backfill right after the trigger: its runs wait for their days to land.
        backfill_id = start_backfill(stack, "oil_daily_stats", BACKFILL_DAYS[0], BACKFILL_DAYS[-1], None)
        stage_run = api.dag_runs("oil_stage")[-1]["dag_run_id"]
        yield RunningStack(
            stack,
            api,
            replay,
            Layout(root.as_uri()),
            root,
            data_dir,
            stage_run,
            "postgresql" if airflow_database else "sqlite",
            monitor_root,
            backfill_id,
            {"demo": demo, "triggered_at": triggered_at, "mail": mail},
        )
    finally:
        mail.down()
        stopped = stack.stop()
        TIMINGS["processes_stopped"] = len(stopped)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)  # here: under pytest-xdist the summary runs elsewhere
        (ARTIFACTS / "airflow_timings.json").write_text(json.dumps(TIMINGS, indent=2) + "\n")


# ---- the whole replay, streamed and backfilled ----------------------------------------------------------
BACKFILL_DAYS = [f"2014-03-{day}" for day in range(10, 15)]  # the days of the MapR data (and of the sample)


@pytest.fixture(scope="session")
def replayed(airflow_stack) -> dict:
    """After the scheduled micro-batches (tests/airflow/test_airflow_stack.py runs before this is asked
    for): the replay complete (every slice landed and streamed), and the backfill started right after the
    trigger complete. The stack's root then holds the whole data set's outputs, which the later tests and
    the pump monitor read."""
    s, started = airflow_stack, time.monotonic()
    wanted = set(range(s.replay.count)) & set(s.replay.slices)
    wait_for("every slice landed", lambda: wanted <= s.landed(), timeout=600, interval=2)
    wait_for("no drop running", lambda: no_run_active(s, "oil_file_drop"), timeout=120, interval=2)
    s.api.set_paused("oil_file_drop", True)  # the replay is complete
    TIMINGS["replay_landed_s"] = round(time.time() - TIMINGS["unpaused_at"], 1)
    stream_every_landed_slice(s)  # the daily statistics read the readings table, which streaming fills
    TIMINGS["replay_streamed_s"] = round(time.time() - TIMINGS["unpaused_at"], 1)
    step = time.monotonic()
    done = backfill(s.stack, "oil_daily_stats", BACKFILL_DAYS[0], BACKFILL_DAYS[-1], None, 600, s.backfill_id)
    TIMINGS["backfill_after_replay_s"] = round(time.monotonic() - step, 1)
    TIMINGS["replayed_s"] = round(time.monotonic() - started, 1)
    return {"backfill": done}


def no_run_active(s, dag_id: str) -> bool:
    return not [r for r in s.api.dag_runs(dag_id) if r["state"] in ("queued", "running")]


def streaming_idle(s) -> bool:
    return no_run_active(s, "oil_streaming")


def stream_every_landed_slice(s) -> None:
    """The streaming DAG catches up with every landed slice: every reading in the readings table, once
    (a manual run if a drop's Asset event found it paused)."""
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
