"""What `make demo` prints (scripts/demo.py), without Spark or Airflow: a failure's first line, the summary
at the end."""

from __future__ import annotations

import sys
from pathlib import Path

from devstack.local_airflow import INCUBATOR_WARNING, AirflowCommandFailed
from scripts.demo import failure_lines, run_showing_output, summary_lines

LOG = Path("/home/user/oil/var/airflow/demo.log")
COUNTS = {"readings": 27557, "alerts": 120, "alerts_enriched": 960, "quarantine": 3, "daily_stats": 30, "runs": None}


def test_a_failed_dag_run_names_the_dag_and_the_log_in_the_first_line():
    error = AirflowCommandFailed(["dags", "test", "oil_streaming"], 1, "Traceback (most recent call last):\n  ...")
    first, _, tail = failure_lines("oil_streaming (alerts, enrichment)", error, LOG)
    assert first == (
        "demo failed at oil_streaming (alerts, enrichment): airflow dags test oil_streaming failed with exit code 1;"
        f" whole output in {LOG}"
    )
    assert tail.startswith("Traceback")
    assert str(error).splitlines()[0] == "airflow dags test oil_streaming failed with exit code 1:"


def test_another_failure_says_what_first_then_its_traceback():
    try:
        raise FileNotFoundError("OIL_DATA_DIR=/data lacks sensordata.csv\nsecond line")
    except FileNotFoundError as error:
        first, trace = failure_lines("oil_stage", error, LOG)
    assert first == f"demo failed at oil_stage: FileNotFoundError: OIL_DATA_DIR=/data lacks sensordata.csv; log: {LOG}"
    assert trace.startswith("Traceback (most recent call last):")


def test_the_summary_counts_rows_per_table_says_where_and_what_next():
    lines = summary_lines(COUNTS, "file:///home/user/oil/var/storage", LOG, 461.6)
    assert lines[0] == "demo done in 7 min 42 s."
    assert "  rows    readings 27557, alerts 120, alerts_enriched 960, quarantine 3, daily_stats 30, runs -" in lines
    assert "  tables  file:///home/user/oil/var/storage/output/<table> (Delta)" in lines
    assert any(line.startswith("  storage file:///home/user/oil/var/storage (") for line in lines)
    assert f"  log     {LOG} (every Airflow run's output)" in lines
    text = "\n".join(lines)
    steps = ("make report", "make airflow-up REPLAY=fast", "make airflow-trigger", "README")
    assert all(step in text for step in steps)
    assert max(map(len, lines)) <= 120, max(lines, key=len)


def test_a_jobs_output_is_shown_without_the_launchers_noise(capfd):
    job = (
        f"import sys; print({INCUBATOR_WARNING!r}, file=sys.stderr, flush=True); print('readings: 3 rows'); sys.exit(3)"
    )
    assert run_showing_output([sys.executable, "-c", job], {}) == 3
    assert capfd.readouterr().out == "readings: 3 rows\n"
