"""What every Spark job of the project shares: the session, and the summary of streaming runs."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from include import settings


def get_session(app_name: str, master: str | None = None) -> SparkSession:
    """The job's session with the project's settings (an existing session is reused, as in tests).
    master: only outside spark-submit (tests, benchmarks), which sets it otherwise."""
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    for key, value in settings.SPARK_CONF.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def local_session(app_name: str) -> SparkSession:
    """A local[2] session in this process, as spark-submit would set it up (tests, benchmarks)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_CONF_DIR", str(settings.SPARK_CONF_DIR))
    return get_session(app_name, master="local[2]")


def start_available_now(df: DataFrame, name: str, output: str, checkpoint: str) -> StreamingQuery:
    """Append df to a Parquet sink: everything new, then stop. The checkpoint plus the sink's
    metadata log make each input row land exactly once, whatever the batching."""
    return (
        df.writeStream.queryName(name)
        .format("parquet")
        .option("path", output)
        .option("checkpointLocation", checkpoint)
        .outputMode("append")
        .trigger(availableNow=True)
        .start()
    )


@dataclass
class RunSummary:
    """What one availableNow run of a query did, from its progress reports."""

    name: str
    rows_read: int = 0
    batch_ids: list[int] = field(default_factory=list)
    observed: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, query: StreamingQuery) -> RunSummary:
        summary = cls(query.name)
        for progress in query.recentProgress:
            summary.rows_read += progress.numInputRows
            summary.batch_ids.append(progress.batchId)
            for metrics in progress.observedMetrics.values():
                for key, value in metrics.asDict().items():
                    summary.observed[key] = summary.observed.get(key, 0) + value
        return summary

    def line(self) -> str:
        ids = f" (batch ids {self.batch_ids[0]}..{self.batch_ids[-1]})" if self.batch_ids else ""
        counts = "".join(f", {key} {value}" for key, value in sorted(self.observed.items()))
        return f"{self.name}: {self.rows_read} input rows in {len(self.batch_ids)} micro-batches{ids}{counts}"


def await_all(*queries: StreamingQuery) -> list[RunSummary]:
    for query in queries:
        query.awaitTermination()
    return [RunSummary.of(query) for query in queries]
