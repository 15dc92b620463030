"""The lecture's three output modes, on the oil data: what the sink receives after each micro-batch.

Streams the sensor CSV files of SOURCE (the readings the alert job parses, psi < threshold is an
alert) into a streaming aggregation, and writes what Spark hands the sink in the chosen mode:

``complete``  alerts per pump and day (resid, date, alerts). After every micro-batch, the whole
              result table: every (pump, day) seen so far with its total. State is never dropped.
``update``    the same aggregation. After every micro-batch, only the rows of the result table
              that this batch changed, with their new totals; a pump and day without new alerts
              is not written again.
``append``    alerts per pump and event-time window (resid, window_start, window_end, alerts),
              with a watermark on the reading's time (``date`` and ``time`` columns). A row is
              written once, when it can no longer change: by the micro-batch after the one that
              moves the watermark (latest reading time seen, all readings, minus --watermark) to
              or past the window's end; Spark runs that batch at once, without new data.
              Readings of a window already written are dropped as too late (an old reading whose
              window is still open counts); open windows are not written. Append is the only one
              of the three modes that Spark's file sink accepts for an aggregation.

OUTPUT is one Delta table of what every micro-batch wrote: the mode's columns plus ``batch_id``
(its partition column), so ``WHERE batch_id = N`` is what the sink received after batch N. Each
batch replaces its own partition in one commit (replaceWhere ``batch_id = N``): re-running a batch
after a failure writes it again, not twice; a batch that writes nothing leaves no rows. The rows
are also printed as the console sink does. Runs with trigger(availableNow=True) and a checkpoint:
each run takes the files that are new since the last one, so dropping two files with a run after
each shows what each mode writes after each batch.

    PYTHONPATH=. spark-submit --jars "$(ls var/delta/lib/*.jar | paste -sd,)" spark_jobs/output_modes.py \\
        --mode update --source var/storage/stream \\
        --output var/storage/output/modes_update --checkpoint var/storage/checkpoints/modes_update \\
        [--threshold 0.5] [--window "1 hour"] [--watermark "30 minutes"]
"""

from __future__ import annotations

import argparse
import sys

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from include import settings
from include.spark.readings import event_time, read_sensor_stream, valid_readings
from include.spark.rules import low_pressure, low_pressure_alerts
from include.spark.spark_runtime import RunSummary, get_session, print_batch

MODES = ("complete", "update", "append")
BATCH_COLUMN = "batch_id"


def with_event_time(readings: DataFrame) -> DataFrame:
    """The reading's time from its date and time columns (``event_time``); readings whose date
    and time do not make a time are left out."""
    return readings.withColumn("event_time", event_time()).where(F.col("event_time").isNotNull())


def alerts_per_pump_day(readings: DataFrame, threshold: float) -> DataFrame:
    """Alerts per pump and day: resid, date, alerts (complete and update modes)."""
    return low_pressure_alerts(readings, threshold).groupBy("resid", "date").agg(F.count(F.lit(1)).alias("alerts"))


def alerts_per_pump_window(readings: DataFrame, threshold: float, window: str, watermark: str) -> DataFrame:
    """Alerts per pump and event-time window: resid, window_start, window_end, alerts (append mode),
    for the windows with an alert. Every reading moves the watermark, not only alerts: the alert
    rule (psi below the threshold, include/spark/rules.py) is counted in the aggregate, not
    applied as a filter, because Spark's optimizer pushes a filter that does not use the event
    time below the watermark, which would then see only alerts and keep windows open for long."""
    timed = with_event_time(readings).withWatermark("event_time", watermark)
    counts = timed.groupBy("resid", F.window("event_time", window)).agg(
        F.count_if(low_pressure(threshold)).alias("alerts")
    )
    return counts.where(F.col("alerts") > 0).select(
        "resid", F.col("window.start").alias("window_start"), F.col("window.end").alias("window_end"), "alerts"
    )


def write_batch_rows(batch: DataFrame, batch_id: int, output: str) -> None:
    """Replace batch batch_id's partition of the Delta table at output with its rows, in one commit."""
    (
        batch.withColumn(BATCH_COLUMN, F.lit(batch_id))
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", f"{BATCH_COLUMN} = {batch_id}")
        .partitionBy(BATCH_COLUMN)
        .save(output)
    )


def result_table(readings: DataFrame, mode: str, threshold: float, window: str, watermark: str) -> DataFrame:
    if mode == "append":
        return alerts_per_pump_window(readings, threshold, window, watermark)
    return alerts_per_pump_day(readings, threshold)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", required=True, choices=MODES, help="output mode")
    parser.add_argument("--source", required=True, help="landing directory of sensor CSV files")
    parser.add_argument("--output", required=True, help="Delta table of every batch's rows, partitioned by batch_id")
    parser.add_argument("--checkpoint", required=True, help="checkpoint folder of this query")
    parser.add_argument("--threshold", type=float, default=settings.ALERT_PSI_THRESHOLD, help="psi below this alerts")
    parser.add_argument("--window", default="1 hour", help="event-time window of append mode")
    parser.add_argument("--watermark", default="30 minutes", help="how far the watermark trails the latest reading")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    spark = get_session(f"oil-output-modes-{args.mode}")
    readings = valid_readings(read_sensor_stream(spark, args.source))
    table = result_table(readings, args.mode, args.threshold, args.window, args.watermark)
    written: dict[int, int] = {}

    def write_batch(batch: DataFrame, batch_id: int) -> None:
        batch.persist()
        print_batch(batch, batch_id)
        write_batch_rows(batch, batch_id, args.output)
        written[batch_id] = batch.count()
        batch.unpersist()

    query = (
        table.writeStream.queryName(f"alerts_{args.mode}")
        .outputMode(args.mode)
        .foreachBatch(write_batch)
        .option("checkpointLocation", args.checkpoint)
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination()
    rows = ", ".join(f"{batch_id}: {count}" for batch_id, count in sorted(written.items())) or "none"
    print(f"{RunSummary.of(query).line()}; rows written per batch: {rows}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
