"""
### Drop the next slice of sensor readings into the landing directory

Replays the staged `sensordata.csv` as a stream of files: each run writes the readings of one
slice of sensor time to `<root>/stream/`, where the streaming DAG picks them up.

- Slice `k` holds every reading (all pumps) from `first day 00:00 + k * span` for `span`
  minutes (`OIL_SLICE_MINUTES`, default 360, or the `slice_minutes` param).
- Which slice a run drops comes from the run itself: `k = (logical date - OIL_REPLAY_START) /
  OIL_DROP_EVERY_MINUTES`, or the `slice_index` param. Re-running a run leaves the same file as it is,
  so no reading is ever dropped twice. Runs past the last slice are skipped.
- A file appears whole: it is written under a hidden name, then renamed.
- Files of another span may already be in `stream/` (e.g. `make demo`'s day slices): their readings
  overlap, and the alert job stores each reading once (the overlap is counted as repeats).

Run by hand: `airflow dags test oil_file_drop -c '{"slice_index": 0}'`.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, task

from include import settings
from include.airflow.assets import SENSOR_LANDING
from include.airflow.dag_defaults import optional_param, pipeline_dag

REPLAY_START = pendulum.parse(settings.REPLAY_START)
DROP_EVERY = timedelta(minutes=settings.DROP_EVERY_MINUTES)


@pipeline_dag(
    "oil_file_drop",
    __doc__,
    tags=["streaming"],
    start_date=REPLAY_START,
    schedule=DROP_EVERY,
    max_active_runs=1,
    params={
        "slice_index": optional_param(
            "integer", "slice to drop; empty: derived from the run's logical date", minimum=0, maximum=1_000_000
        ),
        "slice_minutes": Param(
            settings.SLICE_MINUTES,
            type="integer",
            minimum=1,
            maximum=7 * 24 * 60,
            description="span of sensor time in one slice, in minutes",
        ),
    },
)
def oil_file_drop():
    @task(outlets=[SENSOR_LANDING])
    def drop_slice(params: dict, logical_date=None) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from include.replay.file_drop import drop, slice_index_for

        index = params["slice_index"]
        if index is None:
            index = slice_index_for(logical_date, REPLAY_START, DROP_EVERY)
        result = drop(settings.Layout(), index, params["slice_minutes"])
        print(result.message())
        if not result.written:
            raise AirflowSkipException(result.message())
        return result.as_dict()

    drop_slice()


oil_file_drop()
