"""What every DAG of the project shares: its @dag with the defaults (owner, retries, no catch-up, tags),
the start date, the optional parameters that override what the logical date gives.

Imported at DAG parse time by every DAG: constants and airflow.sdk only (the Spark task is in
include/airflow/spark_task.py, so the DAGs without one do not import the Spark provider).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag

DEFAULT_ARGS = {
    "owner": "oil-pipeline",
    "retries": 2,
    "retry_delay": timedelta(seconds=20),
}
# Start of the data set: the first day the sensors report.
DATA_START = pendulum.datetime(2014, 3, 10, tz="UTC")
TAGS = ["oil-pumps"]


def pipeline_dag(dag_id: str, doc: str | None, *, schedule, tags: list[str], start_date=DATA_START, **options):
    """The project's @dag: the DAG's id, docs, schedule and options on top of the shared defaults."""
    return dag(
        dag_id=dag_id,
        doc_md=doc,
        schedule=schedule,
        start_date=start_date,
        catchup=False,
        tags=[*TAGS, *tags],
        default_args=DEFAULT_ARGS,
        **options,
    )


def optional_param(kind: str, description: str, **schema) -> Param:
    """A run parameter that is empty by default: the run then takes it from its logical date."""
    return Param(None, type=["null", kind], description=description, **schema)
