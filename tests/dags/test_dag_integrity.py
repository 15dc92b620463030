"""The DAG folder as Airflow parses it: no import errors, house rules, nothing heavy at parse time."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from devstack.local_airflow import airflow_env
from include import settings

EXPECTED_DAGS = {
    "oil_stage",
    "oil_file_drop",
    "oil_streaming",
    "oil_daily_stats",
    "oil_table_maintenance",
    "oil_word_count",
}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    env = airflow_env(
        tmp_path_factory.mktemp("airflow_home"), AIRFLOW__SECRETS__BACKEND="tests.dags.no_lookups.NoLookupsAtParseTime"
    )
    env.pop("AIRFLOW_CONN_SPARK_DEFAULT", None)  # a lookup would have to reach the backend
    result = subprocess.run(
        [sys.executable, str(settings.PROJECT_DIR / "tests" / "dags" / "dagbag_report.py")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_import_errors(report):
    assert report["import_errors"] == {}


def test_every_dag_is_there_one_per_file_named_after_it(report):
    assert set(report["dags"]) == EXPECTED_DAGS
    assert sorted(report["files"]) == sorted(f"{dag_id}.py" for dag_id in EXPECTED_DAGS)
    for dag_id, dag in report["dags"].items():
        assert dag["fileloc"] == f"{dag_id}.py"


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
def test_house_rules(report, dag_id):
    dag = report["dags"][dag_id]
    assert "oil-pumps" in dag["tags"]
    assert dag["doc_md"], "doc_md shows in the UI: what the DAG does, how to run it"
    assert dag["catchup"] is False
    assert dag["start_date"] is not None
    assert dag["retries"] and all(retries >= 2 for retries in dag["retries"].values()), dag["retries"]


def test_nothing_heavy_at_parse_time(report):
    assert not report["pyspark_imported"]
