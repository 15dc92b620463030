"""Enriched alerts: join each new alert with its pump's vendor record and maintenance history.

Streams the alert job's Parquet output (only files its sink has committed), joins it with the
reference CSVs (re-read each micro-batch), and appends one row per alert and maintenance record,
as the lecture's SQL does. Left joins: an alert whose pump has no vendor or maintenance record is
kept, with nulls there, rather than lost; the run says how many rows lack a vendor or maintenance
record, and warns of maintenance rows for pumps the vendor file does not know. A missing reference
file fails the run (exit code 2) with a message naming it, before any alert is consumed.

    PYTHONPATH=. spark-submit spark_jobs/enrich_alerts.py --alerts var/storage/output/alerts \\
        --vendor var/storage/info/sensorvendor.csv --maint var/storage/info/sensormaint.csv \\
        --output var/storage/output/alerts_enriched --checkpoint var/storage/checkpoints/alerts_enriched
"""

from __future__ import annotations

import argparse
import sys

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from include.schemas import MAINT, SENSOR, VENDOR, spark_schema
from include.spark_runtime import await_all, get_session, start_available_now

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


def enrich(alerts: DataFrame, vendors: DataFrame, maintenance: DataFrame) -> DataFrame:
    """Alerts x vendor x maintenance on resid: the lecture's columns plus the alert's time."""
    return alerts.join(vendors, "resid", "left").join(maintenance, "resid", "left").select(*ENRICHED_COLUMNS)


class MissingReferenceFile(Exception):
    pass


def read_reference(spark: SparkSession, path: str, columns: tuple[tuple[str, str], ...]) -> DataFrame:
    """A reference CSV; a missing one is an error that names it (never an enrichment with nulls)."""
    try:
        return spark.read.schema(spark_schema(columns)).csv(path)
    except AnalysisException as error:
        if error.getCondition() != "PATH_NOT_FOUND":
            raise
        raise MissingReferenceFile(
            f"reference file missing: {path}. Stage it (airflow dags test oil_stage) and rerun: "
            "no alert has been consumed, the next run enriches them all."
        ) from None


def reference_report(vendors: DataFrame, maintenance: DataFrame) -> list[str]:
    """What the reference files hold, and the gaps that leave nulls in (or multiply) enriched rows."""
    vendor_counts = vendors.groupBy("resid").count()
    twice = sorted(r.resid for r in vendor_counts.where("count > 1").collect())
    unknown = maintenance.join(vendors, "resid", "left_anti").groupBy("resid").count().collect()
    pumps, events = vendor_counts.count(), maintenance.count()
    lines = [f"reference data: {pumps} pumps in the vendor file, {events} maintenance rows"]
    if twice:
        lines.append(f"WARNING: pumps listed more than once in the vendor file (their alerts repeat): {twice}")
    if unknown:
        rows = sum(r["count"] for r in unknown)
        lines.append(
            f"WARNING: {rows} maintenance rows for pumps not in the vendor file: {sorted(r.resid for r in unknown)}"
            " (kept: their alerts get the maintenance rows, with null vendor columns)"
        )
    return lines


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", required=True, help="Parquet output of the alert job")
    parser.add_argument("--vendor", required=True, help="sensorvendor.csv")
    parser.add_argument("--maint", required=True, help="sensormaint.csv")
    parser.add_argument("--output", required=True, help="Parquet output of the enriched alerts")
    parser.add_argument("--checkpoint", required=True, help="checkpoint folder of this query")
    parser.add_argument("--max-files-per-trigger", type=int, default=None, help="files per micro-batch")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    spark = get_session("oil-enrich-alerts")
    reader = spark.readStream.schema(spark_schema(SENSOR))
    if args.max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", args.max_files_per_trigger)
    alerts = reader.parquet(args.alerts)
    try:
        vendors = read_reference(spark, args.vendor, VENDOR)
        maintenance = read_reference(spark, args.maint, MAINT)
    except MissingReferenceFile as error:
        print(f"enrich_alerts: {error}", file=sys.stderr)
        return 2
    for line in reference_report(vendors, maintenance):
        print(line)
    enriched = enrich(alerts, vendors, maintenance).observe(
        "enriched",
        F.count(F.lit(1)).alias("rows_written"),
        F.count_if(F.col("vendor").isNull()).alias("rows_without_vendor"),
        F.count_if(F.col("eventDate").isNull()).alias("rows_without_maintenance"),
    )
    (summary,) = await_all(start_available_now(enriched, "alerts_enriched", args.output, args.checkpoint))
    print(summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
