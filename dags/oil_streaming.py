"""
### Stream the dropped sensor files: low-pressure alerts, then enriched alerts and incidents, mailed

Spark Structured Streaming jobs, each `trigger(availableNow=True)` with a checkpoint, so a
run processes exactly the files dropped since the last run, then stops:

1. `alerts` (`spark_jobs/alerts.py`): every line of `<root>/stream/` parsed once; whole readings
   to the Delta table `<root>/output/readings/`, those with `psi < threshold` to
   `<root>/output/alerts/`, lines that are not whole readings to `<root>/output/quarantine/`.
   Keyed by reading (resid, date, time): a file delivered twice, a retried batch or a run after a
   lost checkpoint adds nothing.
2. `enrich_alerts` (`spark_jobs/enrich_alerts.py`): the new alerts joined with the pump vendor
   and maintenance files of `<root>/info/` to `<root>/output/alerts_enriched/`; after a corrected
   reference file is staged, the whole table is rebuilt with it.
3. `incidents` (`spark_jobs/incidents.py`): every new reading applied to its pump's incident, in event-time
   order (a low-pressure episode: opened at the first low reading, resolved after
   `OIL_INCIDENT_CLEAR_MINUTES` of event time without one), MERGEd into `<root>/output/incidents/`.
4. `notify`: one mail per incident opened and per incident resolved, through the `smtp_default`
   connection, once: the outbox `<root>/output/notifications/` holds what was sent. A cleared run or a
   retry after the mail server was down sends only what is not there yet.

On HDFS (`OIL_STORAGE_ROOT=hdfs://...`), a `WebHdfsSensor` first waits for the landing directory
(run `oil_stage` to create it), so a run never starts Spark on a path that is not there.

Runs when the file-drop DAG drops a file (Asset `oil_sensor_landing`) and on `OIL_STREAM_CRON`
as a safety net. One run at a time: two runs must never share a checkpoint. `max_active_runs=1`
holds under one scheduler only, so each job also locks its checkpoint (`include/spark/checkpoint_lock.py`):
a run from `airflow dags test`, a second Airflow or a spark-submit by hand waits for it
(`OIL_CHECKPOINT_LOCK_WAIT_SECONDS`), then fails and is retried, instead of sharing it.
Spark master: the `spark_default` connection (`OIL_SPARK_CONN_ID`).

Run by hand: `airflow dags test oil_streaming`.
"""

from __future__ import annotations

from airflow.sdk import Param
from airflow.timetables.assets import AssetOrTimeSchedule
from airflow.timetables.trigger import CronTriggerTimetable

from include import settings
from include.airflow.assets import ALERTS, ALERTS_ENRICHED, INCIDENTS, SENSOR_LANDING
from include.airflow.dag_defaults import pipeline_dag
from include.airflow.notify import notify_task
from include.airflow.spark_task import spark_job
from include.storage.webhdfs import hdfs_path

LAYOUT = settings.Layout()


@pipeline_dag(
    "oil_streaming",
    __doc__,
    tags=["streaming"],
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(settings.STREAM_CRON, timezone="UTC"), assets=SENSOR_LANDING
    ),
    max_active_runs=1,  # the checkpoints admit one writer
    params={
        "threshold": Param(
            settings.ALERT_PSI_THRESHOLD,
            type="number",
            minimum=0,
            maximum=10_000,
            # NaN passes every bound (each comparison is false) and would alert on nothing: refused.
            **{"not": {"maximum": -1}},
            description="a reading with psi below this is an alert",
        ),
        "max_files_per_trigger": Param(
            0, type="integer", minimum=0, maximum=100_000, description="files per micro-batch; 0: all new files in one"
        ),
    },
)
def oil_streaming():
    alerts = spark_job(
        "alerts",
        "alerts",
        [
            "--source",
            LAYOUT.stream,
            "--output",
            LAYOUT.output("alerts"),
            "--quarantine",
            LAYOUT.output("quarantine"),
            "--readings",
            LAYOUT.output("readings"),
            "--checkpoints",
            LAYOUT.path("checkpoints"),
            "--threshold",
            "{{ params.threshold }}",
            "--max-files-per-trigger",
            "{{ params.max_files_per_trigger }}",
        ],
        outlets=[ALERTS],
        max_active_tis_per_dag=1,
    )
    enrich = spark_job(
        "enrich_alerts",
        "enrich_alerts",
        [
            "--alerts",
            LAYOUT.output("alerts"),
            "--vendor",
            LAYOUT.vendor,
            "--maint",
            LAYOUT.maint,
            "--output",
            LAYOUT.output("alerts_enriched"),
            "--checkpoint",
            LAYOUT.checkpoint("alerts_enriched"),
        ],
        outlets=[ALERTS_ENRICHED],
        max_active_tis_per_dag=1,
    )
    incidents = spark_job(
        "incidents",
        "incidents",
        [
            "--readings",
            LAYOUT.output("readings"),
            "--vendor",
            LAYOUT.vendor,
            "--maint",
            LAYOUT.maint,
            "--output",
            LAYOUT.output("incidents"),
            "--checkpoint",
            LAYOUT.checkpoint("incidents"),
            "--threshold",
            "{{ params.threshold }}",
        ],
        outlets=[INCIDENTS],
        max_active_tis_per_dag=1,
    )
    alerts >> [enrich, incidents]
    incidents >> notify_task()()
    if settings.uri_scheme(LAYOUT.root) == "hdfs":
        # Imported here: only DAGs on HDFS pay for the HDFS provider when the file is parsed.
        from airflow.providers.apache.hdfs.sensors.web_hdfs import WebHdfsSensor

        landing = WebHdfsSensor(
            task_id="landing_directory_exists",
            filepath=hdfs_path(LAYOUT.stream),
            poke_interval=30,
            timeout=15 * 60,
            mode="reschedule",  # frees the worker slot between pokes
        )
        landing >> alerts


oil_streaming()
