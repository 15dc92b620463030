"""Low-pressure alerts: stream the landing directory into the readings, alerts and quarantine tables.

One Structured Streaming query over the new sensor CSV files in SOURCE (only *.csv), run with
trigger(availableNow=True) and a checkpoint: it processes what is new since the last run, then
stops. Each micro-batch parses every line once and writes three Delta tables:

- READINGS (partitioned by day): every whole reading, keyed by (resid, date, time);
- OUTPUT: the readings whose psi is below the threshold, same key;
- QUARANTINE: every line that is not a whole reading, or that repeats a stored reading's key with
  other values (the first stays), keyed by (source file, line) with its reason and occurrences.

Writes are MERGEs on those keys: a retried batch, a file delivered twice under two names, or a
run after the checkpoint was lost (every landed file is read again) adds nothing; the summary
counts the repeats. A run ends with one line that accounts for every line read.

    PYTHONPATH=. spark-submit --jars "$(ls var/delta/lib/*.jar | paste -sd,)" spark_jobs/alerts.py \\
        --source var/storage/stream \\
        --output var/storage/output/alerts --quarantine var/storage/output/quarantine \\
        --checkpoints var/storage/checkpoints [--readings var/storage/output/readings] \\
        [--threshold 0.5] [--max-files-per-trigger N] [--runs DIR]

Each run appends one row to RUNS (Delta; default runs/ beside OUTPUT): when it finished, its
micro-batches, lines read, alerts written, lines quarantined, readings new and repeated.
"""

from __future__ import annotations

import argparse
import gzip
import math
import sys
import zlib
from collections import Counter
from datetime import datetime, timezone

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from include import settings
from include.schemas import SENSOR, SENSOR_COLUMNS, spark_schema
from include.spark import tables
from include.spark.checkpoint_lock import checkpoint_lock
from include.spark.readings import (
    BROKEN_GZIP,
    CONFLICT,
    DAY,
    FILE_TIME,
    GZIP_MAGIC,
    LINE_ORDER,
    MISNAMED_GZIP,
    NEW,
    QUARANTINE_KEY,
    RAW_BYTES,
    RAW_LINE,
    REASON,
    REPEAT,
    SOURCE_FILE,
    STATUS,
    conflict_records,
    event_day,
    is_valid,
    parse_lines,
    quarantine_entries,
    quarantine_records,
    sensor_line_stream,
    text_lines,
    why_not_read,
    with_status,
)
from include.spark.rules import low_pressure, low_pressure_alerts
from include.spark.spark_runtime import (
    add_streaming_options,
    checkpoint_id,
    checkpoint_is_empty,
    first_bytes,
    get_session,
    job_parser,
    list_folder,
    read_file,
    run_main,
)

RUN_SCHEMA = (
    "finished_at timestamp, micro_batches int, lines_read long, alerts_written long, lines_quarantined long,"
    " readings_new long, readings_repeated long"
)


REQUIRED_ARGUMENTS = {
    "--source": "landing directory of sensor CSV files",
    "--output": "Delta table of the alerts",
    "--quarantine": "Delta table of the lines set aside",
    "--checkpoints": "folder of the query's checkpoint",
}


def finite_float(text: str) -> float:
    """A number; NaN would alert on nothing, infinity on everything."""
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = job_parser(__doc__, REQUIRED_ARGUMENTS)
    parser.add_argument(
        "--readings", default=None, help="Delta table of every reading (default: readings/ beside OUTPUT)"
    )
    parser.add_argument(
        "--threshold", type=finite_float, default=settings.ALERT_PSI_THRESHOLD, help="psi below this alerts"
    )
    parser.add_argument("--runs", default=None, help="Delta log of this job's runs (default: runs/ beside OUTPUT)")
    add_streaming_options(parser)
    return parser.parse_args(argv)


def beside(output: str, name: str) -> str:
    return f"{output.rstrip('/').rsplit('/', 1)[0]}/{name}"


def parsed(batch: DataFrame) -> DataFrame:
    """Every line of a micro-batch parsed once and checked, kept for the writes that follow."""
    lines = is_valid(parse_lines(batch.withColumn(LINE_ORDER, F.monotonically_increasing_id())))
    return lines.persist(StorageLevel.MEMORY_AND_DISK)


class AlertBatches:
    """The foreachBatch function: one micro-batch of landed lines into the three tables, counted."""

    def __init__(self, spark: SparkSession, args: argparse.Namespace, checkpoint: str) -> None:
        self.spark, self.args, self.checkpoint = spark, args, checkpoint
        self.writer_id: str | None = None
        self.counts: Counter = Counter()
        self.batch_ids: list[int] = []
        self.failure: Exception | None = None
        self.not_read: list[tuple[str, str]] = []  # (file name, why) of the landing directory

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        self.batch_ids.append(batch_id)
        lines = parsed(batch)
        misnamed: list[tuple] = []
        try:
            # The batch's files, from the parsed lines (cached by this first action); .csv.gz is Hadoop's.
            files = [row[0] for row in lines.select(SOURCE_FILE).distinct().collect()]
            gzipped = [
                name for name in files if not name.endswith(".gz") and first_bytes(self.spark, name, 2) == GZIP_MAGIC
            ]
            if gzipped:  # rare: parse again, with their decompressed lines
                lines.unpersist()
                batch, misnamed = self._decompress(batch, gzipped)
                lines = parsed(batch)
            self._write(lines, batch_id, misnamed)
        except Exception as error:
            self.failure = error  # Spark wraps it in a long StreamingQueryException: main says this one
            raise
        finally:
            lines.unpersist()

    def _decompress(self, batch: DataFrame, misnamed: list[str]) -> tuple[DataFrame, list[tuple]]:
        """.csv files whose bytes are gzip: their lines as Spark read them are garbage. Their decompressed
        lines replace them, and one quarantine record each says so (or that it does not decompress)."""
        spark = self.spark
        records, decompressed = [], []
        for name in misnamed:
            _, time, content = read_file(spark, name)  # its time as the file source gives it
            try:
                file_lines, reason = text_lines(gzip.decompress(content)), MISNAMED_GZIP
            except (OSError, EOFError, zlib.error) as error:
                file_lines, reason = [], BROKEN_GZIP.format(error=error)
            records.append((name, f"<{len(content)} bytes of gzip data>", None, reason))
            decompressed += [(bytearray(line), name, time) for line in file_lines]
        kept = batch.where(~F.col(SOURCE_FILE).isin(misnamed))
        if decompressed:
            schema = f"value binary, {SOURCE_FILE} string, {FILE_TIME} timestamp"
            rows = spark.createDataFrame(decompressed, schema).withColumn("value", F.col("value").cast("string"))
            kept = kept.unionByName(rows)
        return kept, records

    def _write(self, lines: DataFrame, batch_id: int, misnamed: list[tuple]) -> None:
        spark, args = self.spark, self.args
        if self.writer_id is None:
            self.writer_id = f"oil-alerts-{checkpoint_id(spark, self.checkpoint)}"
        # What classifying a reading needs, not its raw text and bytes: they would travel through the
        # shuffle of every reading, and only a conflicting one is quarantined with them (conflict_records).
        carried = [*SENSOR_COLUMNS, SOURCE_FILE, FILE_TIME, LINE_ORDER]
        readings = lines.where("valid").select(*carried).withColumn(DAY, event_day())
        days = tables.distinct_values(readings, DAY)
        stored = tables.read(spark, args.readings)
        if stored is None:
            stored = spark.createDataFrame([], spark_schema(SENSOR))
        else:  # only the partitions of the batch's days can hold its keys
            of_days = F.col(DAY).isin([day for day in days if day is not None])
            stored = stored.where(of_days | F.col(DAY).isNull() if None in days else of_days)
        classified = with_status(readings, stored).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            low = low_pressure(args.threshold)
            counts = classified.groupBy(STATUS).agg(F.count(F.lit(1)).alias("n"), F.count_if(low).alias("low"))
            statuses = {row[STATUS]: (row["n"], row["low"]) for row in counts.collect()}
            lines_read = lines.count() + len(misnamed)  # a misnamed gzip file counts as one line set aside
            conflicting = statuses.get(CONFLICT, (0, 0))[0]
            quarantined = lines_read - sum(n for n, _ in statuses.values()) + conflicting
            rejected = quarantine_records(lines)
            if conflicting:
                rejected = rejected.unionByName(conflict_records(classified.where(F.col(STATUS) == CONFLICT), lines))
            if misnamed:
                schema = f"{SOURCE_FILE} string, {RAW_LINE} string, {RAW_BYTES} binary, {REASON} string"
                rejected = rejected.unionByName(spark.createDataFrame(misnamed, schema))
            rejected = quarantine_entries(rejected)
            if quarantined:  # MERGE, not an idempotent append: after a lost checkpoint the same lines come again.
                # A table of an earlier version gains the raw_bytes column (null in its older rows).
                tables.insert_missing(spark, rejected, args.quarantine, QUARANTINE_KEY, evolve_schema=True)
            else:
                tables.create_if_missing(spark, args.quarantine, rejected.schema)
            # A retried batch finds its appends done (same writer and batch id) and skips them; a run after
            # a lost checkpoint finds its readings stored: they are repeats, and nothing is appended.
            once = (self.writer_id, batch_id)
            new_rows = classified.where(F.col(STATUS) == NEW)
            alerts = low_pressure_alerts(new_rows, args.threshold).select(*SENSOR_COLUMNS)
            new_alerts = statuses.get(NEW, (0, 0))[1]
            if new_alerts:
                tables.append(alerts, args.output, once=once)
            else:
                tables.create_if_missing(spark, args.output, alerts.schema)
            # Last: the statuses above were taken against the table before this write.
            rows = new_rows.select(*SENSOR_COLUMNS, DAY)
            new = statuses.get(NEW, (0, 0))[0]
            if new:
                tables.append(rows, args.readings, partition_by=[DAY], once=once)
            else:
                tables.create_if_missing(spark, args.readings, rows.schema, partition_by=[DAY])
        finally:
            classified.unpersist()
        self.counts.update(
            lines_read=lines_read,
            lines_quarantined=quarantined,
            alerts_written=new_alerts,
            readings_new=new,
            readings_repeated=statuses.get(REPEAT, (0, 0))[0],
            readings_conflicting=conflicting,
        )

    def summary(self) -> str:
        """One line saying where every line read went: valid readings (some of them alerts) or quarantine."""
        c = self.counts
        line = (
            f"alerts job summary: lines_read={c['lines_read']}"
            f" readings_valid={c['lines_read'] - c['lines_quarantined']}"
            f" alerts_written={c['alerts_written']} lines_quarantined={c['lines_quarantined']}"
            f" readings_new={c['readings_new']} readings_repeated={c['readings_repeated']}"
            f" readings_conflicting={c['readings_conflicting']} micro_batches={len(self.batch_ids)}"
            f" files_not_read={len(self.not_read)}"
        )
        return line + (f" (see {self.args.quarantine})" if c["lines_quarantined"] else "")

    def not_read_line(self) -> str | None:
        """The files of the landing directory the job does not read, and why: never skipped in silence."""
        if not self.not_read:
            return None
        names = ", ".join(f"{name} ({why})" for name, why in self.not_read)
        return f"alerts: not read in {self.args.source}: {names}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    args.readings = args.readings or beside(args.output, "readings")
    runs = args.runs or beside(args.output, "runs")
    spark = get_session("oil-alerts")
    tables.refuse_old_outputs(spark, args.output, args.quarantine, args.readings, runs)
    checkpoint = f"{args.checkpoints}/alerts"
    batches = AlertBatches(spark, args, checkpoint)
    # One writer per checkpoint: a second run waits, then is refused.
    with checkpoint_lock(spark, checkpoint, args.lock_wait):
        if checkpoint_is_empty(spark, checkpoint):
            print(
                f"alerts: starting from an empty checkpoint ({checkpoint}): every file in {args.source} is read;"
                " readings already in the tables count as repeats and add nothing"
            )
        query = (
            sensor_line_stream(spark, args.source, args.max_files_per_trigger)
            .writeStream.queryName("alerts")
            .foreachBatch(batches)
            .option("checkpointLocation", checkpoint)
            .trigger(availableNow=True)
            .start()
        )
        try:
            query.awaitTermination()
        except Exception:
            if batches.failure is None:
                raise
            raise batches.failure from None
    batches.not_read = [
        (name, why) for name, folder in list_folder(spark, args.source) if (why := why_not_read(name, folder))
    ]
    if line := batches.not_read_line():
        print(line)
    print(batches.summary())
    record_run(spark, runs, batches)
    return 0


def record_run(spark: SparkSession, runs: str, batches: AlertBatches) -> None:
    """Append one row per run (the pump monitor shows the last one): when, micro-batches, lines in, rows out."""
    c = batches.counts
    row = (
        datetime.now(timezone.utc),
        len(batches.batch_ids),
        c["lines_read"],
        c["alerts_written"],
        c["lines_quarantined"],
        c["readings_new"],
        c["readings_repeated"],
    )
    tables.append(spark.createDataFrame([row], RUN_SCHEMA).coalesce(1), runs)


if __name__ == "__main__":
    sys.exit(run_main("alerts", main))
