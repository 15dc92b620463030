"""The class-data archive of the Spark drivers (the JVM's AppCDS), made by `make setup`.

A spark-submit spends most of a short run loading and verifying the classes of Spark, Delta and their
libraries from jars. Mapped from an archive instead, a streaming run of the data set takes 30% less CPU
(BENCHMARKS.md). The archive is this machine's: it is recorded by one JVM that runs the alert, enrichment
and daily-statistics jobs on the generated sample, and it holds only for the same Java, the same Spark jars
and a driver class path with no file in its folders (settings.SPARK_DRIVER_CONF_DIR). A JVM that cannot use
it (another Java, a changed class path, no archive) loads the classes from the jars as before, silently.

    python -m devstack.class_archive      # (re)makes it when Java, Spark or Delta changed; else says so
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from devstack import process
from include import settings

ARCHIVE = settings.SPARK_CLASS_ARCHIVE
KEY_FILE = ARCHIVE.with_suffix(".key")


def say(message: str) -> None:
    print(f"[class archive] {message}", flush=True)


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def key() -> str:
    """What the archive depends on: the Java build, Spark's and Delta's jars, the driver's options."""
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=True).stderr
    jars = sorted(p.name for p in (spark_home() / "jars").glob("*.jar")) + settings.DELTA_JARS.split(",")
    parts = [java, *jars, settings.SPARK_DRIVER_JAVA_OPTIONS, str(settings.SPARK_DRIVER_CONF_DIR)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def exercise(root: Path) -> None:
    """What the archive records: the streaming jobs and a day's statistics, in this JVM (run by spark-submit)."""
    from include.replay.file_drop import drop
    from include.replay.sample_data import generate
    from spark_jobs import alerts, daily_stats, enrich_alerts

    layout = settings.Layout(root.as_uri())
    info = generate(root / "info")  # the sample, staged: the reference files in info/, the sensor file at the root
    (info / settings.SENSOR_FILE).rename(root / settings.SENSOR_FILE)
    drop(layout, 0, 1440)
    outputs = ["--output", layout.output("alerts"), "--quarantine", layout.output("quarantine")]
    assert alerts.main(["--source", layout.stream, *outputs, "--checkpoints", layout.path("checkpoints")]) == 0
    enrich = ["--alerts", layout.output("alerts"), "--vendor", layout.vendor, "--maint", layout.maint]
    enrich += ["--output", layout.output("alerts_enriched"), "--checkpoint", layout.checkpoint("alerts_enriched")]
    assert enrich_alerts.main(enrich) == 0
    day = ["--readings", layout.output("readings"), "--output", layout.output("daily_stats"), "--day", "2014-03-10"]
    assert daily_stats.main(day) == 0


def make() -> int:
    """Makes the archive unless it is up to date; one at a time (a second waits, then finds it made)."""
    with process.locked(ARCHIVE.parent):
        return _make()


def _make() -> int:
    wanted = key()
    if ARCHIVE.is_file() and KEY_FILE.is_file() and KEY_FILE.read_text() == wanted:
        say(f"up to date: {ARCHIVE}")
        return 0
    say(f"recording the classes of a streaming run into {ARCHIVE} (once, about a minute)")
    started = time.monotonic()
    ARCHIVE.parent.mkdir(parents=True, exist_ok=True)
    settings.SPARK_DRIVER_CONF_DIR.mkdir(parents=True, exist_ok=True)
    partial = ARCHIVE.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    options = f"-Dlog4j2.configurationFile={settings.SPARK_LOG_CONFIG} {settings.SPARK_DRIVER_JAVA_OPTIONS}"
    options += f" -XX:ArchiveClassesAtExit={partial} -Xlog:cds=off"  # no warning about the classes it skips
    conf = {**settings.SPARK_SUBMIT_CONF, "spark.driver.extraJavaOptions": options}
    with tempfile.TemporaryDirectory(prefix="oil-class-archive-") as folder:
        command = [str(Path(sys.executable).parent / "spark-submit"), "--master", "local[2]"]
        command += [arg for name, value in conf.items() for arg in ("--conf", f"{name}={value}")]
        command += [__file__, "--exercise", folder]
        env = {
            **os.environ,
            "SPARK_HOME": str(spark_home()),
            "PYSPARK_PYTHON": sys.executable,
            "PYTHONPATH": str(settings.PROJECT_DIR),
            "SPARK_CONF_DIR": str(settings.SPARK_DRIVER_CONF_DIR),
        }
        run = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0 or not partial.is_file():
        # Not fatal: every job runs without the archive, only slower to start.
        say(f"not made (spark-submit exited {run.returncode}); jobs load their classes from the jars. Its output:")
        print((run.stdout + run.stderr)[-4000:], file=sys.stderr)
        return 0
    partial.replace(ARCHIVE)
    KEY_FILE.write_text(wanted)
    size = ARCHIVE.stat().st_size / 2**20
    say(f"made in {time.monotonic() - started:.0f} s: {ARCHIVE} ({size:.0f} MB)")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--exercise"]:
        exercise(Path(sys.argv[2]))
    else:
        sys.exit(make())
