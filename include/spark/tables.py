"""The Delta Lake tables under <root>/output/: how a Spark job writes them once, whatever happens.

Every output is a Delta table keyed by what it holds (a reading: resid, date, time; a quarantined
line: its file and text). A write that is
repeated (a retried micro-batch, a file delivered twice, a run after a lost checkpoint) finds its
rows already there and adds nothing: MERGE on the key inserts only what is missing. A reader sees
one table version or the next, never half a write. Only Spark jobs import this module.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructField, StructType

from include.spark.spark_runtime import JobFailed, one_line, path_exists

DELTA_LOG = "_delta_log"


class OldOutputs(JobFailed):
    """A storage root written by the pipeline's Parquet file sinks, before the outputs were Delta tables."""


def is_table(spark: SparkSession, path: str) -> bool:
    return path_exists(spark, f"{path.rstrip('/')}/{DELTA_LOG}")


def refuse_old_outputs(spark: SparkSession, *paths: str) -> None:
    """Fail, in one line that says what to do, on an output folder that is not a Delta table."""
    for path in paths:
        if path_exists(spark, path) and not is_table(spark, path):
            root, layout, _ = path.rstrip("/").rpartition("/output/")
            folders = f"{root}/output and {root}/checkpoints" if layout else f"{path} and its checkpoint"
            raise OldOutputs(
                f"{path} is not a Delta table (outputs of an earlier, Parquet-sink version of this pipeline?):"
                f" move {folders} away, then run again: the landing files are read again into Delta tables"
            )


def read(spark: SparkSession, path: str) -> DataFrame | None:
    """A table's current version; None while it does not exist yet."""
    return spark.read.format("delta").load(path) if is_table(spark, path) else None


def _on_key(keys: Sequence[str]) -> str:
    # <=>: a key column may be null (an alert with no maintenance record) and still match itself.
    return " AND ".join(f"t.`{key}` <=> s.`{key}`" for key in keys)


def insert_missing(
    spark: SparkSession,
    rows: DataFrame,
    path: str,
    keys: Sequence[str],
    partition_by: Sequence[str] = (),
    narrow: str | None = None,
    evolve_schema: bool = False,
) -> int:
    """MERGE rows into the table at path, inserting those whose key is not there yet; the number inserted.
    Creates the table on first use. narrow: a SQL condition on the table's columns (t.<column>) that
    holds for every row that could match (e.g. its days), so MERGE reads only those partitions.
    evolve_schema: columns of rows the table lacks are added to it (Delta's schema evolution)."""
    with writing(path):
        if not is_table(spark, path):
            rows.write.format("delta").partitionBy(*partition_by).save(path)
            return _last_commit_metric(spark, path, "numOutputRows")
        condition = _on_key(keys) if narrow is None else f"({_on_key(keys)}) AND ({narrow})"
        table = DeltaTable.forPath(spark, path).alias("t")
        merge = table.merge(rows.alias("s"), condition)
        (merge.withSchemaEvolution() if evolve_schema else merge).whenNotMatchedInsertAll().execute()
        return _last_commit_metric(spark, path, "numTargetRowsInserted")


def upsert(spark: SparkSession, rows: DataFrame, path: str, keys: Sequence[str]) -> int:
    """MERGE rows into the existing table at path: a row whose key is there replaces that row's values, the
    others are inserted; the number of rows inserted or updated."""
    with writing(path):
        table = DeltaTable.forPath(spark, path).alias("t")
        table.merge(rows.alias("s"), _on_key(keys)).whenMatchedUpdateAll().whenNotMatchedInsertAll().execute()
        return _last_commit_metric(spark, path, "numTargetRowsInserted", "numTargetRowsUpdated")


def create_if_missing(spark: SparkSession, path: str, schema: StructType, partition_by: Sequence[str] = ()) -> None:
    """An empty table at path from its schema alone (no rows to compute), unless one is there: every
    output exists after a job's first run, even one that had nothing to write to it."""
    if is_table(spark, path):
        return
    nullable = StructType([StructField(field.name, field.dataType, True) for field in schema])
    with writing(path):
        spark.createDataFrame([], nullable).write.format("delta").partitionBy(*partition_by).save(path)


def append(rows: DataFrame, path: str, partition_by: Sequence[str] = (), once: tuple[str, int] | None = None) -> None:
    """Append rows to the table at path (created on first use). once=(writer id, batch id): Delta's
    idempotent write, skipped when the table already holds that writer's batch (a retried micro-batch)."""
    writer = rows.write.format("delta").mode("append").partitionBy(*partition_by)
    if once is not None:
        writer = writer.option("txnAppId", once[0]).option("txnVersion", once[1])
    with writing(path):
        writer.save(path)


def _last_commit_metric(spark: SparkSession, path: str, *metrics: str) -> int:
    """The sum of these operation metrics of the table's last commit."""
    (commit,) = DeltaTable.forPath(spark, path).history(1).select("operationMetrics").collect()
    recorded = commit.operationMetrics or {}
    return sum(int(recorded.get(metric, 0)) for metric in metrics)


def distinct_values(rows: DataFrame, column: str) -> list:
    return [row[0] for row in rows.select(column).distinct().collect()]


@contextmanager
def writing(path: str) -> Iterator[None]:
    """Name the table in the one line that says a write failed (the trace follows it)."""
    try:
        yield
    except Exception as error:
        raise TableWriteFailed(f"writing the Delta table {path} failed: {one_line(error)}") from error


class TableWriteFailed(Exception):
    pass
