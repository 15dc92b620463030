"""`airflow dags test oil_word_count` against a real line server: the counts equal the oracle."""

from __future__ import annotations

from collections import Counter

from devstack.local_airflow import airflow, airflow_env, dags_test
from include.settings import Layout
from testsupport.line_server import line_server

LINES = ["to be or not to be", "that is the question", "", "  to\tbe  "]


def test_word_count_dag_counts_what_the_socket_sends(spark, tmp_path):
    root = (tmp_path / "storage").as_uri()
    env = airflow_env(tmp_path / "airflow", OIL_STORAGE_ROOT=root)
    airflow(["db", "migrate"], env)
    with line_server([LINES]) as port:
        # stops 3 s after the last line; 120 s is only the outer bound
        dags_test("oil_word_count", env, conf={"host": "127.0.0.1", "port": port, "duration": 120, "idle": 3})
    table = spark.read.format("delta").load(Layout(root).output("word_counts"))
    counts = {row["value"]: row["count"] for row in table.collect()}
    assert counts == Counter(word for line in LINES for word in line.split())
