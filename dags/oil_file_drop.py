"""
### Drop the next slice of sensor readings into the landing directory

Replays the staged `sensordata.csv` as a stream of files: each run writes the readings of one
slice of sensor time to `<root>/stream/`, where the streaming DAG picks them up.

- Slice `k` holds every reading (all pumps) from `first day 00:00 + k * span` for `span`
  minutes (`OIL_SLICE_MINUTES`, default 360, or the `slice_minutes` param).
- Which slice a run drops comes from the run itself: `k = (logical date - replay start) /
  OIL_DROP_EVERY_MINUTES`, or the `slice_index` param. The replay start is the Airflow Variable
  `oil_replay_start` that `make airflow-trigger` sets (else `OIL_REPLAY_START`). A scheduled run first
  drops the earlier slices not landed yet (runs the scheduler skipped, a replay started late), so the
  feed stays in event-time order. Re-running a run leaves the same file as it is, so no reading is
  ever dropped twice. Runs before the start or past the last slice are skipped.
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
        from airflow.sdk import Variable
        from airflow.sdk.exceptions import AirflowSkipException

        from include.replay.file_drop import drop, drop_through, slice_index_for

        layout, span, index = settings.Layout(), params["slice_minutes"], params["slice_index"]
        if index is None:
            start = pendulum.parse(Variable.get(settings.REPLAY_START_VARIABLE, default=settings.REPLAY_START))
            index = slice_index_for(logical_date, start, DROP_EVERY)
            if index < 0:
                raise AirflowSkipException(f"this run ({logical_date}) is before the replay start {start}")
            results = drop_through(layout, index, span)
        else:
            results = [drop(layout, index, span)]
        for result in results:
            print(result.message())
        result = results[-1]
        if not any(r.written for r in results):
            raise AirflowSkipException(result.message())
        return {**result.as_dict(), "caught_up": [r.index for r in results[:-1] if r.written]}

    drop_slice()


oil_file_drop()
