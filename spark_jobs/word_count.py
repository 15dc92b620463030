"""The lecture's first stream: running word counts of the lines a TCP socket sends.

Reads lines from HOST:PORT (Spark's socket source; feed it with `nc -lk 9999` or
scripts/socket_sender.py), splits them on whitespace and keeps running counts per word in
``complete`` mode. After each micro-batch the whole table is printed as the console sink does and
overwrites the Delta table OUTPUT (columns ``value``, the word, and ``count``) in one commit: OUTPUT
always holds the counts of every line read so far, and a reader sees one batch's counts or the
next one's, never half a write. The job stops after DURATION seconds, or earlier with --idle once
lines have come and none has for IDLE seconds; then it prints a summary. The socket source is for
trying things out: it keeps no offsets, so a restarted job counts from zero again.

    PYTHONPATH=. spark-submit --jars "$(ls var/delta/lib/*.jar | paste -sd,)" spark_jobs/word_count.py \\
        --host localhost --port 9999 \\
        --duration 60 --output var/storage/output/word_counts [--idle 10]
"""

from __future__ import annotations

import argparse
import sys
import time

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from include.spark.spark_runtime import get_session, print_batch

QUERY_NAME = "word_count"
OUTPUT_SCHEMA = "value string, count bigint"
POLL_SECONDS = 0.2


def word_counts(lines: DataFrame) -> DataFrame:
    """Lines (column ``value``) to the count of each word (columns ``value``, ``count``); words are
    the runs of non-whitespace characters, as str.split() sees them."""
    words = lines.select(F.explode(F.split(F.col("value"), r"\s+")).alias("value"))
    return words.where(F.col("value") != "").groupBy("value").count()


def write_counts(counts: DataFrame, output: str) -> None:
    """Replace the Delta table at output with counts, in one commit."""
    counts.write.format("delta").mode("overwrite").save(output)


def run_until_done(query: StreamingQuery, duration: float, idle: float) -> None:
    """Wait until the query ends, DURATION seconds pass, or (IDLE > 0) lines have been read and
    none has for IDLE seconds while no batch with data is running; then stop the query."""
    started = last_input = time.monotonic()
    rows_read = 0
    while not query.awaitTermination(POLL_SECONDS):
        now = time.monotonic()
        read = sum(progress.numInputRows for progress in query.recentProgress)
        status = query.status
        if read > rows_read or (status["isTriggerActive"] and status["isDataAvailable"]):
            rows_read, last_input = read, now
        if now - started >= duration or (idle and rows_read and now - last_input >= idle):
            query.stop()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", required=True, help="host that serves the lines")
    parser.add_argument("--port", required=True, type=int, help="its TCP port")
    parser.add_argument("--duration", required=True, type=float, help="stop after this many seconds")
    parser.add_argument("--idle", type=float, default=0, help="stop once no line came for this long; 0: never")
    parser.add_argument("--output", required=True, help="Delta table of the latest counts (value, count)")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error("--port must be in 1..65535")
    if args.duration <= 0 or args.idle < 0:
        parser.error("--duration must be positive, --idle positive or 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    spark = get_session("oil-word-count")
    lines = spark.readStream.format("socket").option("host", args.host).option("port", args.port).load()
    seen = {"batches": 0, "words": 0}

    # Complete mode hands foreachBatch the whole result table every micro-batch, so overwriting
    # OUTPUT with it leaves the final counts after the last one (the file sink refuses complete
    # mode). One query does both the console print and the write: a second query (console sink
    # plus a memory sink written at the end) would open a second socket connection, which
    # `nc -lk` does not serve, and a memory sink loses everything if the job dies before the end.
    # A Delta overwrite is one commit: a job killed while writing leaves the previous counts.
    def write_batch(batch: DataFrame, batch_id: int) -> None:
        batch.persist()
        print_batch(batch, batch_id)
        write_counts(batch, args.output)
        seen["batches"] += 1
        seen["words"] = batch.count()
        batch.unpersist()

    writer = word_counts(lines).writeStream.queryName(QUERY_NAME).outputMode("complete").foreachBatch(write_batch)
    query = writer.start()
    try:
        run_until_done(query, args.duration, args.idle)
    finally:
        query.stop()
    if not seen["batches"]:  # no line came: the final counts are an empty table
        write_counts(spark.createDataFrame([], OUTPUT_SCHEMA), args.output)
    lines_read = sum(progress.numInputRows for progress in query.recentProgress)
    print(f"{QUERY_NAME}: {lines_read} lines read, {seen['words']} distinct words, {seen['batches']} micro-batches")
    return 0


if __name__ == "__main__":
    sys.exit(main())
