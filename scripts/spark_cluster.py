"""A Spark standalone cluster on this machine (one master, OIL_SPARK_WORKERS workers), from the installed PySpark.

    PYTHONPATH=. .venv/bin/python scripts/spark_cluster.py up       # make spark-up: start what is missing, wait
    PYTHONPATH=. .venv/bin/python scripts/spark_cluster.py status   # make spark-status: exit 0 when ready, 3 if not
    PYTHONPATH=. .venv/bin/python scripts/spark_cluster.py down     # make spark-down: nothing is left running

The pip wheel of PySpark has no start-master.sh: the daemons are `spark-class ...Master` and
`spark-class ...Worker`. Master spark://127.0.0.1:7077, its web UI and the JSON state (/json/) on
port 8081 (off Airflow's 8080), worker i's UI on 8082 + i. `up` is idempotent: it starts only what
does not run, and returns once the master is ALIVE with every worker ALIVE. Pids, logs and the
workers' work dirs (executor logs) are under OIL_SPARK_CLUSTER_HOME (default var/spark); ports,
cores and memory come from include/settings.py (OIL_SPARK_MASTER_PORT, OIL_SPARK_WORKER_CORES, ...).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from include import settings
from include.local_airflow import BIN_DIR
from scripts.hdfs import alive, cmdline, http_json, locked, tail, taken_ports, terminate

START_TIMEOUT = 180.0  # seconds; about 30 s on two busy cores
MASTER_UI = f"http://{settings.SPARK_MASTER_HOST}:{settings.SPARK_MASTER_WEBUI_PORT}"


class ClusterError(Exception):
    """A failure to report to the person: printed without a traceback, exit code 1."""


def say(message: str) -> None:
    print(f"[spark] {message}", flush=True)


@dataclass(frozen=True)
class Home:
    """The folders of one cluster (OIL_SPARK_CLUSTER_HOME)."""

    base: Path

    @property
    def logs(self) -> Path:
        return self.base / "logs"

    @property
    def run(self) -> Path:
        return self.base / "run"

    @property
    def work(self) -> Path:
        return self.base / "work"


@dataclass(frozen=True)
class Daemon:
    role: str  # master | worker-<i>
    java_class: str
    args: tuple[str, ...]
    ports: dict[int, str]

    def marker(self, home: Home) -> str:
        """A Java property on the daemon's command line: finds our processes, and only ours."""
        return f"-Doil.spark.daemon={home.base}:{self.role}"

    def pid_file(self, home: Home) -> Path:
        return home.run / f"{self.role}.pid"

    def log_file(self, home: Home) -> Path:
        return home.logs / f"{self.role}.log"


def daemons(home: Home) -> list[Daemon]:
    host, web = settings.SPARK_MASTER_HOST, settings.SPARK_MASTER_WEBUI_PORT
    master = Daemon(
        "master",
        "org.apache.spark.deploy.master.Master",
        ("--host", host, "--port", str(settings.SPARK_MASTER_PORT), "--webui-port", str(web)),
        {settings.SPARK_MASTER_PORT: "Spark master", web: "Spark master web UI"},
    )
    workers = [
        Daemon(
            f"worker-{i}",
            "org.apache.spark.deploy.worker.Worker",
            (
                *("--host", host, "--webui-port", str(web + 1 + i)),
                *("--cores", str(settings.SPARK_WORKER_CORES), "--memory", settings.SPARK_WORKER_MEMORY),
                *("--work-dir", str(home.work / f"worker-{i}"), settings.SPARK_MASTER_URL),
            ),
            {web + 1 + i: f"Spark worker {i} web UI"},
        )
        for i in range(settings.SPARK_WORKERS)
    ]
    return [master, *workers]


# --- processes -------------------------------------------------------------------------------------


def running_pid(home: Home, daemon: Daemon) -> int | None:
    try:
        pid = int(daemon.pid_file(home).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if daemon.marker(home) in cmdline(pid) else None


def leftover_pids(home: Home) -> list[int]:
    """Processes of this cluster: daemons (by their marker) and executors (working in home's work dir)."""
    markers = {d.marker(home) for d in daemons(home)}
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if markers & set(cmdline(int(proc.name))) or Path(os.readlink(proc / "cwd")).is_relative_to(home.work):
                found.append(int(proc.name))
    return found


def check_ports_free(daemon: Daemon) -> None:
    taken = taken_ports(daemon.ports, settings.SPARK_MASTER_HOST)
    if taken:
        raise ClusterError(
            f"cannot start the Spark {daemon.role}: "
            + "; ".join(taken)
            + ". Stop that process or choose other ports (OIL_SPARK_MASTER_PORT, OIL_SPARK_MASTER_WEBUI_PORT)."
        )


def start(home: Home, daemon: Daemon) -> int:
    check_ports_free(daemon)
    for folder in (home.logs, home.run, home.work):
        folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "SPARK_CONF_DIR": str(settings.SPARK_CONF_DIR),  # warnings only
        "SPARK_DAEMON_JAVA_OPTS": daemon.marker(home),
        "SPARK_DAEMON_MEMORY": "256m",
        "SPARK_LOCAL_IP": settings.SPARK_MASTER_HOST,
        "PYSPARK_PYTHON": settings.SPARK_PYTHON,
    }
    log = daemon.log_file(home)
    with log.open("a") as out:
        out.write(f"\n===== {datetime.now().isoformat(timespec='seconds')} spark_cluster.py starts the {daemon.role}\n")
        out.flush()
        process = subprocess.Popen(
            [str(BIN_DIR / "spark-class"), daemon.java_class, *daemon.args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=home.base,
            start_new_session=True,  # its own process group, with the executors a worker starts
        )
    daemon.pid_file(home).write_text(f"{process.pid}\n")
    say(f"started the {daemon.role} (pid {process.pid}, log {log})")
    return process.pid


# --- the master's view -----------------------------------------------------------------------------


def master_state() -> dict | None:
    """The master's /json/ (status, workers, activeapps, completedapps), None if unreachable."""
    try:
        return http_json(f"{MASTER_UI}/json/")
    except (OSError, ValueError):
        return None


def alive_workers(state: dict | None) -> list[dict]:
    return [w for w in (state or {}).get("workers", []) if w.get("state") == "ALIVE"]


def ready(state: dict | None) -> bool:
    return bool(state) and state.get("status") == "ALIVE" and len(alive_workers(state)) >= settings.SPARK_WORKERS


def wait_ready(home: Home, pids: dict[str, int]) -> dict:
    deadline = time.monotonic() + START_TIMEOUT
    state = None
    while time.monotonic() < deadline:
        for daemon in daemons(home):
            pid = pids.get(daemon.role)
            if pid and not alive(pid):
                daemon.pid_file(home).unlink(missing_ok=True)
                raise ClusterError(
                    f"the Spark {daemon.role} exited during start; last lines of "
                    f"{daemon.log_file(home)}:\n{tail(daemon.log_file(home))}"
                )
        state = master_state()
        if ready(state):
            return state
        time.sleep(0.5)  # poll interval: the loop checks the master's state
    status = (state or {}).get("status", "unreachable")
    raise ClusterError(
        f"the cluster was not ready within {START_TIMEOUT:.0f} s (master: {status}, "
        f"ALIVE workers {len(alive_workers(state))}/{settings.SPARK_WORKERS}); logs in {home.logs}"
    )


def summary(state: dict | None) -> str:
    workers = alive_workers(state)
    cores = sum(w.get("cores", 0) for w in workers)
    return f"{settings.SPARK_MASTER_URL}, web UI and /json/ {MASTER_UI}, ALIVE workers: {len(workers)}, cores: {cores}"


# --- commands --------------------------------------------------------------------------------------


def cmd_up(home: Home) -> int:
    with locked(home):
        all_daemons = daemons(home)
        running = {d.role: pid for d in all_daemons if (pid := running_pid(home, d))}
        if len(running) == len(all_daemons) and ready(master_state()):
            say(f"already running; {summary(master_state())}")
            return 0
        for daemon in all_daemons:  # every port before starting anything
            if daemon.role not in running:
                check_ports_free(daemon)
        started, started_now = time.monotonic(), []
        try:
            for daemon in all_daemons:
                if daemon.role in running:
                    say(f"the {daemon.role} is already running (pid {running[daemon.role]})")
                else:
                    running[daemon.role] = start(home, daemon)
                    started_now.append(running[daemon.role])
            state = wait_ready(home, running)
        except BaseException:  # a failure or Ctrl-C: leave nothing half-started behind
            say(f"start failed: stopping what this run started (logs stay in {home.logs})")
            terminate(started_now, "a daemon", groups=True)
            raise
        say(f"ready in {time.monotonic() - started:.1f} s: {summary(state)}")
    return 0


def cmd_down(home: Home) -> int:
    with locked(home):
        # Workers first (their executors with them, as process groups), then the master, then strays.
        for daemon in reversed(daemons(home)):
            pid = running_pid(home, daemon)
            if pid:
                terminate([pid], f"the {daemon.role}", groups=True)
                say(f"stopped the {daemon.role} (pid {pid})")
            daemon.pid_file(home).unlink(missing_ok=True)
        strays = leftover_pids(home)
        if strays:
            terminate(strays, "a leftover process")
            say(f"stopped leftover processes of {home.base}: {strays}")
    return 0


def cmd_status(home: Home) -> int:
    print(f"OIL_SPARK_CLUSTER_HOME  {home.base}")
    for daemon in daemons(home):
        pid = running_pid(home, daemon)
        print(f"{daemon.role:<23} {'running, pid ' + str(pid) if pid else 'not running'}")
    state = master_state()
    if state is None:
        print(f"master                  {MASTER_UI}/json/ not reachable")
        return 3
    print(f"master                  {state.get('status')}; {summary(state)}")
    for app in state.get("activeapps", []):
        print(f"running application     {app['id']} {app['name']} ({app['state']})")
    return 0 if ready(state) else 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("up", "down", "status"))
    args = parser.parse_args(argv)
    home = Home(settings.SPARK_CLUSTER_HOME)
    try:
        return {"up": cmd_up, "down": cmd_down, "status": cmd_status}[args.command](home)
    except ClusterError as error:
        print(f"[spark] ERROR: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
