"""
### Daily statistics of every sensor per pump (Spark SQL, batch)

The lecture's query: for each pump (`resid`) and day, max, min and average of `hz`, `disp`,
`flow`, `sedPPM`, `psi` and `chlPPM` (columns `maxhz, minhz, avghz, ..., avgchlPPM`), over the
day's partition of the readings table that `oil_streaming` fills (`<root>/output/readings/`).
Output: `<root>/output/daily_stats/`, a Delta table partitioned by `day`.

The run for day D computes day D: the day of its logical date (Airflow 3's `@daily` is a cron
trigger, so a run's logical date is the day itself), or the `day` param. Only that day is
replaced, in one commit (`replaceWhere`), so re-runs and backfills are idempotent.

A run first waits for its day to have landed (`day_landed`, a sensor in reschedule mode: it frees its
worker slot between looks, every `OIL_DAY_WAIT_POKE_SECONDS`): until the readings table holds a reading
of a later day, or the staged data's last one. A day with no reading in the staged data is skipped,
with that reason in the log. So a backfill started while the replay runs completes as the days land.

Backfill the data set's five days:
`airflow backfill create --dag-id oil_daily_stats --from-date 2014-03-10 --to-date 2014-03-14`.
Run one day by hand: `airflow dags test oil_daily_stats 2014-03-10`.
"""

from __future__ import annotations

from airflow.sdk import task

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
    @task.sensor(
        poke_interval=settings.DAY_WAIT_POKE_SECONDS,
        timeout=settings.DAY_WAIT_HOURS * 3600,
        mode="reschedule",
    )
    def day_landed(params: dict, ds: str) -> bool:
        from datetime import date

        from airflow.sdk.exceptions import AirflowSkipException

        from include.replay.day_landed import state_of

        state = state_of(LAYOUT, date.fromisoformat(params["day"] or ds))
        print(state.reason)
        if state.skip:
            raise AirflowSkipException(state.reason)
        return state.ready

    day_landed() >> spark_job(
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
