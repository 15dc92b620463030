"""
### Daily statistics of every sensor per pump (Spark SQL, batch)

The lecture's query: for each pump (`resid`) and day, max, min and average of `hz`, `disp`,
`flow`, `sedPPM`, `psi` and `chlPPM` (columns `maxhz, minhz, avghz, ..., avgchlPPM`), over the
day's partition of the readings table that `oil_streaming` fills (`<root>/output/readings/`).
Output: `<root>/output/daily_stats/`, a Delta table partitioned by `day`.

The run for day D computes day D: the day of its logical date (Airflow 3's `@daily` is a cron
trigger, so a run's logical date is the day itself), or the `day` param. Only that day is
replaced, in one commit (`replaceWhere`), so re-runs and backfills are idempotent.

Backfill the data set's five days:
`airflow backfill create --dag-id oil_daily_stats --from-date 2014-03-10 --to-date 2014-03-14`.
Run one day by hand: `airflow dags test oil_daily_stats 2014-03-10`.
"""

from __future__ import annotations

from include import settings
from include.airflow.assets import DAILY_STATS
from include.airflow.dag_defaults import optional_param, pipeline_dag
from include.airflow.spark_task import spark_job

LAYOUT = settings.Layout()


@pipeline_dag(
    "oil_daily_stats",
    __doc__,
    tags=["batch"],
    schedule="@daily",
    params={
        "day": optional_param("string", "day to compute (YYYY-MM-DD); empty: the run's logical date", format="date"),
    },
)
def oil_daily_stats():
    spark_job(
        "daily_stats",
        "daily_stats",
        [
            "--readings",
            LAYOUT.output("readings"),
            "--output",
            LAYOUT.output("daily_stats"),
            "--day",
            "{{ params.day or ds }}",
        ],
        outlets=[DAILY_STATS],
    )


oil_daily_stats()
