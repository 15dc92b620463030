"""Enriched alerts: each alert joined with its pump's vendor record and maintenance history.

Streams the alerts Delta table (what the alert job has committed) with trigger(availableNow=True)
and a checkpoint, joins each new alert with the reference CSVs, and MERGEs one row per alert and
maintenance record into the OUTPUT Delta table, as the lecture's SQL does, keyed by the alert and
the maintenance record: a repeated batch, or a run after the checkpoint was lost, adds nothing.
Each row carries the digest of the reference files it was joined with (reference_version): when
a corrected vendor or maintenance file has been staged, the run first rebuilds the whole table,
in one commit, from every alert and the current files.

Left joins: an alert whose pump has no vendor or maintenance record is kept, with nulls there,
rather than lost; the run says how many rows lack a vendor or maintenance record, and warns of
maintenance rows for pumps the vendor file does not know. A missing reference file fails the run
(exit code 2) with a message naming it, before any alert is consumed, and so does a file that
cannot be trusted (include/spark/reference_files.py: a wrong field count, a date or number that does
not parse, a pump listed twice in the vendor file, a last line cut short), naming its line: stage the
corrected file and run again, every alert is then enriched with it.

    PYTHONPATH=. spark-submit --jars "$(ls var/delta/lib/*.jar | paste -sd,)" spark_jobs/enrich_alerts.py \\
        --alerts var/storage/output/alerts \\
        --vendor var/storage/info/sensorvendor.csv --maint var/storage/info/sensormaint.csv \\
        --output var/storage/output/alerts_enriched --checkpoint var/storage/checkpoints/alerts_enriched
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from include.spark import reference_files, tables
from include.spark.checkpoint_lock import checkpoint_lock
from include.spark.references import MissingReferenceFile, read_references
from include.spark.spark_runtime import (
    add_streaming_options,
    checkpoint_is_empty,
    get_session,
    job_parser,
    run_main,
)

ENRICHED_COLUMNS = (
    "resid",
    "date",
    "time",
    "psi",
    "pumpType",
    "purchaseDate",
    "serviceDate",
    "vendor",
    "eventDate",
    "technician",
    "description",
)
# One row per alert and maintenance record; <=> matches the nulls of an alert without maintenance.
ENRICHED_KEY = ("resid", "date", "time", "eventDate", "technician", "description")
REFERENCE_VERSION = "reference_version"


def enrich(alerts: DataFrame, vendors: DataFrame, maintenance: DataFrame) -> DataFrame:
    """Alerts x vendor x maintenance on resid: the lecture's columns plus the alert's time."""
    return alerts.join(vendors, "resid", "left").join(maintenance, "resid", "left").select(*ENRICHED_COLUMNS)


def reference_report(vendors: DataFrame, maintenance: DataFrame) -> list[str]:
    """What the reference files hold, and the gaps that leave nulls in enriched rows."""
    unknown = maintenance.join(vendors, "resid", "left_anti").groupBy("resid").count().collect()
    pumps, events = vendors.count(), maintenance.count()
    lines = [f"reference data: {pumps} pumps in the vendor file, {events} maintenance rows"]
    if unknown:
        rows = sum(r["count"] for r in unknown)
        lines.append(
            f"WARNING: {rows} maintenance rows for pumps not in the vendor file: {sorted(r.resid for r in unknown)}"
            " (kept: their alerts get the maintenance rows, with null vendor columns)"
        )
    return lines


REQUIRED_ARGUMENTS = {
    "--alerts": "Delta table of the alerts",
    "--vendor": "sensorvendor.csv",
    "--maint": "sensormaint.csv",
    "--output": "Delta table of the enriched alerts",
    "--checkpoint": "checkpoint folder of this query",
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = job_parser(__doc__, REQUIRED_ARGUMENTS)
    add_streaming_options(parser)
    return parser.parse_args(argv)


class EnrichBatches:
    """The foreachBatch function: a micro-batch of new alerts, enriched, MERGEd into the output."""

    def __init__(self, spark: SparkSession, output: str, vendors: DataFrame, maintenance: DataFrame, version: str):
        self.spark, self.output = spark, output
        self.vendors, self.maintenance, self.version = vendors, maintenance, version
        self.counts: Counter = Counter()
        self.batch_ids: list[int] = []

    def __call__(self, alerts: DataFrame, batch_id: int) -> None:
        self.batch_ids.append(batch_id)
        rows = enrich(alerts, self.vendors, self.maintenance).withColumn(REFERENCE_VERSION, F.lit(self.version))
        rows = rows.persist()
        try:
            self.counts.update(alerts_read=alerts.count(), **gaps(rows))
            self.counts["rows_written"] += tables.insert_missing(self.spark, rows, self.output, ENRICHED_KEY)
        finally:
            rows.unpersist()

    def line(self) -> str:
        c = self.counts
        return (
            f"alerts_enriched: {c['alerts_read']} input rows in {len(self.batch_ids)} micro-batches,"
            f" rows_without_maintenance {c['rows_without_maintenance']},"
            f" rows_without_vendor {c['rows_without_vendor']}, rows_written {c['rows_written']}"
        )


def gaps(rows: DataFrame) -> dict[str, int]:
    (row,) = rows.select(
        F.count_if(F.col("vendor").isNull()).alias("rows_without_vendor"),
        F.count_if(F.col("eventDate").isNull()).alias("rows_without_maintenance"),
    ).collect()
    return row.asDict()


def rebuild_if_reference_changed(spark: SparkSession, args, vendors: DataFrame, maintenance: DataFrame, version: str):
    """Enriched rows joined with other reference files than today's: rebuild the table from every alert."""
    enriched = tables.read(spark, args.output)
    if enriched is None or not enriched.where(F.col(REFERENCE_VERSION) != version).limit(1).count():
        return
    alerts = tables.read(spark, args.alerts)
    rows = enrich(alerts, vendors, maintenance).withColumn(REFERENCE_VERSION, F.lit(version))
    with tables.writing(args.output):
        rows.write.format("delta").mode("overwrite").save(args.output)
    print(
        f"alerts_enriched: the reference files changed since the last enrichment: rebuilt {args.output}"
        f" from every alert with the current files ({rows.count()} rows, reference_version {version})"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    spark = get_session("oil-enrich-alerts")
    tables.refuse_old_outputs(spark, args.alerts, args.output)
    try:
        vendors, maintenance, version = read_references(spark, args.vendor, args.maint)
    except (MissingReferenceFile, reference_files.ReferenceFileError) as error:
        print(f"enrich_alerts: {error}", file=sys.stderr)
        return 2
    for line in reference_report(vendors, maintenance):
        print(line)
    if not tables.is_table(spark, args.alerts):
        print(f"alerts_enriched: no alerts table yet ({args.alerts}): run the alert job first; nothing to enrich")
        return 0
    batches = EnrichBatches(spark, args.output, vendors, maintenance, version)
    reader = spark.readStream.format("delta")
    if args.max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", args.max_files_per_trigger)
    with checkpoint_lock(spark, args.checkpoint, args.lock_wait):
        if checkpoint_is_empty(spark, args.checkpoint):
            print(f"alerts_enriched: starting from an empty checkpoint ({args.checkpoint}): every alert is read")
        rebuild_if_reference_changed(spark, args, vendors, maintenance, version)
        query = (
            reader.load(args.alerts)
            .writeStream.queryName("alerts_enriched")
            .foreachBatch(batches)
            .option("checkpointLocation", args.checkpoint)
            .trigger(availableNow=True)
            .start()
        )
        query.awaitTermination()
    print(batches.line())
    return 0


if __name__ == "__main__":
    sys.exit(run_main("enrich_alerts", main))
