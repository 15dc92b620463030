"""A Spark standalone cluster on this machine (one master, OIL_SPARK_WORKERS workers), from the installed PySpark.

    PYTHONPATH=. .venv/bin/python -m devstack.spark_cluster up       # make spark-up: start what is missing, wait
    PYTHONPATH=. .venv/bin/python -m devstack.spark_cluster status   # make spark-status: exit 0 when ready, 3 if not
    PYTHONPATH=. .venv/bin/python -m devstack.spark_cluster down     # make spark-down: nothing is left running

The pip wheel of PySpark has no start-master.sh: the daemons are `spark-class ...Master` and
`spark-class ...Worker`. Master spark://127.0.0.1:7077, its web UI and the JSON state (/json/) on
port 8081 (off Airflow's 8080), worker i's UI on 8082 + i. `up` is idempotent: it starts only what
does not run, and returns once the master is ALIVE with every worker ALIVE. Pids, logs and the
workers' work dirs (executor logs) are under OIL_SPARK_CLUSTER_HOME (default var/spark); ports,
cores and memory come from devstack/settings.py (OIL_SPARK_MASTER_PORT, OIL_SPARK_WORKER_CORES, ...).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from devstack import settings
from devstack.local_airflow import BIN_DIR
from devstack.process import Daemon, Supervisor, cmdline, cwd, http_json, main_of, pids

MASTER_UI = f"http://{settings.SPARK_MASTER_HOST}:{settings.SPARK_MASTER_WEBUI_PORT}"


class Cluster(Supervisor):
    """One cluster (OIL_SPARK_CLUSTER_HOME): a master and its workers, up/down."""

    tag = "spark"
    what = "the Spark cluster"
    host = settings.SPARK_MASTER_HOST
    port_hint = "Stop that process or choose other ports (OIL_SPARK_MASTER_PORT, OIL_SPARK_MASTER_WEBUI_PORT)."
    start_timeout = 180.0  # seconds; about 30 s on two busy cores

    def __init__(self, home: Path = settings.SPARK_CLUSTER_HOME) -> None:
        super().__init__(home)
        self.work = self.home / "work"

    def marker(self, role: str) -> str:
        """A Java property on the daemon's command line: finds our processes, and only ours."""
        return f"-Doil.spark.daemon={self.home}:{role}"

    def daemon(self, role: str, java_class: str, args: tuple[str, ...], ports: dict[int, str]) -> Daemon:
        env = {
            **os.environ,
            "SPARK_CONF_DIR": str(settings.SPARK_CONF_DIR),  # warnings only
            "SPARK_DAEMON_JAVA_OPTS": self.marker(role),
            "SPARK_DAEMON_MEMORY": "256m",
            "SPARK_LOCAL_IP": settings.SPARK_MASTER_HOST,
            "PYSPARK_PYTHON": settings.SPARK_PYTHON,
        }
        command = [str(BIN_DIR / "spark-class"), java_class, *args]
        return Daemon(role, command, ports, (self.marker(role),), f"Spark {role}", env)

    def daemons(self) -> list[Daemon]:
        host, web = settings.SPARK_MASTER_HOST, settings.SPARK_MASTER_WEBUI_PORT
        master = self.daemon(
            "master",
            "org.apache.spark.deploy.master.Master",
            ("--host", host, "--port", str(settings.SPARK_MASTER_PORT), "--webui-port", str(web)),
            {settings.SPARK_MASTER_PORT: "Spark master", web: "Spark master web UI"},
        )
        workers = [
            self.daemon(
                f"worker-{i}",
                "org.apache.spark.deploy.worker.Worker",
                (
                    *("--host", host, "--webui-port", str(web + 1 + i)),
                    *("--cores", str(settings.SPARK_WORKER_CORES), "--memory", settings.SPARK_WORKER_MEMORY),
                    *("--work-dir", str(self.work / f"worker-{i}"), settings.SPARK_MASTER_URL),
                ),
                {web + 1 + i: f"Spark worker {i} web UI"},
            )
            for i in range(settings.SPARK_WORKERS)
        ]
        return [master, *workers]

    def prepare(self, running: dict[str, int]) -> None:
        self.work.mkdir(parents=True, exist_ok=True)

    def probe(self) -> dict | None:
        state = master_state()
        return state if ready(state) else None

    def where(self) -> str:
        return f"{settings.SPARK_MASTER_URL} ({MASTER_UI}/json/)"

    def summary(self, state: object = None) -> str:
        workers = alive_workers(state or master_state())
        cores = sum(w.get("cores", 0) for w in workers)
        return (
            f"{settings.SPARK_MASTER_URL}, web UI and /json/ {MASTER_UI}, ALIVE workers: {len(workers)}, cores: {cores}"
        )

    def leftovers(self) -> list[int]:
        """Processes of this cluster: daemons (by their marker) and executors (working in its work dir)."""
        markers = {d.markers[0] for d in self.daemons()}
        return [
            pid
            for pid in pids()
            if markers & set(cmdline(pid)) or ((folder := cwd(pid)) is not None and folder.is_relative_to(self.work))
        ]


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


# --- commands --------------------------------------------------------------------------------------


def cmd_status(cluster: Cluster) -> int:
    print(f"OIL_SPARK_CLUSTER_HOME  {cluster.home}")
    print("\n".join(line.removeprefix("Spark ") for line in cluster.status_lines(29)))
    state = master_state()
    if state is None:
        print(f"master                  {MASTER_UI}/json/ not reachable")
        return 3
    print(f"master                  {state.get('status')}; {cluster.summary(state)}")
    for app in state.get("activeapps", []):
        print(f"running application     {app['id']} {app['name']} ({app['state']})")
    return 0 if ready(state) else 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("up", "down", "status"))
    args = parser.parse_args(argv)
    cluster = Cluster()

    def run() -> int:
        if args.command == "status":
            return cmd_status(cluster)
        getattr(cluster, args.command)()  # up or down
        return 0

    return main_of("spark", run)


if __name__ == "__main__":
    sys.exit(main())
