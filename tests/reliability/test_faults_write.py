"""A write that fails leaves every table as it was, readable by a reader outside Spark (deltalake), and
the job's output says in one line what failed and where, before any trace; once the cause is gone,
the next run writes what the failed one could not.

The readings table's folder is made immutable (chattr +i: even root cannot create a file in it), then
a new slice is streamed by the job's own spark-submit, as Airflow's SparkSubmitOperator runs it.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from deltalake import DeltaTable

from devstack.local_airflow import BIN_DIR, airflow_env
from include import settings
from include.replay.file_drop import drop
from include.settings import Layout
from testsupport import oracle

TABLES = ("readings", "alerts", "quarantine", "runs")


def submit_alerts(layout: Layout, home: Path) -> subprocess.CompletedProcess:
    conf = [arg for item in settings.SPARK_SUBMIT_CONF.items() for arg in ("--conf", "=".join(item))]
    job = str(settings.PROJECT_DIR / "spark_jobs" / "alerts.py")
    tables = ["--output", layout.output("alerts"), "--quarantine", layout.output("quarantine")]
    args = ["--source", layout.stream, *tables, "--checkpoints", layout.path("checkpoints")]
    command = [str(BIN_DIR / "spark-submit"), "--master", "local[2]", *conf, job, *args]
    env = airflow_env(home, PYTHONPATH=str(settings.PROJECT_DIR), SPARK_CONF_DIR=str(settings.SPARK_DRIVER_CONF_DIR))
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=600)


def snapshot(layout: Layout) -> dict[str, tuple[int, list]]:
    """Each table's version and rows, as deltalake (no Spark) reads them."""
    out = {}
    for name in TABLES:
        table = DeltaTable(layout.output(name))
        rows = table.to_pyarrow_table().to_pylist()
        out[name] = (table.version(), sorted(map(repr, rows)))
    return out


@pytest.fixture
def immutable():
    folders: list[Path] = []

    def make(folder: Path) -> None:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
        folders.append(folder)

    yield make
    for folder in folders:
        subprocess.run(["chattr", "-i", str(folder)], check=False)


def test_a_failed_write_leaves_every_table_readable_and_says_what_and_where(tmp_path, data_dir, immutable):
    root = tmp_path / "storage"
    (root / "info").mkdir(parents=True)
    shutil.copy(data_dir / settings.SENSOR_FILE, root / settings.SENSOR_FILE)
    layout = Layout(root.as_uri())
    assert drop(layout, 0, 1440).written
    assert submit_alerts(layout, tmp_path / "airflow").returncode == 0
    before = snapshot(layout)

    readings = root / "output" / "readings"  # every slice has readings (not every one has alerts)
    immutable(readings / "_delta_log")
    immutable(readings)
    assert drop(layout, 1, 1440).written
    failed = submit_alerts(layout, tmp_path / "airflow")

    assert failed.returncode != 0
    # The task log: spark-submit's stderr (the JVM's log) and stdout (the Python driver's stdout and stderr).
    log = failed.stderr + failed.stdout
    ours = [line for line in log.splitlines() if line.startswith("alerts: FAILED:")]
    assert len(ours) == 1, log[-6000:]
    assert f"writing the Delta table {layout.output('readings')} failed" in ours[0]
    traces = [log.find(mark) for mark in ("Traceback", "\tat ", "Caused by") if mark in log]
    assert all(log.index(ours[0]) < trace for trace in traces), log[:6000]  # the line comes before any trace
    assert snapshot(layout) == before  # every table readable, at its previous version

    subprocess.run(["chattr", "-i", str(readings), str(readings / "_delta_log")], check=True)
    assert submit_alerts(layout, tmp_path / "airflow").returncode == 0  # the retry writes it all
    # slices 0 and 1 of a day each: the readings of the data's first two days (and their alerts)
    readings = oracle.readings(data_dir / settings.SENSOR_FILE)
    first_two = sorted({datetime.strptime(r["date"], "%m/%d/%y") for r in readings})[:2]
    expected = oracle.alerts([r for r in readings if datetime.strptime(r["date"], "%m/%d/%y") in first_two])
    rows = DeltaTable(layout.output("readings")).to_pyarrow_table().to_pylist()
    assert sorted(tuple(r[c] for c in oracle.SENSOR_COLUMNS) for r in rows) == sorted(
        tuple(r[c] for c in oracle.SENSOR_COLUMNS)
        for r in readings
        if datetime.strptime(r["date"], "%m/%d/%y") in first_two
    )
    rows = DeltaTable(layout.output("alerts")).to_pyarrow_table().to_pylist()
    assert sorted(tuple(r[c] for c in oracle.SENSOR_COLUMNS) for r in rows) == expected
