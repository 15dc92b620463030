"""Incidents: each pump's low-pressure episodes, opened and resolved, from every reading the alert job stored.

Streams the readings Delta table with trigger(availableNow=True) and a checkpoint, and applies the incident rule
(include/spark/incident_rule.py) to each pump's new readings in event-time order, with Spark's arbitrary state
(applyInPandasWithState: the pump's open incident and newest reading, kept in the checkpoint). The incidents a
micro-batch opened, changed or resolved are MERGEd into the OUTPUT Delta table, keyed by incident_id (pump and
opening minute), with the pump's type and vendor and the latest maintenance on or before the opening day.
So any batching of the same readings (one slice or 37) gives the same table, and a retried micro-batch
writes the same rows again. A reading older than one its pump already had applied is late: it is counted and
named in the summary, not applied (it would rewrite an incident already decided). A run after the checkpoint
was lost reads every reading again from an empty state: the same incidents, rewritten.

When corrected reference files have been staged, the run first updates the pump data of every incident.
A missing or untrustworthy reference file fails the run (exit code 2) before any reading is consumed.

    PYTHONPATH=. spark-submit --jars "$(ls var/delta/lib/*.jar | paste -sd,)" spark_jobs/incidents.py \\
        --readings var/storage/output/readings \\
        --vendor var/storage/info/sensorvendor.csv --maint var/storage/info/sensormaint.csv \\
        --output var/storage/output/incidents --checkpoint var/storage/checkpoints/incidents
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections import Counter
from collections.abc import Iterator

import pandas as pd
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.streaming.state import GroupState, GroupStateTimeout
from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType, TimestampType

from include import settings
from include.schemas import DATE_FORMAT, INCIDENT, INCIDENT_COLUMNS, spark_schema
from include.spark import incident_rule, reference_files, tables
from include.spark.checkpoint_lock import checkpoint_lock
from include.spark.readings import event_time
from include.spark.references import MissingReferenceFile, read_references
from include.spark.spark_runtime import add_streaming_options, checkpoint_is_empty, get_session, job_parser, run_main

LATE, INCIDENT_ROW = "late", "incident"
# What the rule gives back per pump: incidents (kind "incident") and late readings (kind "late": at, psi).
UPDATE_SCHEMA = StructType(
    [
        StructField("kind", StringType()),
        StructField("resid", StringType()),
        StructField("opened_at", TimestampType()),
        StructField("resolved_at", TimestampType()),
        StructField("low_readings", LongType()),
        StructField("min_psi", DoubleType()),
        StructField("last_reading_at", TimestampType()),
    ]
)
STATE_TYPES = {"low_readings": LongType(), "min_psi": DoubleType()}  # the other fields are times
STATE_SCHEMA = StructType(
    [StructField(name, STATE_TYPES.get(name, TimestampType())) for name in incident_rule.STATE_FIELDS]
)
REFERENCE_COLUMNS = ("pumpType", "vendor", "maintenance_date", "technician", "maintenance", "reference_version")
LATE_SHOWN = 5


def apply_rule(threshold: float, clear_minutes: float):
    """The function applyInPandasWithState calls with one pump's new readings and its state."""

    def per_pump(key: tuple, frames: Iterator[pd.DataFrame], state: GroupState) -> Iterator[pd.DataFrame]:
        # PySpark's own serializer pads this function's output with all-NA rows, and pandas 2 warns of the
        # concatenation in every micro-batch (pyspark/sql/pandas/serializers.py): nothing a user can act on.
        warnings.filterwarnings("ignore", "The behavior of DataFrame concatenation with empty", FutureWarning)
        (resid,) = key
        readings = pd.concat(list(frames))
        current = incident_rule.PumpState.from_row(state.get) if state.exists else incident_rule.PumpState()
        pairs = zip(readings["at"].tolist(), readings["psi"].astype(float), strict=True)
        applied = incident_rule.apply(current, pairs, threshold, clear_minutes)
        state.update(applied.state.as_row())
        rows = [
            (INCIDENT_ROW, resid, i.opened_at, i.resolved_at, i.low_readings, i.min_psi, i.last_reading_at)
            for i in applied.incidents
        ]
        rows += [(LATE, resid, None, None, None, psi, at) for at, psi in applied.late]
        yield pd.DataFrame(rows, columns=UPDATE_SCHEMA.fieldNames())

    return per_pump


def incident_updates(readings: DataFrame, threshold: float, clear_minutes: float) -> DataFrame:
    """Per pump, the incidents its new readings opened, changed or resolved, and its late readings."""
    return (
        readings.where(F.col("psi").isNotNull())
        .select("resid", event_time().alias("at"), "psi")
        .groupBy("resid")
        .applyInPandasWithState(
            apply_rule(threshold, clear_minutes), UPDATE_SCHEMA, STATE_SCHEMA, "update", GroupStateTimeout.NoTimeout
        )
    )


def with_references(incidents: DataFrame, vendors: DataFrame, maintenance: DataFrame, version: str) -> DataFrame:
    """Each incident with its pump's type and vendor, and the latest maintenance on or before its opening day."""
    events = maintenance.select(
        "resid",
        F.col("eventDate").alias("maintenance_date"),
        "technician",
        F.col("description").alias("maintenance"),
        F.to_date("eventDate", DATE_FORMAT).alias("event_day"),
    )
    candidates = incidents.join(events, "resid", "left").where(
        F.col("event_day").isNull() | (F.col("event_day") <= F.to_date("opened_at"))
    )
    newest = Window.partitionBy("incident_id").orderBy(
        F.col("event_day").desc_nulls_last(), "technician", "maintenance"
    )
    latest = candidates.withColumn("n", F.row_number().over(newest)).where("n = 1").drop("n", "event_day")
    # An incident whose pump's maintenance all came after its opening: kept, with no maintenance.
    without = incidents.join(latest.select("incident_id"), "incident_id", "left_anti")
    joined = latest.unionByName(without, allowMissingColumns=True)
    return (
        joined.join(vendors.select("resid", "pumpType", "vendor"), "resid", "left")
        .withColumn("reference_version", F.lit(version))
        .withColumn("updated_at", F.current_timestamp())
        .select(*INCIDENT_COLUMNS)
    )


def incident_id() -> F.Column:
    return F.concat_ws("@", "resid", F.date_format("opened_at", "yyyy-MM-dd'T'HH:mm"))


class IncidentBatches:
    """The foreachBatch function: a micro-batch's incident updates MERGEd into the table, its late readings counted."""

    def __init__(self, spark: SparkSession, output: str, vendors: DataFrame, maintenance: DataFrame, version: str):
        self.spark, self.output = spark, output
        self.vendors, self.maintenance, self.version = vendors, maintenance, version
        self.counts: Counter = Counter()
        self.late_examples: list[str] = []
        self.batch_ids: list[int] = []

    def __call__(self, updates: DataFrame, batch_id: int) -> None:
        self.batch_ids.append(batch_id)
        updates = updates.persist()
        try:
            late = updates.where(F.col("kind") == LATE).orderBy("resid", "last_reading_at").collect()
            self.counts["late_readings"] += len(late)
            self.late_examples += [f"{r.resid} {r.last_reading_at:%Y-%m-%d %H:%M}" for r in late[:LATE_SHOWN]]
            incidents = (
                updates.where(F.col("kind") == INCIDENT_ROW).drop("kind").withColumn("incident_id", incident_id())
            )
            if incidents.take(1):  # most batches touch no incident: no MERGE (a scan of the table) for them
                rows = with_references(incidents, self.vendors, self.maintenance, self.version)
                self.counts["incidents_written"] += tables.upsert(self.spark, rows, self.output, ["incident_id"])
        finally:
            updates.unpersist()

    def line(self, table: DataFrame) -> str:
        c = self.counts
        (totals,) = table.select(
            F.count(F.lit(1)).alias("all"), F.count_if(F.col("resolved_at").isNull()).alias("open")
        ).collect()
        late = c["late_readings"]
        examples = (
            f" (late, not applied: {', '.join(self.late_examples[:LATE_SHOWN])}{' ...' if late > LATE_SHOWN else ''})"
        )
        return (
            f"incidents: {len(self.batch_ids)} micro-batches, incidents_written={c['incidents_written']}"
            f" late_readings={late}{examples if late else ''}; the table holds {totals['all']} incidents,"
            f" {totals['open']} open"
        )


def update_references(spark: SparkSession, output: str, vendors: DataFrame, maintenance: DataFrame, version: str):
    """Incidents joined with other reference files than today's: their pump data taken again from today's."""
    incidents = spark.read.format("delta").load(output)
    stale = incidents.where(F.col("reference_version") != version)
    if not stale.limit(1).count():
        return
    rows = with_references(stale.drop(*REFERENCE_COLUMNS, "updated_at"), vendors, maintenance, version)
    count = tables.upsert(spark, rows, output, ["incident_id"])
    print(f"incidents: the reference files changed: the pump data of {count} incidents taken from the current files")


REQUIRED_ARGUMENTS = {
    "--readings": "Delta table of the readings (the alert job's)",
    "--vendor": "sensorvendor.csv",
    "--maint": "sensormaint.csv",
    "--output": "Delta table of the incidents",
    "--checkpoint": "checkpoint folder of this query",
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = job_parser(__doc__, REQUIRED_ARGUMENTS)
    add_streaming_options(parser)
    parser.add_argument("--threshold", type=float, default=settings.ALERT_PSI_THRESHOLD, help="psi below this is low")
    parser.add_argument(
        "--clear-minutes",
        type=float,
        default=settings.INCIDENT_CLEAR_MINUTES,
        help="minutes of event time without a low reading that resolve an incident",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    spark = get_session("oil-incidents")
    tables.refuse_old_outputs(spark, args.readings, args.output)
    try:
        vendors, maintenance, version = read_references(spark, args.vendor, args.maint)
    except (MissingReferenceFile, reference_files.ReferenceFileError) as error:
        print(f"incidents: {error}", file=sys.stderr)
        return 2
    if not tables.is_table(spark, args.readings):
        print(f"incidents: no readings table yet ({args.readings}): run the alert job first; nothing to do")
        return 0
    tables.create_if_missing(spark, args.output, spark_schema(INCIDENT))
    batches = IncidentBatches(spark, args.output, vendors.cache(), maintenance.cache(), version)
    reader = spark.readStream.format("delta")
    if args.max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", args.max_files_per_trigger)
    with checkpoint_lock(spark, args.checkpoint, args.lock_wait):
        if checkpoint_is_empty(spark, args.checkpoint):
            print(f"incidents: starting from an empty checkpoint ({args.checkpoint}): every reading is read again")
        update_references(spark, args.output, vendors, maintenance, version)
        query = (
            incident_updates(reader.load(args.readings), args.threshold, args.clear_minutes)
            .writeStream.queryName("incidents")
            .outputMode("update")
            .foreachBatch(batches)
            .option("checkpointLocation", args.checkpoint)
            .trigger(availableNow=True)
            .start()
        )
        query.awaitTermination()
    print(batches.line(spark.read.format("delta").load(args.output)))
    return 0


if __name__ == "__main__":
    sys.exit(run_main("incidents", main))
