"""The Spark job task of the DAGs: spark-submit of a project job through SparkSubmitOperator.

Imported at DAG parse time: constructors only (no I/O, no pyspark).
"""

from __future__ import annotations

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

from include import settings


class ProjectSparkSubmitOperator(SparkSubmitOperator):
    """spark-submit with the project's modules zipped into --py-files, built when the task runs."""

    def execute(self, context):
        from include.airflow import job_package

        self.py_files = str(job_package.build())
        return super().execute(context)


def spark_job(task_id: str, job: str, application_args: list[str], **kwargs) -> SparkSubmitOperator:
    """spark-submit of spark_jobs/<job>.py on the master named by the Spark connection.

    The same on local[N], a standalone cluster, YARN or Kubernetes: the master (and deploy-mode)
    come from the connection, executor memory and cores from settings.SPARK_SUBMIT_CONF, and the modules
    the job imports travel with it as --py-files (include/airflow/job_package.py).
    """
    return ProjectSparkSubmitOperator(
        task_id=task_id,
        application=str(settings.PROJECT_DIR / "spark_jobs" / f"{job}.py"),
        name=f"oil_{job}",
        conn_id=settings.SPARK_CONN_ID,
        application_args=application_args,
        conf=settings.SPARK_SUBMIT_CONF,
        # The driver imports include.* from the checkout too; executors' Python: settings.SPARK_PYTHON.
        env_vars={
            "PYTHONPATH": str(settings.PROJECT_DIR),
            "PYSPARK_PYTHON": settings.SPARK_PYTHON,
            "SPARK_CONF_DIR": str(settings.SPARK_DRIVER_CONF_DIR),  # see settings.SPARK_CLASS_ARCHIVE
        },
        **kwargs,
    )
