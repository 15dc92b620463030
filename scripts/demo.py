"""The whole pipeline, run through Airflow's own machinery (`airflow dags test`, SQLite metadata).

stage -> every slice dropped, the streaming DAG after each drop -> daily statistics for every
day in the data -> a report of the outputs -> a summary: rows per table, where they are, the log, what
to run next. Inputs: OIL_DATA_DIR (default: the generated sample); storage: OIL_STORAGE_ROOT (default:
var/storage). `make demo` runs it. A failure's first line names the step and the log.

    PYTHONPATH=. .venv/bin/python scripts/demo.py [--slice-minutes 1440] [--days 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import datetime
from pathlib import Path

from devstack.local_airflow import BIN_DIR, AirflowCommandFailed, airflow, airflow_env, dags_test, is_launcher_noise
from devstack.settings import AIRFLOW_HOME, LOCAL_SPARK_IP
from include import settings
from include.replay import slicing
from include.replay.sample_data import ensure_data_dir
from include.settings import Layout

LOG = AIRFLOW_HOME / "demo.log"
NEXT_STEPS = (
    ("make report", "the report again"),
    ("make airflow-up REPLAY=fast", 'then make airflow-trigger: a live replay, web UI (README: "Airflow for real")'),
    ("make mail-up", 'a local mail server for the incident messages (README: "Incident messages")'),
)


class StepFailed(Exception):
    """A step of the demo failed; the cause is the error."""

    def __init__(self, title: str) -> None:
        super().__init__(title)
        self.title = title


def step(title: str, action) -> None:
    started = time.monotonic()
    print(f"-> {title} ...", flush=True)
    try:
        action()
    except Exception as error:
        raise StepFailed(title) from error
    print(f"   done in {time.monotonic() - started:.1f} s", flush=True)


def failure_lines(title: str, error: BaseException, log: Path) -> list[str]:
    """What failed and where to look, in the first line; then the command's last output, or the traceback."""
    if isinstance(error, AirflowCommandFailed):
        return [
            f"demo failed at {title}: {error.failure}; whole output in {log}",
            "its last lines:",
            error.tail,
        ]
    headline = (str(error).splitlines() or [""])[0]
    trace = "".join(traceback.format_exception(error)).rstrip()
    return [f"demo failed at {title}: {type(error).__name__}: {headline}; log: {log}", trace]


def summary_lines(counts: dict[str, int | None], root: str, log: Path, seconds: float) -> list[str]:
    """The demo's last lines: rows per table (from the tables), where they are, the log, what to run next."""
    layout = Layout(root)
    rows = ", ".join(f"{name} {'-' if count is None else count}" for name, count in counts.items())
    command_width = max(len(command) for command, _ in NEXT_STEPS)
    next_steps = [f"{command.ljust(command_width)}  {why}" for command, why in NEXT_STEPS]
    labelled = [
        ("rows", rows),
        ("tables", f"{layout.path('output', '<table>')} (Delta)"),
        ("storage", f"{layout.root} (staged inputs; stream/: the dropped slices; checkpoints/)"),
        ("log", f"{log} (every Airflow run's output)"),
        ("next", next_steps[0]),
        *(("", line) for line in next_steps[1:]),
    ]
    minutes, rest = divmod(round(seconds), 60)
    return [f"demo done in {minutes} min {rest} s.", *(f"  {label:<8}{text}" for label, text in labelled)]


def run_showing_output(command: list[str], env: dict[str, str]) -> int:
    """Run a command with its output (stdout and stderr) shown as it comes, without the launcher's noise."""
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        for line in process.stdout:
            if not is_launcher_noise(line):
                print(line, end="", flush=True)
    return process.returncode


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
    print(f"storage root: {settings.STORAGE_ROOT}")
    print(f"log: {LOG} (each Airflow run's whole output; Airflow home: {AIRFLOW_HOME})")
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
        step("oil_streaming (alerts, enrichment, incidents, notify)", lambda: dags_test("oil_streaming", env, log=LOG))
    for day in days[: args.days]:
        step(
            f"oil_daily_stats {day}",
            # The day as the run's param, not its logical date: a run of that date would keep a later
            # `make airflow-backfill` in this home from running the day (it skips dates that have a run).
            lambda d=day: dags_test("oil_daily_stats", env, conf={"day": d.isoformat()}, log=LOG),
        )

    print(f"pipeline done in {time.monotonic() - started:.0f} s at {datetime.now():%H:%M:%S}; report:", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        counts_file = Path(folder) / "counts.json"
        report = [
            str(BIN_DIR / "spark-submit"),
            # Delta's jars on the driver's class path: given to the session builder, they come too late.
            "--jars",
            settings.DELTA_JARS,
            str(settings.PROJECT_DIR / "spark_jobs" / "report.py"),
            *("--root", settings.STORAGE_ROOT, "--counts", str(counts_file)),
        ]
        # The report runs locally whatever the DAGs' master: a driver on the loopback address.
        code = run_showing_output(report, {"SPARK_LOCAL_IP": LOCAL_SPARK_IP, **env})
        if code != 0:
            print(
                f"demo failed at the report (spark_jobs/report.py): exit code {code}; its output is above",
                file=sys.stderr,
            )
            return code
        counts = json.loads(counts_file.read_text())
    print("\n".join(summary_lines(counts, settings.STORAGE_ROOT, LOG, time.monotonic() - started)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except StepFailed as failure:
        print("\n".join(failure_lines(failure.title, failure.__cause__, LOG)), file=sys.stderr, flush=True)
        sys.exit(1)
    except Exception as error:  # before the first step: the data, the settings
        print("\n".join(failure_lines("the start", error, LOG)), file=sys.stderr, flush=True)
        sys.exit(1)
