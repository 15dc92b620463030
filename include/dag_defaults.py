"""What every DAG of the project shares: default arguments and the Spark job task.

Imported at DAG parse time: keep it to constants and constructors (no I/O, no pyspark).
"""

from __future__ import annotations

import sys
from datetime import timedelta

import pendulum
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

from include import settings

DEFAULT_ARGS = {
    "owner": "oil-pipeline",
    "retries": 2,
    "retry_delay": timedelta(seconds=20),
}
# Start of the data set: the first day the sensors report.
DATA_START = pendulum.datetime(2014, 3, 10, tz="UTC")
TAGS = ["oil-pumps"]


def spark_job(task_id: str, job: str, application_args: list[str], **kwargs) -> SparkSubmitOperator:
    """spark-submit of spark_jobs/<job>.py on the master named by the Spark connection."""
    return SparkSubmitOperator(
        task_id=task_id,
        application=str(settings.PROJECT_DIR / "spark_jobs" / f"{job}.py"),
        name=f"oil_{job}",
        conn_id=settings.SPARK_CONN_ID,
        application_args=application_args,
        conf=settings.SPARK_CONF,
        # The jobs import include.*; the Python workers use the interpreter Airflow runs on.
        env_vars={
            "PYTHONPATH": str(settings.PROJECT_DIR),
            "PYSPARK_PYTHON": sys.executable,
            "SPARK_CONF_DIR": str(settings.SPARK_CONF_DIR),
        },
        **kwargs,
    )
