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
    return env


def airflow(
    args: list[str], env: dict[str, str], log: Path | None = None, timeout: float | None = None
) -> subprocess.CompletedProcess:
    """Run `airflow ARGS`; its output goes to log (or is captured). Raises with the output's tail on failure."""
    command = [str(BIN_DIR / "airflow"), *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=timeout)
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as handle:
            handle.write(f"$ airflow {' '.join(args)}\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
        raise RuntimeError(f"airflow {' '.join(args)} failed with exit code {result.returncode}:\n{tail}")
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
