"""Low-pressure alerts: stream the landing directory, keep the readings whose psi is below a threshold.

Reads every new sensor CSV file in SOURCE (explicit schema), writes the alert rows, with all
sensor columns, as Parquet to OUTPUT, and every line that is not a whole reading to QUARANTINE
(raw line, source file, reason). Only files named *.csv are read. Ends with a summary line:
lines read, valid readings, alerts written, lines quarantined. Runs with trigger(availableNow=True):
it processes what is new since the last run, then stops; the checkpoints make a rerun with no new
file do nothing.

    PYTHONPATH=. spark-submit spark_jobs/alerts.py --source var/storage/stream \\
        --output var/storage/output/alerts --quarantine var/storage/output/quarantine \\
        --checkpoints var/storage/checkpoints [--threshold 0.5] [--max-files-per-trigger N] [--runs DIR]

Each run appends one row to RUNS (Parquet; default runs/ beside OUTPUT): when it finished, its
micro-batches, lines read, alerts written, lines quarantined.
"""

from __future__ import annotations

import argparse
import math
import sys
from datetime import datetime, timezone

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from include import settings
from include.checkpoint_lock import checkpoint_lock
from include.readings import may_have_psi_below, parse_lines, quarantine_records, sensor_line_stream, valid_readings
from include.spark_runtime import RunSummary, await_all, get_session, start_available_now


def low_pressure_alerts(readings: DataFrame, threshold: float) -> DataFrame:
    """The lecture's alert rule: readings with psi below the threshold."""
    return readings.where(F.col("psi") < threshold)


def finite_float(text: str) -> float:
    """A number; NaN would alert on nothing, infinity on everything."""
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", required=True, help="landing directory of sensor CSV files")
    parser.add_argument("--output", required=True, help="Parquet output of the alerts")
    parser.add_argument("--quarantine", required=True, help="Parquet output of the lines set aside")
    parser.add_argument("--checkpoints", required=True, help="folder of the two queries' checkpoints")
    parser.add_argument(
        "--threshold", type=finite_float, default=settings.ALERT_PSI_THRESHOLD, help="psi below this alerts"
    )
    parser.add_argument("--max-files-per-trigger", type=int, default=None, help="files per micro-batch")
    parser.add_argument("--runs", default=None, help="Parquet log of this job's runs (default: runs/ beside OUTPUT)")
    parser.add_argument(
        "--lock-wait",
        type=float,
        default=settings.CHECKPOINT_LOCK_WAIT_SECONDS,
        help="seconds to wait for a busy checkpoint",
    )
    return parser.parse_args(argv)


def totals_line(summaries: list[RunSummary], quarantine: str) -> str:
    """One line saying where every line read went: valid readings (some of them alerts) or quarantine."""
    counts = {key: value for summary in summaries for key, value in summary.observed.items()}
    lines_read, quarantined = counts.get("lines_read", 0), counts.get("lines_quarantined", 0)
    line = (
        f"alerts job summary: lines_read={lines_read} readings_valid={lines_read - quarantined}"
        f" alerts_written={counts.get('alerts_written', 0)} lines_quarantined={quarantined}"
    )
    return line + (f" (see {quarantine})" if quarantined else "")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    spark = get_session("oil-alerts")
    lines = sensor_line_stream(spark, args.source, args.max_files_per_trigger)
    # The quarantine query parses and checks every line; it counts them all, so valid readings are
    # the lines read less the lines quarantined. The alert query parses only the lines whose raw psi
    # may be below the threshold (4% of the real data): the parse is most of the cost.
    counted_lines = lines.observe("lines", F.count(F.lit(1)).alias("lines_read"))
    rejected = quarantine_records(parse_lines(counted_lines))
    candidates = parse_lines(lines.where(may_have_psi_below(args.threshold)))
    alerts = low_pressure_alerts(valid_readings(candidates), args.threshold)
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
    print(totals_line(summaries, args.quarantine))
    record_run(spark, args.runs or f"{args.output.rstrip('/').rsplit('/', 1)[0]}/runs", *summaries)
    return 0


def record_run(spark, runs: str, alerts: RunSummary, quarantine: RunSummary) -> None:
    """Append one row per run (the pump monitor shows the last one): when, micro-batches, lines in, rows out."""
    row = (
        datetime.now(timezone.utc),
        len(alerts.batch_ids),
        quarantine.observed.get("lines_read", 0),
        alerts.observed.get("alerts_written", 0),
        quarantine.observed.get("lines_quarantined", 0),
    )
    schema = "finished_at timestamp, micro_batches int, lines_read long, alerts_written long, lines_quarantined long"
    spark.createDataFrame([row], schema).coalesce(1).write.mode("append").parquet(runs)


if __name__ == "__main__":
    sys.exit(main())
