"""Report: what the pipeline has produced under a storage root, as the lecture's console shows it.

Prints the row counts of every output and the first rows of the alerts, the enriched alerts and
the daily statistics (``DataFrame.show``). Reads only; outputs not produced yet are reported so.

    PYTHONPATH=. spark-submit spark_jobs/report.py [--root var/storage] [--rows 10]
"""

from __future__ import annotations

import argparse
import sys

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession

from include import settings
from include.settings import Layout
from include.spark_runtime import get_session

OUTPUTS = ("alerts", "alerts_enriched", "quarantine", "daily_stats")
SORT_KEYS = {
    "alerts": ("resid", "date", "time"),
    "alerts_enriched": ("resid", "date", "time", "eventDate"),
    "quarantine": ("source_file",),
    "daily_stats": ("day", "resid"),
}


def read_output(spark: SparkSession, layout: Layout, name: str) -> DataFrame | None:
    try:
        return spark.read.parquet(layout.output(name))
    except AnalysisException:
        return None  # not produced yet


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=settings.STORAGE_ROOT, help="storage root (default: OIL_STORAGE_ROOT)")
    parser.add_argument("--rows", type=int, default=10, help="rows to show of each output")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    spark = get_session("oil-report")
    layout = Layout(args.root)
    for name in OUTPUTS:
        df = read_output(spark, layout, name)
        if df is None:
            print(f"{name}: not produced yet ({layout.output(name)})")
            continue
        print(f"{name}: {df.count()} rows ({layout.output(name)})")
        df.orderBy(*SORT_KEYS[name]).show(args.rows, truncate=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
