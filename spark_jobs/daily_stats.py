"""Daily statistics: max, min and average of every sensor per pump for one day (Spark SQL, batch).

Reads DAY's partition of the readings Delta table (every whole reading the alert job has stored,
each once: its cost does not grow with the days before) and writes one row per (resid, date) to
the OUTPUT Delta table, partitioned by ``day`` (ISO date). The day is replaced in one commit
(replaceWhere): a reader sees the old day or the new one, and re-running a day, or running the
days in any order, gives the same result.

    PYTHONPATH=. spark-submit --jars "$(ls var/delta/lib/*.jar | paste -sd,)" spark_jobs/daily_stats.py \\
        --readings var/storage/output/readings \\
        --output var/storage/output/daily_stats --day 2014-03-10
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from include.spark import tables
from include.spark.readings import DAY
from include.spark.spark_runtime import get_session, run_main

# Output name prefix of each measure, as in the lecture (flow is "flo" there).
STAT_NAMES = {"hz": "hz", "disp": "disp", "flow": "flo", "sedPPM": "sedPPM", "psi": "psi", "chlPPM": "chlPPM"}
STAT_COLUMNS = tuple(f"{agg}{name}" for name in STAT_NAMES.values() for agg in ("max", "min", "avg"))


def daily_statistics(readings: DataFrame, day: date) -> DataFrame:
    """The lecture's query, for one day: per resid and date, max/min/avg of each sensor."""
    aggregates = ",\n".join(
        f"{agg}({column}) AS {agg}{name}" for column, name in STAT_NAMES.items() for agg in ("max", "min", "avg")
    )
    day_readings = readings.where(F.col(DAY) == day)
    return readings.sparkSession.sql(
        f"SELECT resid, date, {aggregates}, DATE'{day.isoformat()}' AS day FROM {{sensor}} GROUP BY resid, date",
        sensor=day_readings,
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readings", required=True, help="Delta table of the readings (the alert job's)")
    parser.add_argument("--output", required=True, help="Delta table of the statistics, partitioned by day")
    parser.add_argument("--day", required=True, type=date.fromisoformat, help="the day to compute, YYYY-MM-DD")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    spark = get_session("oil-daily-stats")
    tables.refuse_old_outputs(spark, args.readings, args.output)
    readings = tables.read(spark, args.readings)
    if readings is None:
        print(f"daily_stats: {args.day}: no readings table yet ({args.readings}): run oil_streaming first")
        return 0
    stats = daily_statistics(readings, args.day).cache()
    pumps = stats.count()
    if pumps:
        with tables.writing(args.output):
            (
                stats.write.format("delta")
                .mode("overwrite")
                .option("replaceWhere", f"{DAY} = DATE'{args.day.isoformat()}'")
                .partitionBy(DAY)
                .save(args.output)
            )
    # A session that runs the job again (tests, benchmarks) must read the table again, not this cache.
    stats.unpersist()
    print(
        f"daily_stats: {args.day}: {pumps} (pump, day) rows written"
        if pumps
        else f"daily_stats: {args.day}: no readings for this day, nothing written"
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_main("daily_stats", main))
