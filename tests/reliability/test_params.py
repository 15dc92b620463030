"""DAG run parameters are typed and bounded Params: a bad value is refused, naming the parameter,
before anything runs; no parameter is a path, and every path a DAG hands a Spark job is under the
storage root."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from devstack.local_airflow import airflow, airflow_env
from include import settings

REPORT = settings.PROJECT_DIR / "tests" / "reliability" / "params_report.py"
# (DAG, conf, the parameter a refusal must name); each value is wrong in one way only.
BAD = [
    ("oil_streaming", {"threshold": -0.1}, "threshold"),
    ("oil_streaming", {"threshold": 10_001}, "threshold"),
    ("oil_streaming", {"threshold": "0.5"}, "threshold"),
    ("oil_streaming", {"threshold": math.nan}, "threshold"),
    ("oil_streaming", {"threshold": math.inf}, "threshold"),
    ("oil_streaming", {"max_files_per_trigger": -1}, "max_files_per_trigger"),
    ("oil_streaming", {"max_files_per_trigger": 1.5}, "max_files_per_trigger"),
    ("oil_file_drop", {"slice_index": -1}, "slice_index"),
    ("oil_file_drop", {"slice_index": 10_000_000}, "slice_index"),
    ("oil_file_drop", {"slice_minutes": 0}, "slice_minutes"),
    ("oil_file_drop", {"slice_minutes": 7 * 24 * 60 + 1}, "slice_minutes"),
    ("oil_file_drop", {"slice_minutes": "360"}, "slice_minutes"),
    ("oil_daily_stats", {"day": "2014-02-30"}, "day"),
    ("oil_daily_stats", {"day": "3/10/14"}, "day"),
    ("oil_daily_stats", {"day": "2014-03-10; rm -rf /"}, "day"),
    ("oil_word_count", {"host": "--output=/etc"}, "host"),
    ("oil_word_count", {"host": "localhost; rm -rf /"}, "host"),
    ("oil_word_count", {"port": 0}, "port"),
    ("oil_word_count", {"port": 65_536}, "port"),
    ("oil_word_count", {"duration": 0}, "duration"),
    ("oil_word_count", {"idle": -1}, "idle"),
]
GOOD = [
    ("oil_streaming", {"threshold": 0.5, "max_files_per_trigger": 3}),
    ("oil_file_drop", {"slice_index": 0, "slice_minutes": 1440}),
    ("oil_daily_stats", {"day": "2014-03-10"}),
    ("oil_daily_stats", {"day": None}),
    ("oil_word_count", {"host": "127.0.0.1", "port": 9999, "duration": 60, "idle": 0}),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    env = airflow_env(tmp_path_factory.mktemp("airflow_home"))
    cases = [(dag_id, conf) for dag_id, conf, _ in BAD] + GOOD
    result = subprocess.run(
        [sys.executable, str(REPORT)], input=json.dumps(cases), env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_bad_value_is_refused_naming_its_parameter(report):
    refusals = report["refusals"][: len(BAD)]
    for (dag_id, conf, name), refusal in zip(BAD, refusals, strict=True):
        assert refusal is not None, f"{dag_id} accepted {conf}"
        assert refusal.startswith(f"Invalid input for param {name}:"), refusal


def test_good_values_are_accepted(report):
    assert report["refusals"][len(BAD) :] == [None] * len(GOOD)


def test_every_param_has_a_type_and_bounds(report):
    for dag_id, params in report["schemas"].items():
        for name, schema in params.items():
            kinds = {schema["type"]} if isinstance(schema["type"], str) else set(schema["type"]) - {"null"}
            assert kinds <= {"number", "integer", "string"}, (dag_id, name, schema)
            if kinds & {"number", "integer"}:
                assert {"minimum", "maximum"} <= schema.keys(), (dag_id, name, schema)
            if "string" in kinds:
                assert schema.keys() & {"format", "pattern", "enum"}, (dag_id, name, schema)


def test_no_param_is_a_path_and_every_path_given_to_spark_is_under_the_storage_root(report):
    for dag_id, params in report["schemas"].items():
        path_words = {"path", "dir", "folder", "root", "source", "output", "checkpoint"}
        assert not any(set(name.split("_")) & path_words for name in params), (dag_id, list(params))
    paths = [arg for args in report["spark_args"].values() for arg in args if "/" in arg]
    spark_tasks = {
        "oil_streaming.alerts",
        "oil_streaming.enrich_alerts",
        "oil_streaming.incidents",
        "oil_daily_stats.daily_stats",
        "oil_word_count.word_count",
        "oil_table_maintenance.table_maintenance",
    }
    assert set(report["spark_args"]) == spark_tasks and paths
    for path in paths:
        # the root itself (table maintenance walks every table under it), or a path under it
        under_root = path == settings.STORAGE_ROOT or path.startswith(settings.STORAGE_ROOT + "/")
        assert under_root and "/../" not in path, path
        assert "{{" not in path, f"{path}: a templated path could be steered by a param"


@pytest.fixture(scope="module")
def migrated_home(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("dags_test")
    env = airflow_env(base / "airflow", OIL_STORAGE_ROOT=(base / "storage").as_uri())
    airflow(["db", "migrate"], env)
    return {"env": env, "base": base}


@pytest.mark.parametrize(
    ("dag_id", "conf", "name"),
    [("oil_streaming", {"threshold": math.nan}, "threshold"), ("oil_file_drop", {"slice_minutes": 0}, "slice_minutes")],
    ids=["streaming-nan-threshold", "file-drop-zero-span"],
)
def test_airflow_refuses_a_bad_run_before_any_task_runs(migrated_home, dag_id, conf, name):
    base = migrated_home["base"]
    with pytest.raises(RuntimeError, match=f"Invalid input for param {name}:"):
        airflow(["dags", "test", dag_id, "-c", json.dumps(conf)], migrated_home["env"])
    assert not (base / "storage").exists()  # no task touched the storage root
    assert not list((base / "airflow").glob("logs/dag_id=*"))  # nor wrote a task log
