"""The socket word count: the Delta table it writes equals Counter(str.split()) over the lines
served, and the job stops on its own bounds (idle limit, duration)."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from pyspark.sql.streaming import StreamingQueryListener

from spark_jobs import word_count
from testsupport.line_server import TIMEOUT, line_server

FIRST = ["the quick brown fox", "  jumps over\tthe lazy dog  ", "", "the end"]
SECOND = ["the fox again", "wörds  wörds\tünïcode", "a a a"]


def oracle(lines: list[str]) -> Counter:
    return Counter(word for line in lines for word in line.split())


class InputProgress(StreamingQueryListener):
    """Sets `read` once a micro-batch of the query has read lines."""

    def __init__(self) -> None:
        self.read = threading.Event()

    def onQueryStarted(self, event) -> None:
        pass

    def onQueryProgress(self, event) -> None:
        if event.progress.name == word_count.QUERY_NAME and event.progress.numInputRows > 0:
            self.read.set()

    def onQueryIdle(self, event) -> None:
        pass

    def onQueryTerminated(self, event) -> None:
        pass


def run(port: int, output, duration: float, idle: float = 0) -> None:
    args = ["--host", "127.0.0.1", "--port", str(port), "--duration", str(duration), "--output", str(output)]
    assert word_count.main([*args, "--idle", str(idle)]) == 0


def read_counts(spark, output) -> dict[str, int]:
    return {row["value"]: row["count"] for row in spark.read.format("delta").load(str(output)).collect()}


def test_words_are_whitespace_separated_runs(spark):
    lines = [*FIRST, *SECOND, " ", "\t\ttabs\t"]
    df = spark.createDataFrame([(line,) for line in lines], "value string")
    got = word_count.word_counts(df)
    assert got.columns == ["value", "count"]
    assert {row["value"]: row["count"] for row in got.collect()} == oracle(lines)


def test_running_counts_of_two_bursts_equal_the_oracle(spark, tmp_path, capsys):
    """The second burst is sent once a micro-batch has read the first: the output, rewritten by
    each batch, holds the counts of both; the job stops on its idle limit."""
    progress = InputProgress()
    spark.streams.addListener(progress)
    try:
        with line_server([FIRST, SECOND], between=progress.read) as port:
            run(port, tmp_path / "counts", duration=TIMEOUT, idle=2)
    finally:
        spark.streams.removeListener(progress)
    expected = oracle(FIRST + SECOND)
    assert read_counts(spark, tmp_path / "counts") == expected
    out = capsys.readouterr().out
    assert "Batch: 0" in out and "|value" in out  # the console sink's print
    summary = out.strip().splitlines()[-1]
    assert summary.startswith(f"word_count: {len(FIRST + SECOND)} lines read, {len(expected)} distinct words, ")
    assert int(summary.split(", ")[-1].split()[0]) >= 2  # micro-batches


def test_a_silent_source_stops_at_the_duration_with_empty_counts(spark, tmp_path, capsys):
    started = time.monotonic()
    with line_server([]) as port:
        run(port, tmp_path / "counts", duration=2, idle=1)  # the idle limit waits for a first line
    assert 2 <= time.monotonic() - started < TIMEOUT
    counts = spark.read.format("delta").load(str(tmp_path / "counts"))
    assert counts.schema.simpleString() == "struct<value:string,count:bigint>"
    assert counts.count() == 0
    assert "word_count: 0 lines read, 0 distinct words, " in capsys.readouterr().out.strip().splitlines()[-1]


def test_arguments_are_checked():
    with pytest.raises(SystemExit):
        word_count.parse_args(["--host", "h", "--port", "70000", "--duration", "5", "--output", "o"])
    with pytest.raises(SystemExit):
        word_count.parse_args(["--host", "h", "--port", "9999", "--duration", "0", "--output", "o"])
