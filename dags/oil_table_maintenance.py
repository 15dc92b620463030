"""
### Table maintenance of the Delta tables under `<root>/output/` (Spark, batch)

Every streaming run and every day adds small files to the tables (`readings`, `alerts`,
`quarantine`, `runs`, `alerts_enriched`, `daily_stats`). Daily, for each table: `OPTIMIZE`
compacts a partition's small files into one (no row changes), then `VACUUM` deletes the files
that only table versions older than `OIL_VACUUM_RETAIN_HOURS` (default 168, Delta's 7 days) refer
to. Reading a table version older than that (time travel) fails afterwards; a retention shorter
than the longest write could delete the files of a write in progress.

The task log has one line per table, files referenced and files on storage before -> after, and
a summary line. A conflict with a write that replaced the same files fails the task, which is
retried.

Run it by hand: `airflow dags test oil_table_maintenance`.
"""

from __future__ import annotations

from include import settings
from include.airflow.dag_defaults import pipeline_dag
from include.airflow.spark_task import spark_job


@pipeline_dag(
    "oil_table_maintenance",
    __doc__,
    tags=["maintenance"],
    schedule="@daily",
    max_active_runs=1,
)
def oil_table_maintenance():
    spark_job(
        "table_maintenance",
        "table_maintenance",
        ["--root", settings.STORAGE_ROOT, "--retain-hours", str(settings.VACUUM_RETAIN_HOURS)],
    )


oil_table_maintenance()
