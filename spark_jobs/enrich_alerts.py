"""Enriched alerts: join each new alert with its pump's vendor record and maintenance history.

Streams the alert job's Parquet output (only files its sink has committed), joins it with the
reference CSVs (re-read each micro-batch), and appends one row per alert and maintenance record,
as the lecture's SQL does. Left joins: an alert whose pump has no vendor or maintenance record is
kept, with nulls there, rather than lost.

    PYTHONPATH=. spark-submit spark_jobs/enrich_alerts.py --alerts var/storage/output/alerts \\
        --vendor var/storage/info/sensorvendor.csv --maint var/storage/info/sensormaint.csv \\
        --output var/storage/output/alerts_enriched --checkpoint var/storage/checkpoints/alerts_enriched
"""

from __future__ import annotations

import argparse
import sys

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from include import settings
from include.checkpoint_lock import checkpoint_lock
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


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", required=True, help="Parquet output of the alert job")
    parser.add_argument("--vendor", required=True, help="sensorvendor.csv")
    parser.add_argument("--maint", required=True, help="sensormaint.csv")
    parser.add_argument("--output", required=True, help="Parquet output of the enriched alerts")
    parser.add_argument("--checkpoint", required=True, help="checkpoint folder of this query")
    parser.add_argument("--max-files-per-trigger", type=int, default=None, help="files per micro-batch")
    parser.add_argument(
        "--lock-wait",
        type=float,
        default=settings.CHECKPOINT_LOCK_WAIT_SECONDS,
        help="seconds to wait for a busy checkpoint",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    spark = get_session("oil-enrich-alerts")
    reader = spark.readStream.schema(spark_schema(SENSOR))
    if args.max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", args.max_files_per_trigger)
    alerts = reader.parquet(args.alerts)
    vendors = spark.read.schema(spark_schema(VENDOR)).csv(args.vendor)
    maintenance = spark.read.schema(spark_schema(MAINT)).csv(args.maint)
    enriched = enrich(alerts, vendors, maintenance).observe("enriched", F.count(F.lit(1)).alias("rows_written"))
    with checkpoint_lock(spark, args.checkpoint, args.lock_wait):
        (summary,) = await_all(start_available_now(enriched, "alerts_enriched", args.output, args.checkpoint))
    print(summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
