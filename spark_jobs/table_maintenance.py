"""Table maintenance: compact every Delta table under <root>/output/ (OPTIMIZE), then delete the
files no recent table version refers to (VACUUM).

Each streaming run and each day adds small files to the tables (a MERGE or an append writes at
least one file per touched partition); a reader opens every one. OPTIMIZE rewrites the small files
of each partition into one, in a commit that changes no row (dataChange=false); VACUUM then
deletes the files that only table versions older than RETAIN_HOURS refer to (the small files just
compacted, the days daily_stats replaced). A version older than that cannot be read any more
(time travel), and a retention shorter than the longest write can delete the files of a write in
progress: keep the default (settings.VACUUM_RETAIN_HOURS) while other jobs write.

    PYTHONPATH=. spark-submit --jars "$(ls var/delta/lib/*.jar | paste -sd,)" \\
        spark_jobs/table_maintenance.py --root var/storage [--retain-hours 168]

(the Delta jars on the driver's class path: without them, `'JavaPackage' object is not callable`).

Prints one line per table: files its current version refers to, and Parquet files on storage
(under the table folder, the log aside), before -> after; then a summary line. A folder under
output/ that is not a Delta table is left alone and said so.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from include import settings
from include.spark import tables
from include.spark.spark_runtime import get_session, hadoop_path, run_main


@dataclass(frozen=True)
class TableFiles:
    """A table's files before and after maintenance."""

    name: str
    data_before: int
    data_after: int
    stored_before: int
    stored_after: int

    def line(self) -> str:
        return (
            f"table_maintenance: {self.name}: data files {self.data_before} -> {self.data_after},"
            f" files on storage {self.stored_before} -> {self.stored_after}"
        )


def summary(reports: Sequence[TableFiles], retain_hours: float) -> str:
    def total(field: str) -> int:
        return sum(getattr(report, field) for report in reports)

    return (
        f"table_maintenance summary: {len(reports)} tables, data files {total('data_before')} ->"
        f" {total('data_after')}, files on storage {total('stored_before')} -> {total('stored_after')}"
        f" (VACUUM retention {retain_hours:g} h)"
    )


def is_data_file(path: str) -> bool:
    """A table's Parquet data file; the log's checkpoints are Parquet too, and are not."""
    return path.endswith(".parquet") and f"/{tables.DELTA_LOG}/" not in path


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=settings.STORAGE_ROOT, help="storage root whose output/ tables to maintain")
    parser.add_argument(
        "--retain-hours",
        type=float,
        default=settings.VACUUM_RETAIN_HOURS,
        help="VACUUM keeps the files of table versions younger than this",
    )
    args = parser.parse_args(argv)
    if not args.retain_hours >= 0:  # also refuses NaN
        parser.error(f"--retain-hours must be 0 or more, not {args.retain_hours}")
    return args


def folders(spark: SparkSession, path: str) -> list[str]:
    """The sub-folders of path, sorted; none if path does not exist."""
    fs, jvm_path = hadoop_path(spark, path)
    if not fs.exists(jvm_path):
        return []
    return sorted(status.getPath().getName() for status in fs.listStatus(jvm_path) if status.isDirectory())


def stored_files(spark: SparkSession, path: str) -> int:
    """Parquet data files under a table folder (every partition), referenced or not."""
    fs, jvm_path = hadoop_path(spark, path)
    found = fs.listFiles(jvm_path, True)
    count = 0
    while found.hasNext():
        count += is_data_file(found.next().getPath().toUri().getPath())
    return count


def referenced_files(table: DeltaTable) -> int:
    return int(table.detail().select("numFiles").first()[0])


def maintain(spark: SparkSession, path: str, name: str, retain_hours: float) -> TableFiles:
    table = DeltaTable.forPath(spark, path)
    data_before, stored_before = referenced_files(table), stored_files(spark, path)
    with tables.writing(path):
        table.optimize().executeCompaction()
        table.vacuum(retain_hours)
    return TableFiles(name, data_before, referenced_files(table), stored_before, stored_files(spark, path))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    spark = get_session("oil-table-maintenance")
    # VACUUM lists a table's files in this many tasks: Spark's default, 10,000, took about 100 s for a
    # small table on 2 busy cores. One per core, unless set on purpose (OIL_SPARK_CONF).
    output = settings.Layout(args.root).path("output")
    reports = []
    for name in folders(spark, output):
        path = f"{output}/{name}"
        if not tables.is_table(spark, path):
            print(f"table_maintenance: {name}: not a Delta table, left alone ({path})")
            continue
        report = maintain(spark, path, name, args.retain_hours)
        print(report.line(), flush=True)
        reports.append(report)
    print(summary(reports, args.retain_hours))
    return 0


if __name__ == "__main__":
    sys.exit(run_main("table_maintenance", main))
