"""Run the project's DAGs with a local Airflow (SQLite metadata): used by `make demo` and the tests.

One place defines the environment Airflow needs to find the DAGs, the shared modules and the
Spark connection, so the demo, the tests and a person at the shell run the same thing.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

from devstack import settings
from include import settings as pipeline

BIN_DIR = Path(sys.executable).parent  # the virtual environment's bin: airflow, spark-submit
DEFAULT_SPARK_CONN = json.dumps({"conn_type": "spark", "host": "local[2]"})
# The HDFS of `make hdfs-up`, reached through WebHDFS as the current user.
DEFAULT_WEBHDFS_CONN = json.dumps(
    {"conn_type": "webhdfs", "host": "localhost", "port": settings.LOCAL_WEBHDFS_PORT, "login": getpass.getuser()}
)
# The JVM prints this at every Spark start: Spark's launcher always adds --add-modules=jdk.incubator.vector
# (org.apache.spark.launcher.JavaModuleOptions) and no option silences it. Nothing to act on: left out
# wherever a job's output is shown.
INCUBATOR_WARNING = "WARNING: Using incubator modules: jdk.incubator.vector"


def is_launcher_noise(line: str) -> bool:
    """A line of a Spark job's output that says nothing to act on (also inside an Airflow log line)."""
    return INCUBATOR_WARNING in line


def spark_master_is_local(connection: str | None) -> bool:
    """Whether a Spark connection given as JSON (as here) names a local[N] master; another form is not guessed."""
    try:
        fields = json.loads(connection or "")
    except ValueError:
        return False
    return isinstance(fields, dict) and str(fields.get("host", "")).startswith("local")


def airflow_env(home: Path = settings.AIRFLOW_HOME, **overrides: str) -> dict[str, str]:
    """The environment of an Airflow command for this project; overrides are extra variables."""
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(settings.PROJECT_DIR / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(settings.PROJECT_DIR / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        PYTHONPATH=os.pathsep.join(filter(None, [str(settings.PROJECT_DIR), env.get("PYTHONPATH")])),
        PATH=os.pathsep.join([str(BIN_DIR), env.get("PATH", "")]),
        SPARK_CONF_DIR=str(settings.SPARK_CONF_DIR),
        # resolved here, so every Airflow and Spark process sees the same absolute places
        OIL_DATA_DIR=str(pipeline.DATA_DIR),
        OIL_STORAGE_ROOT=pipeline.STORAGE_ROOT,
        OIL_AIRFLOW_HOME=str(home),
    )
    env.setdefault("AIRFLOW_CONN_SPARK_DEFAULT", DEFAULT_SPARK_CONN)
    env.setdefault("AIRFLOW_CONN_WEBHDFS_DEFAULT", DEFAULT_WEBHDFS_CONN)
    env.update(overrides)
    # A local driver on the loopback address: else Spark warns at every job that the hostname resolves to
    # one. Not on a cluster, whose executors must reach the driver; a SPARK_LOCAL_IP of the user's wins.
    if spark_master_is_local(env.get(f"AIRFLOW_CONN_{pipeline.SPARK_CONN_ID.upper()}")):
        env.setdefault("SPARK_LOCAL_IP", settings.LOCAL_SPARK_IP)
    return env


class AirflowCommandFailed(RuntimeError):
    """An Airflow command that exited with an error: the first line of the message names it, the rest is
    the tail of its output."""

    def __init__(self, args: list[str], returncode: int, tail: str) -> None:
        self.command = f"airflow {' '.join(args)}"
        self.failure = f"{self.command} failed with exit code {returncode}"
        self.tail = tail
        super().__init__(f"{self.failure}:\n{tail}")


def airflow(
    args: list[str], env: dict[str, str], log: Path | None = None, timeout: float | None = None
) -> subprocess.CompletedProcess:
    """Run `airflow ARGS`; its output goes to log (or is captured). Raises AirflowCommandFailed with the
    output's tail on failure."""
    command = [str(BIN_DIR / "airflow"), *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=timeout)
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as handle:
            handle.write(f"$ airflow {' '.join(args)}\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        lines = [line for line in (result.stdout + result.stderr).splitlines() if not is_launcher_noise(line)]
        raise AirflowCommandFailed(args, result.returncode, "\n".join(lines[-60:]))
    return result


def dags_test(
    dag_id: str, env: dict[str, str], logical_date: str | None = None, conf: dict | None = None, log: Path | None = None
) -> subprocess.CompletedProcess:
    """`airflow dags test`: one whole run of a DAG, in-process, against the real Spark and storage."""
    args = ["dags", "test", dag_id]
    if logical_date:
        args.append(logical_date)
    if conf:
        args += ["-c", json.dumps(conf)]
    return airflow(args, env, log)
