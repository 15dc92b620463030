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

from airflow.sdk import dag

from include import settings
from include.airflow.dag_defaults import DATA_START, DEFAULT_ARGS, TAGS
from include.airflow.spark_task import spark_job

LAYOUT = settings.Layout()


@dag(
    dag_id="oil_table_maintenance",
    doc_md=__doc__,
    schedule="@daily",
    start_date=DATA_START,
    catchup=False,
    max_active_runs=1,
    tags=[*TAGS, "maintenance"],
    default_args=DEFAULT_ARGS,
)
def oil_table_maintenance():
    spark_job(
        "table_maintenance",
        "table_maintenance",
        ["--root", LAYOUT.root, "--retain-hours", str(settings.VACUUM_RETAIN_HOURS)],
    )


oil_table_maintenance()
