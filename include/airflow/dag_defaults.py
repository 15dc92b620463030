"""What every DAG of the project shares: default arguments, start date, tags.

Imported at DAG parse time by every DAG: constants only (the Spark task is in include/airflow/spark_task.py,
so the DAGs without one do not import the Spark provider).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum

DEFAULT_ARGS = {
    "owner": "oil-pipeline",
    "retries": 2,
    "retry_delay": timedelta(seconds=20),
}
# Start of the data set: the first day the sensors report.
DATA_START = pendulum.datetime(2014, 3, 10, tz="UTC")
TAGS = ["oil-pumps"]
