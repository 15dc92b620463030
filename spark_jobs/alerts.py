"""Low-pressure alerts: stream the landing directory, keep the readings whose psi is below a threshold.

Reads every new sensor CSV file in SOURCE (explicit schema), writes the alert rows, with all
sensor columns, as Parquet to OUTPUT, and every line that is not a whole reading to QUARANTINE
(raw line, source file, reason). Runs with trigger(availableNow=True): it processes what is new
since the last run, then stops; the checkpoints make a rerun with no new file do nothing.

    PYTHONPATH=. spark-submit spark_jobs/alerts.py --source var/storage/stream \\
        --output var/storage/output/alerts --quarantine var/storage/output/quarantine \\
        --checkpoints var/storage/checkpoints [--threshold 0.5] [--max-files-per-trigger N]
"""

from __future__ import annotations

import argparse
import sys

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from include import settings
from include.checkpoint_lock import checkpoint_lock
from include.readings import quarantine_records, read_sensor_stream, valid_readings
from include.spark_runtime import await_all, get_session, start_available_now


def low_pressure_alerts(readings: DataFrame, threshold: float) -> DataFrame:
    """The lecture's alert rule: readings with psi below the threshold."""
    return readings.where(F.col("psi") < threshold)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", required=True, help="landing directory of sensor CSV files")
    parser.add_argument("--output", required=True, help="Parquet output of the alerts")
    parser.add_argument("--quarantine", required=True, help="Parquet output of the lines set aside")
    parser.add_argument("--checkpoints", required=True, help="folder of the two queries' checkpoints")
    parser.add_argument("--threshold", type=float, default=settings.ALERT_PSI_THRESHOLD, help="psi below this alerts")
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
    spark = get_session("oil-alerts")
    lines = read_sensor_stream(spark, args.source, args.max_files_per_trigger)
    # Counted before the filter: Spark pushes the psi filter into the CSV scan, so the source's
    # own input count would be the alerts only.
    counted_lines = lines.observe("lines", F.count(F.lit(1)).alias("lines_read"))
    alerts = low_pressure_alerts(valid_readings(counted_lines), args.threshold)
    rejected = quarantine_records(lines)
    # One lock for the job's two queries: a second run waits, then is refused.
    with checkpoint_lock(spark, f"{args.checkpoints}/alerts", args.lock_wait):
        summaries = await_all(
            start_available_now(
                alerts.observe("alerts", F.count(F.lit(1)).alias("alerts_written")),
                "alerts",
                args.output,
                f"{args.checkpoints}/alerts",
            ),
            start_available_now(
                rejected.observe("quarantine", F.count(F.lit(1)).alias("lines_quarantined")),
                "quarantine",
                args.quarantine,
                f"{args.checkpoints}/quarantine",
            ),
        )
    for summary in summaries:
        print(summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
