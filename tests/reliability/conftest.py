"""Fixtures of the fault tests: a storage root with the inputs and dropped slices, an Airflow home,
the expected outputs from the oracle, and the processes of a running spark-submit."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack import process
from devstack.local_airflow import BIN_DIR, DEFAULT_WEBHDFS_CONN, airflow, airflow_env
from include import settings
from include.replay import slicing
from include.replay.file_drop import drop
from include.settings import Layout
from tests.hdfs.conftest import hdfs_server, webhdfs_connection  # noqa: F401 (fixtures)
from testsupport import oracle

# Lines that are not readings, in a file of their own in the landing directory: the quarantine must
# hold exactly these, once each, whatever failed on the way.
BAD_LINES = ("NOT A READING", "COHUTTA,3/10/14,1:01,not-a-number,1.0,1.0,1.0,1.0,1.0")
BAD_FILE = "sensor_bad_lines.csv"
SLICE_MINUTES = 1440  # day slices: 5 of the MapR data, 6 micro-batches with the bad lines, one to kill mid-way


@dataclass
class Expected:
    """What a clean run writes, from the oracle and the bad lines."""

    alerts: list[tuple]
    enriched: list[tuple]
    quarantine: list[str]


@pytest.fixture(scope="session")
def fault_expected(data_dir: Path) -> Expected:
    alerts = oracle.alerts(oracle.readings(data_dir / settings.SENSOR_FILE))
    enriched = oracle.enriched(alerts, data_dir / settings.VENDOR_FILE, data_dir / settings.MAINT_FILE)
    return Expected(alerts, enriched, sorted(BAD_LINES))


def stage_and_drop(root: Path, data_dir: Path) -> int:
    """Stage the inputs under root and drop every slice plus the bad lines; the number of files."""
    layout = Layout(root.as_uri())
    (root / "info").mkdir(parents=True)
    shutil.copy(data_dir / settings.SENSOR_FILE, root / settings.SENSOR_FILE)
    for name in (settings.VENDOR_FILE, settings.MAINT_FILE):
        shutil.copy(data_dir / name, root / "info" / name)
    count = slicing.plan(slicing.split_lines((data_dir / settings.SENSOR_FILE).read_bytes()), SLICE_MINUTES).count
    dropped = sum(bool(drop(layout, index, SLICE_MINUTES).written) for index in range(count))
    (root / "stream" / BAD_FILE).write_text("".join(f"{line}\n" for line in BAD_LINES))
    return dropped + 1


@pytest.fixture
def fault_storage(tmp_path: Path, data_dir: Path) -> Path:
    """A local storage root, staged, with every slice and the bad lines in the landing directory."""
    root = tmp_path / "storage"
    assert stage_and_drop(root, data_dir) >= 4  # several micro-batches at one file each
    return root


@pytest.fixture
def fault_airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated Airflow home (SQLite) per test: the DAGs' Assets are named, and a home that saw them
    under another storage root marks them inactive ("inactive assets in its outlets")."""
    home = tmp_path_factory.mktemp("fault_airflow")
    airflow(["db", "migrate"], airflow_env(home))
    return home


def outputs(spark, layout: Layout) -> dict[str, list]:
    """The tables as a reader sees them (their current Delta version)."""

    def rows(dataset: str, columns) -> list[tuple]:
        table = spark.read.format("delta").load(layout.output(dataset))
        return sorted(map(tuple, table.select(*columns).collect()), key=repr)

    return {
        "alerts": rows("alerts", oracle.SENSOR_COLUMNS),
        "enriched": rows("alerts_enriched", oracle.ENRICHED_COLUMNS),
        "quarantine": sorted(line for (line,) in rows("quarantine", ("raw_line",))),
    }


def assert_outputs_equal_the_oracle(spark, layout: Layout, expected: Expected) -> None:
    got = outputs(spark, layout)
    assert len(got["alerts"]) == len(expected.alerts)
    assert got["alerts"] == sorted(expected.alerts, key=repr)
    assert len(got["enriched"]) == len(expected.enriched)
    assert got["enriched"] == expected.enriched
    assert got["quarantine"] == expected.quarantine


def batches(checkpoint: Path, log: str) -> set[int]:
    folder = checkpoint / log
    return {int(p.name) for p in folder.iterdir() if p.name.isdigit()} if folder.is_dir() else set()


def in_flight_batch(checkpoint: Path) -> int | None:
    """A micro-batch planned (offsets/N) and not committed (no commits/N), once one committed."""
    planned, committed = batches(checkpoint, "offsets"), batches(checkpoint, "commits")
    pending = planned - committed
    return min(pending) if committed and pending else None


def spark_submit_tree(marker: str) -> list[int]:
    """The spark-submit JVMs whose command line names marker (our storage root) and all they started."""
    roots = []
    for pid in process.pids():
        line = "\0".join(process.cmdline(pid))
        if "org.apache.spark.deploy.SparkSubmit" in line and marker in line:
            roots.append(pid)
    return sorted({*roots, *(child for root in roots for child in process.descendants(root))})


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# --- the session's HDFS (tests/hdfs/conftest.py): the fault tests stop its NameNode and start it again.
# Every test that uses HDFS runs in this worker's lane (tests/conftest.py LANES), one after the other.


def hdfs_airflow_env(home: Path, root: str, data_dir: Path) -> dict[str, str]:
    """Environment of an Airflow command with its storage root on the session's HDFS."""
    return airflow_env(
        home, OIL_DATA_DIR=str(data_dir), OIL_STORAGE_ROOT=root, AIRFLOW_CONN_WEBHDFS_DEFAULT=DEFAULT_WEBHDFS_CONN
    )


# --- `airflow dags test` in the background, in a process group of its own (with its spark-submits)


def start_dag(
    dag_id: str, env: dict[str, str], log: Path, conf: str | None = None, options: tuple[str, ...] = ()
) -> subprocess.Popen:
    command = [str(BIN_DIR / "airflow"), "dags", "test", dag_id, *(["-c", conf] if conf else []), *options]
    with log.open("w") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


@contextmanager
def dag_run(
    dag_id: str, env: dict[str, str], log: Path, conf: str | None = None, options: tuple[str, ...] = ()
) -> Iterator[subprocess.Popen]:
    """A DAG run for the with-block (options: more of `airflow dags test`'s); nothing of it is left running after."""
    run = start_dag(dag_id, env, log, conf, options)
    try:
        yield run
    finally:
        if run.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(run.pid, signal.SIGKILL)
            run.wait()


def finish(run: subprocess.Popen, log: Path, timeout: float = 900) -> str:
    """Wait for the run; it must succeed. Its log."""
    assert run.wait(timeout=timeout) == 0, log.read_text()[-5000:]
    return log.read_text()
