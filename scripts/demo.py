"""The whole pipeline, run through Airflow's own machinery (`airflow dags test`, SQLite metadata).

stage -> every slice dropped, the streaming DAG after each drop -> daily statistics for every
day in the data -> a report of the outputs. Inputs: OIL_DATA_DIR (default: the generated sample);
storage: OIL_STORAGE_ROOT (default: var/storage). `make demo` runs it.

    PYTHONPATH=. .venv/bin/python scripts/demo.py [--slice-minutes 1440] [--days 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import datetime

from devstack.local_airflow import BIN_DIR, airflow, airflow_env, dags_test
from devstack.settings import AIRFLOW_HOME
from include import settings
from include.replay import slicing
from include.replay.sample_data import ensure_data_dir

LOG = AIRFLOW_HOME / "demo.log"


def step(title: str, action) -> None:
    started = time.monotonic()
    print(f"-> {title} ...", flush=True)
    action()
    print(f"   done in {time.monotonic() - started:.1f} s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--slice-minutes",
        type=int,
        default=1440,
        help="sensor time per dropped file (default: one day, so one drop per day)",
    )
    parser.add_argument(
        "--days",
        type=int,
        default=None,
        help="daily statistics of the first DAYS days of the data only (default: every day)",
    )
    args = parser.parse_args()
    data_dir = ensure_data_dir()
    env = airflow_env()
    lines = slicing.split_lines((data_dir / settings.SENSOR_FILE).read_bytes())
    plan = slicing.plan(lines, args.slice_minutes)
    days = sorted({t.date() for t in map(slicing.event_time, lines) if t is not None})
    print(f"data: {data_dir} ({len(lines)} sensor lines, {len(days)} days, {plan.count} slices)")
    print(f"storage root: {settings.STORAGE_ROOT}; Airflow home: {AIRFLOW_HOME}; log: {LOG}")
    started = time.monotonic()

    step("airflow db migrate (SQLite)", lambda: airflow(["db", "migrate"], env, LOG))
    step("oil_stage", lambda: dags_test("oil_stage", env, log=LOG))
    for index in range(plan.count):
        step(
            f"oil_file_drop slice {index}",
            lambda i=index: dags_test(
                "oil_file_drop", env, conf={"slice_index": i, "slice_minutes": args.slice_minutes}, log=LOG
            ),
        )
        step("oil_streaming (alerts, enrichment)", lambda: dags_test("oil_streaming", env, log=LOG))
    for day in days[: args.days]:
        step(
            f"oil_daily_stats {day}",
            lambda d=day: dags_test("oil_daily_stats", env, logical_date=d.isoformat(), log=LOG),
        )

    print(f"pipeline done in {time.monotonic() - started:.0f} s at {datetime.now():%H:%M:%S}; report:", flush=True)
    report = [
        str(BIN_DIR / "spark-submit"),
        # Delta's jars on the driver's class path: given to the session builder, they come too late.
        "--jars",
        settings.DELTA_JARS,
        str(settings.PROJECT_DIR / "spark_jobs" / "report.py"),
        "--root",
        settings.STORAGE_ROOT,
    ]
    return subprocess.run(report, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
