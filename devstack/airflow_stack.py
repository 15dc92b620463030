"""Airflow for real: the api-server (web UI, REST API), scheduler, dag-processor and triggerer in the background.

    PYTHONPATH=. .venv/bin/python -m devstack.airflow_stack up        # make airflow-up
    PYTHONPATH=. .venv/bin/python -m devstack.airflow_stack status    # make airflow-status
    PYTHONPATH=. .venv/bin/python -m devstack.airflow_stack trigger   # make airflow-trigger
    PYTHONPATH=. .venv/bin/python -m devstack.airflow_stack backfill  # make airflow-backfill
    PYTHONPATH=. .venv/bin/python -m devstack.airflow_stack down      # make airflow-down

The stack runs in the Airflow home of the local runs (OIL_AIRFLOW_HOME, default var/airflow) with the
project's DAGs (devstack/local_airflow.py), LocalExecutor and SimpleAuthManager: user `admin`, whose
password is generated on first use into the git-ignored `<home>/simple_auth_manager_passwords.json.generated`.
Metadata: SQLite `<home>/airflow.db`, or the PostgreSQL that AIRFLOW__DATABASE__SQL_ALCHEMY_CONN names.
Port: OIL_AIRFLOW_PORT (default 8080), bound to OIL_AIRFLOW_HOST (default 127.0.0.1).
Process logs and pids: `<home>/stack/`; task logs: `<home>/logs/`.

The replay of the file-drop DAG starts when the stack first starts (OIL_REPLAY_START, kept in
`<home>/stack/replay_start` so a restart continues it), unless OIL_REPLAY_START is set.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from devstack import settings
from devstack.airflow_api import USER, Api
from devstack.local_airflow import BIN_DIR, airflow, airflow_env
from devstack.process import Daemon, Supervisor, main_of, wait_for
from include.settings import DROP_EVERY_MINUTES, REPLAY_START_VARIABLE, SLICE_MINUTES

__all__ = ["Api", "Stack", "backfill", "start_backfill", "trigger_pipeline", "wait_for"]

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
PROJECT_DAGS = tuple(sorted(path.stem for path in (settings.PROJECT_DIR / "dags").glob("oil_*.py")))
DATA_DAYS = ("2014-03-10", "2014-03-14")  # the MapR data set's five days
SQLITE_CONNECT_ARGS = "devstack.airflow_db.SQLITE_CONNECT_ARGS"  # what Airflow's configuration names


class Stack(Supervisor):
    """One Airflow stack: its home, port and environment; started and stopped as a whole."""

    tag = "airflow"
    what = "Airflow"
    # 8081 is the Spark master's web UI (make spark-up), 8082 and on its workers'.
    port_hint = "Choose another: make airflow-up AIRFLOW_PORT=8090"
    start_timeout = 300.0
    interval = 1.0
    all_or_nothing = True  # components of two starts do not mix

    def __init__(
        self,
        home: Path = settings.AIRFLOW_HOME,
        port: int | None = None,
        host: str | None = None,
        replay: str | None = None,
        **extra,
    ):
        home = Path(home).resolve()
        super().__init__(home, run_dir=home / "stack", log_dir=home / "stack")
        self.password_file = self.home / "simple_auth_manager_passwords.json.generated"
        self.state_file = self.run_dir / "state.json"
        # What the last `up` used, so later commands (down, trigger, backfill) reach the same stack.
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            state = {}
        self.port = int(port or settings.AIRFLOW_PORT or state.get("port") or 8080)
        self.host = host or settings.AIRFLOW_HOST or state.get("host") or "127.0.0.1"
        self.extra = {key: str(value) for key, value in extra.items()}
        # The replay the last `up` started (None: never started), and the one this command wants.
        self.running_replay = state.get("replay")
        self.replay = replay or settings.REPLAY or self.running_replay or "default"
        if self.replay not in settings.REPLAYS:
            raise SystemExit(f"REPLAY={self.replay} is not a replay of the stack: {' or '.join(settings.REPLAYS)}")
        database = settings.AIRFLOW_DATABASE or state.get("database")
        if database and "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in self.extra:
            self.extra["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = database
        self._probe_api: Api | None = None

    # ---- configuration -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    def replay_start(self) -> str:
        """OIL_REPLAY_START: as set, or the first start of this home (to the minute), kept. The first
        scheduled drop runs when oil_file_drop is unpaused; a restart continues the replay."""
        if value := self.extra.get("OIL_REPLAY_START") or settings.REPLAY_START:
            return value
        kept = self.run_dir / "replay_start"
        if not kept.is_file():
            now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.write_text(now.isoformat() + "\n")
        return kept.read_text().strip()

    def env(self) -> dict[str, str]:
        """Environment of every component and CLI call of this stack."""
        env = airflow_env(self.home, **settings.REPLAYS[self.replay])
        env.setdefault("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
        # One Spark job per core at most: more only slows every one of them down on a small machine.
        env.setdefault("AIRFLOW__CORE__PARALLELISM", str(max(2, os.cpu_count() or 2)))
        env.update(
            AIRFLOW__CORE__AUTH_MANAGER=SIMPLE_AUTH_MANAGER,
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{USER}:admin",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="False",  # the UI asks for a login
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(self.password_file),
            AIRFLOW__API__HOST=self.host,
            AIRFLOW__API__PORT=str(self.port),
            # Task processes reach the API server here (default: port 8080).
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{self.url}/execution/",
            OIL_REPLAY_START=self.replay_start(),
        )
        env.update(self.extra)
        if not env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "sqlite").startswith("sqlite"):
            return env
        for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC"):
            env.setdefault(key, SQLITE_CONNECT_ARGS)
        return env

    def password(self) -> str:
        """The admin password: generated once into the git-ignored password file."""
        if not self.password_file.is_file():
            self.password_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(json.dumps({USER: secrets.token_urlsafe(12)}) + "\n")
        return json.loads(self.password_file.read_text())[USER]

    def api(self) -> Api:
        return Api(self.url, self.password())

    def database(self) -> str:
        return self.env().get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN") or f"sqlite:///{self.home / 'airflow.db'}"

    # ---- processes -------------------------------------------------------------------------------
    def daemons(self) -> list[Daemon]:
        api = ("--port", str(self.port), "--host", self.host)
        return [
            Daemon(
                name,
                [str(BIN_DIR / "airflow"), name, *(api if name == "api-server" else ())],
                {self.port: "Airflow web UI and REST API"} if name == "api-server" else {},
                env=self.env,
                cwd=settings.PROJECT_DIR,
            )
            for name in COMPONENTS
        ]

    def pids(self) -> dict[str, int]:
        """The components that run now (pid file and a live process of that start time)."""
        return self.running()

    def airflow(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return airflow(list(args), self.env(), timeout=timeout)

    def prepare(self, running: dict[str, int]) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.password()
        self.say(f"metadata database: {redact(self.database())}; airflow db migrate ...")
        self.airflow("db", "migrate")
        state = {"url": self.url, "port": self.port, "host": self.host, "replay": self.replay}
        if database := self.extra.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
            state["database"] = database  # may hold a password: the file is the owner's only
        fd = os.open(self.state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(state) + "\n")
        self.running_replay = self.replay
        # Noted per port, so that a command given this port from another home finds this stack.
        settings.AIRFLOW_STACKS.mkdir(parents=True, exist_ok=True)
        (settings.AIRFLOW_STACKS / str(self.port)).write_text(str(self.home) + "\n")

    def pace(self) -> str:
        """The replay of this stack in words: how much sensor time, how often."""
        env = self.env()
        slice_minutes = env.get("OIL_SLICE_MINUTES") or str(SLICE_MINUTES)
        every = env.get("OIL_DROP_EVERY_MINUTES") or str(DROP_EVERY_MINUTES)
        return f"the {self.replay} replay: a slice of {slice_minutes} min of sensor time every {every} min"

    def where(self) -> str:
        return self.url

    def probe(self) -> bool:
        """Every component healthy, and every DAG file parsed (or an import error to show)."""
        api = self._probe_api = self._probe_api or self.api()
        health = api.health()
        if not all(
            health.get(part, {}).get("status") == "healthy"
            for part in ("metadatabase", "scheduler", "dag_processor", "triggerer")
        ):
            return False
        dags = {dag["dag_id"] for dag in api.get("/api/v2/dags?limit=100")["dags"]}
        errors = api.get("/api/v2/importErrors")["total_entries"]
        return errors > 0 or set(PROJECT_DAGS) <= dags

    def start(self, timeout: float = 300) -> float:
        """Start the stack (all of it, or none: see all_or_nothing); wait until every component is healthy
        and every DAG file is parsed. Returns the seconds it took (0.0: it ran already)."""
        return self.up(timeout)

    def stop(self, timeout: float = 30) -> list[int]:
        """Stop every component and every process under it (tasks, spark-submit); returns the pids stopped."""
        self.stop_timeout = timeout
        return self.down()

    def banner(self) -> str:
        return "\n".join(
            [
                f"Airflow web UI: {self.url}  (user {USER}, password: {self.password()})",
                f"  the password is kept in {self.password_file} (git-ignored; delete it for a new one)",
                f"  REST API: {self.url}/api/v2 (POST {self.url}/auth/token for a JWT); docs {self.url}/docs",
                f"  metadata: {redact(self.database())}; logs: {self.run_dir}/*.log, task logs {self.home}/logs",
                f"  DAGs start paused; make airflow-trigger stages the data and starts {self.pace()}",
            ]
        )


say = Stack.say


def redact(url: str) -> str:
    """A database URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
    return url


def start_backfill(stack: Stack, dag_id: str, start: str, end: str, reprocess: str | None) -> int:
    """`airflow backfill create` of dag_id over [start, end], one run at a time (a day's statistics wait for
    the day to land; in order, only one waits at a time); returns the backfill's id."""
    api = stack.api()
    api.set_paused(dag_id, False)  # the scheduler runs no task of a paused DAG, backfill runs included
    before = {item["id"] for item in api.backfills(dag_id)}
    args = ["backfill", "create", "--dag-id", dag_id, "--from-date", start, "--to-date", end, "--max-active-runs", "1"]
    if reprocess:
        args += ["--reprocess-behavior", reprocess]
    say(f"airflow {' '.join(args)}")
    stack.airflow(*args)
    return wait_for(
        f"backfill of {dag_id} created",
        lambda: [item for item in api.backfills(dag_id) if item["id"] not in before],
        60,
    )[0]["id"]


def backfill(
    stack: Stack, dag_id: str, start: str, end: str, reprocess: str | None, timeout: float, started: int | None = None
) -> dict:
    """The backfill of dag_id over [start, end] (started: the id of one already created), once complete.
    Returns the backfill (REST) with its runs."""
    api = stack.api()
    backfill_id = started if started is not None else start_backfill(stack, dag_id, start, end, reprocess)
    shown: dict[str, str] = {}

    def complete() -> dict | None:
        for run in api.dag_runs(dag_id):  # progress: a line each time a run of this backfill changes state
            if run.get("backfill_id") == backfill_id and shown.get(run["dag_run_id"]) != run["state"]:
                shown[run["dag_run_id"]] = run["state"]
                say(f"  {run['logical_date'][:10]} {run['state']}")
        return next((b for b in api.backfills(dag_id) if b["id"] == backfill_id and b.get("completed_at")), None)

    done = wait_for(f"backfill {backfill_id} of {dag_id} complete", complete, timeout, interval=2)
    runs = [run for run in api.dag_runs(dag_id) if run.get("backfill_id") == done["id"]]
    if not runs:  # a reprocessed run keeps the backfill id of the backfill that re-ran it
        runs = [run for run in api.dag_runs(dag_id) if run["run_type"] == "backfill"]
    return {**done, "runs": runs}


def latest_tick(env: dict[str, str]) -> datetime:
    """The drop schedule's latest tick at or before now (ticks: OIL_REPLAY_START + k * OIL_DROP_EVERY_MINUTES)."""
    every = timedelta(minutes=int(env.get("OIL_DROP_EVERY_MINUTES") or DROP_EVERY_MINUTES))
    origin = datetime.fromisoformat(env["OIL_REPLAY_START"])
    origin = origin if origin.tzinfo else origin.replace(tzinfo=timezone.utc)  # as the DAG's pendulum.parse
    return origin + (datetime.now(timezone.utc) - origin) // every * every


def note_earlier_outputs(root: str) -> None:
    """Say in one line what a replay on a root that already holds outputs (make demo's, an earlier replay's) does."""
    from include.settings import Layout
    from include.storage import storage_for

    layout = Layout(root)
    if storage_for(root).exists(layout.output("readings")):
        say(
            f"{root} already holds outputs (make demo's or an earlier replay's): the replay adds only what is not "
            f"there. From scratch: make airflow-down, move {layout.stream}, {layout.path('checkpoints')} and "
            f"{layout.path('output')} away, or set OIL_STORAGE_ROOT to another root, then up and trigger again"
        )


def trigger_pipeline(stack: Stack, timeout: float) -> Stack:
    """Stage the inputs, then start the replay now (restarting the stack first if it runs another replay).
    Returns the stack that runs it."""
    if (stack.running_replay or "default") != stack.replay:
        say(f"the stack runs the {stack.running_replay} replay; restarting it with the {stack.replay} one ...")
        stack.down()
        stack.up()
    api = stack.api()
    note_earlier_outputs(stack.env()["OIL_STORAGE_ROOT"])
    api.set_paused("oil_stage", False)
    run_id = api.trigger("oil_stage")
    say(f"oil_stage: {run_id} ...")
    state = api.wait_run("oil_stage", run_id, timeout)
    if state != "success":
        raise SystemExit(f"oil_stage {run_id} {state}: see {stack.url}/dags/oil_stage/runs")
    if api.get("/api/v2/dags/oil_file_drop")["is_paused"]:
        # The replay starts now: the run the scheduler makes on unpausing (the schedule's latest tick) drops
        # slice 0. A replay resumed later starts again from 0: the slices already landed are found there,
        # the same bytes, and nothing is read twice.
        api.set_variable(REPLAY_START_VARIABLE, latest_tick(stack.env()).isoformat())
    start = api.get(f"/api/v2/variables/{REPLAY_START_VARIABLE}")["value"]
    # The drops first, the streaming once the first has landed: unpaused, the streaming DAG runs at once
    # for its cron's latest tick, and that run then streams the first slice instead of finding nothing.
    before = {run["dag_run_id"] for run in api.dag_runs("oil_file_drop")}
    api.set_paused("oil_file_drop", False)
    first = wait_for(
        "the replay's first drop",
        lambda: [run for run in api.dag_runs("oil_file_drop") if run["dag_run_id"] not in before],
        timeout,
        interval=2,
    )[0]
    api.wait_run("oil_file_drop", first["dag_run_id"], timeout)
    api.set_paused("oil_streaming", False)
    say(f"staged; oil_file_drop and oil_streaming unpaused: {stack.pace()}, from {start}, each streamed on arrival")
    say(f"watch: {stack.url}/dags/oil_file_drop/runs, {stack.url}/dags/oil_streaming/runs, {stack.url}/pump-monitor/")
    return stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the stack (idempotent); print the URL and the login")
    commands.add_parser("down", help="stop the stack and everything it started")
    commands.add_parser("status", help="what runs, and the health Airflow reports")
    commands.add_parser("trigger", help="stage the inputs, then unpause the scheduled replay and streaming")
    fill = commands.add_parser("backfill", help="the documented backfill of the daily statistics")
    fill.add_argument("--dag-id", default="oil_daily_stats")
    fill.add_argument("--from-date", default=DATA_DAYS[0])
    fill.add_argument("--to-date", default=DATA_DAYS[1])
    fill.add_argument("--reprocess-behavior", choices=("none", "completed", "failed"))
    fill.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args(argv)
    return main_of("airflow", lambda: command(find_stack(Stack(), args.command), args))


def find_stack(stack: Stack, command: str) -> Stack:
    """The stack a command means: the one of its home, else the one `up` noted for the port asked for."""
    if command == "up" or stack.pids() or not settings.AIRFLOW_PORT:
        return stack
    noted = settings.AIRFLOW_STACKS / str(settings.AIRFLOW_PORT)
    if noted.is_file() and (home := Path(noted.read_text().strip())) != stack.home:
        say(f"port {settings.AIRFLOW_PORT}: the stack of {home} (noted in {noted})")
        return Stack(home)
    return stack


def command(stack: Stack, args: argparse.Namespace) -> int:
    if args.command == "up":
        stack.up()
        print(stack.banner())
        return 0
    if args.command == "down":
        stopped = stack.down()
        stack.say(
            f"stopped {len(stopped)} processes"
            if stopped
            else f"nothing was running in {stack.home} (another home: OIL_AIRFLOW_HOME=..., or its AIRFLOW_PORT=...)"
        )
        return 0
    running = stack.pids()
    if args.command == "status":
        for name in COMPONENTS:
            say(f"{name:14} {'pid ' + str(running[name]) if name in running else 'not running'}")
        if running:
            try:
                health = stack.api().health()
                say("health: " + ", ".join(f"{k} {v.get('status')}" for k, v in health.items() if isinstance(v, dict)))
                print(stack.banner())
            except OSError as error:
                say(f"no answer from {stack.url}: {error}")
        return 0 if len(running) == len(COMPONENTS) else 1
    if len(running) != len(COMPONENTS):
        raise SystemExit(f"no stack runs in {stack.home}: make airflow-up first (another home: OIL_AIRFLOW_HOME=...)")
    if args.command == "trigger":
        trigger_pipeline(stack, timeout=600)
        return 0
    if args.command == "backfill":
        result = backfill(stack, args.dag_id, args.from_date, args.to_date, args.reprocess_behavior, args.timeout)
        api, skipped = stack.api(), 0
        for run in sorted(result["runs"], key=lambda r: r["logical_date"]):
            # A green run may have skipped its work (a day outside the data): say which.
            tasks = ", ".join(
                f"{ti['task_id']} {ti['state']}" for ti in api.task_instances(args.dag_id, run["dag_run_id"])
            )
            skipped += "skipped" in tasks
            say(f"{run['logical_date'][:10]}  {run['state']:8} {tasks}")
        failed = [run for run in result["runs"] if run["state"] != "success"]
        say(
            f"backfill {result['id']}: {len(result['runs'])} runs, {len(failed)} not successful, {skipped} skipped "
            f"(a day with no reading in the staged data: see its day_landed log); {stack.url}/dags/{args.dag_id}/runs"
        )
        return 1 if failed else 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
