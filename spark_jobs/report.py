"""Report: what the pipeline has produced under a storage root, as the lecture's console shows it.

Reads every output's Delta table (its current version) and prints its row count and first rows
(``DataFrame.show``, sorted by the table's key), in columns that fit 120 characters: the wide
tables show their main columns only. Ends with two lines: rows per output, and where (with --counts,
written to that file as JSON instead, for the caller's summary: `make demo`'s). Reads only; an output
not produced yet is reported so.

    PYTHONPATH=. spark-submit --jars "$(ls var/delta/lib/*.jar | paste -sd,)" spark_jobs/report.py [--root var/storage]
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

from pyspark.sql import DataFrame

from include import settings
from include.schemas import SENSOR_COLUMNS
from include.settings import Layout
from include.spark import tables
from include.spark.spark_runtime import get_session, path_exists

WIDTH = 120  # characters of the widest line printed
SENSOR_KEY = ("resid", "date", "time")
# Per output: the columns shown and the sort keys.
OUTPUTS = {
    "readings": (SENSOR_COLUMNS, SENSOR_KEY),
    "alerts": (SENSOR_COLUMNS, SENSOR_KEY),
    "alerts_enriched": (
        ("resid", "date", "time", "psi", "pumpType", "vendor", "eventDate", "technician", "description"),
        (*SENSOR_KEY, "eventDate"),
    ),
    "incidents": (
        (
            "resid",
            "date_format(opened_at, 'yyyy-MM-dd HH:mm') AS opened_at",
            "date_format(resolved_at, 'yyyy-MM-dd HH:mm') AS resolved_at",
            "low_readings",
            "min_psi",
            "vendor",
            "maintenance_date",
        ),
        ("resid", "opened_at"),
    ),
    "quarantine": (("source_file", "raw_line", "reason", "occurrences"), ("source_file", "raw_line")),
    "daily_stats": (("day", "resid", "date", "minpsi", "avgpsi", "maxpsi"), ("day", "resid")),
    # The streaming runs' log (spark_jobs/alerts.py): when each finished, to the second, and what it did.
    "runs": (
        (
            "date_format(finished_at, 'yyyy-MM-dd HH:mm:ss') AS finished_at",
            "micro_batches",
            "lines_read",
            "alerts_written",
            "lines_quarantined",
        ),
        ("finished_at",),
    ),
}


def cell_width(columns: int) -> int:
    """Characters per cell so that a row of `columns` cells ("|" before each, one after) fits WIDTH."""
    return (WIDTH - 1) // columns - 1


def show(df: DataFrame, columns: tuple[str, ...], keys: tuple[str, ...], rows: int) -> None:
    df.orderBy(*keys).selectExpr(*columns).show(rows, truncate=cell_width(len(columns)))


def summary(counts: dict[str, int | None], layout: Layout) -> str:
    """Rows per output (or "-" when not produced yet), within WIDTH characters a line, and the folder that
    holds them."""
    parts = ", ".join(f"{name} {'-' if count is None else count}" for name, count in counts.items())
    rows = textwrap.wrap(f"report: rows per output: {parts}", WIDTH, subsequent_indent="  ")
    return "\n".join([*rows, f"report: Delta tables under {layout.path('output')}"])


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=settings.STORAGE_ROOT, help="storage root (default: OIL_STORAGE_ROOT)")
    parser.add_argument("--rows", type=int, default=10, help="rows to show of each output")
    parser.add_argument(
        "--counts", type=Path, default=None, help="write rows per output to this JSON file, not the summary lines"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    spark = get_session("oil-report")
    layout = Layout(args.root)
    counts: dict[str, int | None] = {}
    for name, (columns, keys) in OUTPUTS.items():
        path = layout.output(name)
        df = tables.read(spark, path)
        counts[name] = None if df is None else df.count()
        if df is None:
            old = path_exists(spark, path)
            print(f"{name}: {'not a Delta table (an older output?)' if old else 'not produced yet'} ({path})")
            continue
        print(f"{name}: {counts[name]} rows ({path})")
        show(df, columns, keys, args.rows)
    if args.counts:
        args.counts.write_text(json.dumps(counts))
    else:
        print(summary(counts, layout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
