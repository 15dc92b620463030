"""What every Spark job of the project shares: the session, the summary of streaming runs, the console print."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from include import settings


def get_session(app_name: str, master: str | None = None, **extra_conf: str) -> SparkSession:
    """The job's session with the project's settings (an existing session is reused, as in tests).
    master: only outside spark-submit (tests, benchmarks), which sets it otherwise."""
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    for key, value in {**settings.SPARK_CONF, **extra_conf}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def local_session(app_name: str) -> SparkSession:
    """A local[2] session in this process, as spark-submit would set it up (tests, benchmarks)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # The drivers' class path and options, with the class-data archive (settings.SPARK_CLASS_ARCHIVE); the JIT's
    # first tier alone would slow down the long sessions of tests and benchmarks.
    os.environ.setdefault("SPARK_CONF_DIR", str(settings.SPARK_DRIVER_CONF_DIR))
    options = {"spark.driver.extraJavaOptions": settings.driver_class_options()}
    return get_session(app_name, master="local[2]", **options)


def hadoop_path(spark: SparkSession, path: str):
    """(FileSystem, Path) of a URI, through the session's Hadoop client: local, HDFS, any scheme Spark reads."""
    jvm_path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(path)
    return jvm_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), jvm_path


def path_exists(spark: SparkSession, path: str) -> bool:
    fs, jvm_path = hadoop_path(spark, path)
    return fs.exists(jvm_path)


def first_bytes(spark: SparkSession, path: str, count: int) -> bytes:
    """The first count bytes of a file (fewer in a shorter one)."""
    fs, jvm_path = hadoop_path(spark, path)
    stream = fs.open(jvm_path)
    try:
        values = [stream.read() for _ in range(count)]
    finally:
        stream.close()
    return bytes(value for value in values if value >= 0)


def read_file(spark: SparkSession, path: str) -> tuple[str, datetime, bytes]:
    """(full path, modification time, bytes) of one small file, read on the driver (Spark's binaryFile
    source); AnalysisException PATH_NOT_FOUND for a file that is not there."""
    ((full_path, modified, content),) = (
        spark.read.format("binaryFile").load(path).select("path", "modificationTime", "content").collect()
    )
    return full_path, modified, bytes(content)


def list_folder(spark: SparkSession, path: str) -> list[tuple[str, bool]]:
    """(name, is a folder) of each entry of a folder; [] for a folder not there yet."""
    fs, jvm_path = hadoop_path(spark, path)
    if not fs.exists(jvm_path):
        return []
    return sorted((status.getPath().getName(), status.isDirectory()) for status in fs.listStatus(jvm_path))


def read_text(spark: SparkSession, path: str) -> str:
    fs, jvm_path = hadoop_path(spark, path)
    stream = fs.open(jvm_path)
    try:
        return spark.sparkContext._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()


def checkpoint_id(spark: SparkSession, checkpoint: str) -> str:
    """The id a streaming query's checkpoint was created with (its metadata file): a new checkpoint, a
    new id. Delta's idempotent writes (txnAppId) are tied to it, so that the batch ids of a new
    checkpoint, starting again at 0, are not taken for batches already written."""
    return json.loads(read_text(spark, f"{checkpoint}/metadata"))["id"]


def checkpoint_is_empty(spark: SparkSession, checkpoint: str) -> bool:
    """No micro-batch was ever planned from this checkpoint (new, or deleted): every file is read again."""
    fs, offsets = hadoop_path(spark, f"{checkpoint}/offsets")
    return not fs.exists(offsets) or len(fs.listStatus(offsets)) == 0


class JobFailed(Exception):
    """A failure the job has already put in one line: what failed, and where."""


def job_parser(description: str | None, required: dict[str, str]) -> argparse.ArgumentParser:
    """A job's command line: its required arguments (--name: help), the rest added by the job."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, help_text in required.items():
        parser.add_argument(name, required=True, help=help_text)
    return parser


def add_streaming_options(parser: argparse.ArgumentParser) -> None:
    """What every checkpointed streaming job takes: its micro-batch size and how long to wait for its lock."""
    parser.add_argument("--max-files-per-trigger", type=int, default=None, help="files per micro-batch")
    parser.add_argument(
        "--lock-wait",
        type=float,
        default=settings.CHECKPOINT_LOCK_WAIT_SECONDS,
        help="seconds to wait for a busy checkpoint",
    )


def run_main(job: str, main: Callable[[], int]) -> int:
    """Run a job's main(); a failure is said in one line (what, where) before its trace, exit code 1."""
    try:
        return main()
    except Exception as error:  # the one place that turns any failure into a one-line message
        print(f"{job}: FAILED: {one_line(error)}", file=sys.stderr, flush=True)
        if not isinstance(error, JobFailed):
            traceback.print_exc()
        return 1


def one_line(error: BaseException) -> str:
    """The error in one line: a Java exception's own message, not py4j's "An error occurred while calling"."""
    java = getattr(error, "java_exception", None)
    text = str(java.toString()) if java is not None else str(error).strip()
    lines = [line.strip() for line in (text or type(error).__name__).splitlines() if line.strip()]
    return (lines[0] if lines else type(error).__name__)[:500]


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


def print_batch(batch: DataFrame, batch_id: int, rows: int = 20) -> None:
    """What the console sink prints for a micro-batch."""
    rule = "-" * 43
    print(f"{rule}\nBatch: {batch_id}\n{rule}")
    batch.show(rows, truncate=False)
