"""Every setting of the pipeline (DAGs, Spark jobs, the plugin), read once from the environment.

They, the scripts and the tests import from here; nothing else reads ``os.environ`` for pipeline
settings. The dev stack's own settings (local HDFS, Spark cluster, Airflow stack) are in
devstack/settings.py, which takes what it shares from here. ``.env.example`` documents each variable.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

PROJECT_DIR = Path(__file__).resolve().parents[1]
VAR_DIR = PROJECT_DIR / "var"  # git-ignored: sample data, local storage, Airflow home

# Folder holding sensordata.csv, sensorvendor.csv and sensormaint.csv.
# Default: the sample the project generates itself (include/replay/sample_data.py).
SAMPLE_DATA_DIR = VAR_DIR / "sample"
DATA_DIR = Path(os.getenv("OIL_DATA_DIR") or SAMPLE_DATA_DIR).expanduser().resolve()


# Root under which everything is stored: a local folder, file:///..., or hdfs://host:8020/...
def _as_root(value: str) -> str:
    """A URI as given; a plain folder (relative to where you run) as an absolute file:// URI."""
    return value if "://" in value else Path(value).expanduser().resolve().as_uri()


def uri_scheme(uri: str) -> str:
    """Where a root or path lives: "file" (file:///... or a plain path), "hdfs" (hdfs://...), or another scheme."""
    return urlparse(uri).scheme or "file"


def local_path(uri: str) -> Path:
    """The local path of a file:// URI (%-decoded) or of a plain path."""
    from urllib.request import url2pathname  # on use only: urllib.request is heavy for DAG parsing

    parsed = urlparse(uri)
    return Path(url2pathname(parsed.path) if parsed.scheme == "file" else uri)


STORAGE_ROOT = _as_root(os.getenv("OIL_STORAGE_ROOT") or str(VAR_DIR / "storage")).rstrip("/")

# Storage root whose outputs the pump monitor (plugins/pump_monitor.py) shows. Default: STORAGE_ROOT.
MONITOR_ROOT = _as_root(os.getenv("OIL_MONITOR_ROOT") or STORAGE_ROOT).rstrip("/")

# Alert rule of the lecture: a reading whose psi is below this is a low-pressure alert.
ALERT_PSI_THRESHOLD = float(os.getenv("OIL_ALERT_PSI_THRESHOLD", "0.5"))

# Incidents (spark_jobs/incidents.py): a pump's incident opens at its first reading below the threshold and
# resolves once the pump has read at or above it for this many minutes of event time, without a low reading.
INCIDENT_CLEAR_MINUTES = float(os.getenv("OIL_INCIDENT_CLEAR_MINUTES", "15"))
# The streaming DAG's notify task mails one message per incident opened and per incident resolved, through
# this Airflow connection (conn_type smtp; e.g. AIRFLOW_CONN_SMTP_DEFAULT), to these addresses (comma-separated).
SMTP_CONN_ID = os.getenv("OIL_SMTP_CONN_ID", "smtp_default")
INCIDENT_MAIL_TO = os.getenv("OIL_INCIDENT_MAIL_TO", "oil-operators@localhost")

# The file-drop DAG replays the sensor file: run k drops the readings of sensor-time slice k,
# [first day 00:00 + k * SLICE_MINUTES, + SLICE_MINUTES). Run k is the run whose logical date is
# REPLAY_START + k * DROP_EVERY_MINUTES, so re-running a run drops the same slice again.
SLICE_MINUTES = int(os.getenv("OIL_SLICE_MINUTES", "360"))
DROP_EVERY_MINUTES = int(os.getenv("OIL_DROP_EVERY_MINUTES", "10"))
REPLAY_START = os.getenv("OIL_REPLAY_START", "2026-11-01T00:00:00+00:00")
# The Airflow Variable that `make airflow-trigger` sets to when it starts the replay; it wins over REPLAY_START.
REPLAY_START_VARIABLE = "oil_replay_start"

# A daily-statistics run waits for its day to land (dags/oil_daily_stats.py): a look every this many
# seconds, for at most this many hours, then it fails.
DAY_WAIT_POKE_SECONDS = float(os.getenv("OIL_DAY_WAIT_POKE_SECONDS", "60"))
DAY_WAIT_HOURS = float(os.getenv("OIL_DAY_WAIT_HOURS", "24"))

# The streaming DAG runs on every file drop, and on this cron as a safety net.
STREAM_CRON = os.getenv("OIL_STREAM_CRON", "0 * * * *")

# A streaming run waits this long for its checkpoint's lock while another run holds it, then fails
# (include/spark/checkpoint_lock.py); under Airflow the task is then retried.
CHECKPOINT_LOCK_WAIT_SECONDS = float(os.getenv("OIL_CHECKPOINT_LOCK_WAIT_SECONDS", "120"))

# Airflow connection that names the Spark master (conn_type spark; host local[*], spark://..., yarn).
SPARK_CONN_ID = os.getenv("OIL_SPARK_CONN_ID", "spark_default")

# Python of the Spark executors: on a cluster, the interpreter path on the worker hosts.
SPARK_PYTHON = os.getenv("OIL_SPARK_PYTHON") or sys.executable

# Delta Lake's jars, fetched once by `make setup` from conf/delta/pom.xml. Every table under
# <root>/output/ is a Delta table; spark-submit ships the jars to a cluster's executors.
DELTA_JARS_DIR = VAR_DIR / "delta" / "lib"
DELTA_JARS = ",".join(str(path) for path in sorted(DELTA_JARS_DIR.glob("*.jar")))

# VACUUM (dags/oil_table_maintenance.py) removes files no table version younger than this refers to.
# Delta's own default is 7 days: a reader or a time-travel query older than this may fail.
VACUUM_RETAIN_HOURS = float(os.getenv("OIL_VACUUM_RETAIN_HOURS", "168"))

# Spark settings for a small machine: few shuffle partitions, no Spark UI on Airflow's port.
# The executor resources count on a cluster (spark://, yarn, k8s://) and are ignored by local[N].
SPARK_CONF = {
    "spark.sql.shuffle.partitions": os.getenv("OIL_SPARK_SHUFFLE_PARTITIONS", "4"),
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": os.getenv("OIL_SPARK_UI", "false"),
    "spark.ui.showConsoleProgress": "false",
    # Plans of the jobs' MERGEs are long: Spark warns when it cuts their text (debug output only).
    "spark.sql.debug.maxToStringFields": "200",
    "spark.driver.memory": os.getenv("OIL_SPARK_DRIVER_MEMORY", "2g"),
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    # Delta's jars, shipped to a cluster's executors, when this module sees them. Inside the job's zip
    # (--py-files) it does not: the session must then keep the jars spark-submit was given, not set none
    # (executors without Delta fail on its UDFs: ClassCastException on SerializedLambda).
    **({"spark.jars": DELTA_JARS} if DELTA_JARS else {}),
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    # MERGE and the log's checkpoints are small here: Delta's defaults assume a large cluster.
    "spark.databricks.delta.snapshotPartitions": "2",
    # Folder listings (VACUUM's above all) in a few tasks, not Spark's 10,000: 100 s -> seconds a table here.
    "spark.sql.sources.parallelPartitionDiscovery.parallelism": os.getenv("OIL_SPARK_LISTING_PARALLELISM", "8"),
    # A VACUUM retention below Delta's 7 days is the operator's choice (OIL_VACUUM_RETAIN_HOURS).
    "spark.databricks.delta.retentionDurationCheck.enabled": "false",
    # Keep every micro-batch's progress of a run, for the job summaries.
    "spark.sql.streaming.numRecentProgressUpdates": "100000",
    # Checkpoint offsets and commits of 20 batches, not 100: recovery needs the last one (BENCHMARKS.md).
    "spark.sql.streaming.minBatchesToRetain": os.getenv("OIL_SPARK_MIN_BATCHES_TO_RETAIN", "20"),
    # An HDFS client that outlives a NameNode restart retries instead of failing on a dead connection.
    "spark.hadoop.dfs.client.retry.policy.enabled": "true",
    "spark.executor.memory": os.getenv("OIL_SPARK_EXECUTOR_MEMORY", "768m"),
    "spark.executor.cores": os.getenv("OIL_SPARK_EXECUTOR_CORES", "1"),
    # Cores of the whole application on a standalone cluster (YARN and Kubernetes count executors).
    "spark.cores.max": os.getenv("OIL_SPARK_CORES_MAX", "2"),
    # Any other Spark property, as a JSON object (e.g. spark.kubernetes.container.image on Kubernetes).
    **json.loads(os.getenv("OIL_SPARK_CONF") or "{}"),
}
# JVM options of the driver of each spark-submit. A streaming run or a day of this data set lasts
# seconds: the JIT's first tier only starts it 20% sooner, but costs 40% on a 100x batch
# (BENCHMARKS.md). Set it to "" for large batches.
SPARK_DRIVER_JAVA_OPTIONS = os.getenv("OIL_SPARK_DRIVER_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1")
# The same for a cluster's executors, fresh JVMs for each application: a day's statistics on two
# workers took 49 s instead of 67 s (BENCHMARKS.md). Local mode has no executor JVM.
SPARK_EXECUTOR_JAVA_OPTIONS = os.getenv("OIL_SPARK_EXECUTOR_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1")
# Spark reads its logging set-up (log4j2.properties) from here: warnings only.
SPARK_CONF_DIR = PROJECT_DIR / "conf" / "spark"
SPARK_LOG_CONFIG = SPARK_CONF_DIR / "log4j2.properties"
# The class-data archive of the drivers (AppCDS, devstack/class_archive.py, made by `make setup`): a job's JVM
# maps the classes of Spark and Delta from it instead of loading them from the jars, 30% less CPU for a
# streaming run (BENCHMARKS.md). Only for a driver class path with no file in its folders: a driver's
# SPARK_CONF_DIR (on that class path) is the empty folder below, and its logging set-up a JVM option.
SPARK_CLASS_ARCHIVE = VAR_DIR / "class-archive" / "spark-driver.jsa"
SPARK_DRIVER_CONF_DIR = VAR_DIR / "class-archive" / "empty-conf"


def driver_class_options() -> str:
    """The driver JVM's logging set-up, and the class-data archive where `make setup` made it."""
    archive = [f"-XX:SharedArchiveFile={SPARK_CLASS_ARCHIVE}"] if SPARK_CLASS_ARCHIVE.is_file() else []
    return " ".join([f"-Dlog4j2.configurationFile={SPARK_LOG_CONFIG}", *archive])


# What SparkSubmitOperator passes as --conf (an OIL_SPARK_CONF JVM option wins).
SPARK_SUBMIT_CONF = {
    "spark.driver.extraJavaOptions": f"{driver_class_options()} {SPARK_DRIVER_JAVA_OPTIONS}".strip(),
    **({"spark.executor.extraJavaOptions": SPARK_EXECUTOR_JAVA_OPTIONS} if SPARK_EXECUTOR_JAVA_OPTIONS else {}),
    **SPARK_CONF,
}

# File names of the inputs, as in the lecture.
SENSOR_FILE = "sensordata.csv"
VENDOR_FILE = "sensorvendor.csv"
MAINT_FILE = "sensormaint.csv"
INPUT_FILES = (SENSOR_FILE, VENDOR_FILE, MAINT_FILE)


class Layout:
    """Where each dataset lives under a storage root (the lecture's /sparkdata/oil layout)."""

    def __init__(self, root: str = STORAGE_ROOT) -> None:
        self.root = root.rstrip("/")

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    @property
    def sensor_source(self) -> str:
        """The staged sensor file that the file-drop DAG slices."""
        return self.path(SENSOR_FILE)

    @property
    def info(self) -> str:
        return self.path("info")

    @property
    def vendor(self) -> str:
        return self.path("info", VENDOR_FILE)

    @property
    def maint(self) -> str:
        return self.path("info", MAINT_FILE)

    @property
    def stream(self) -> str:
        """Landing directory that the streaming jobs read."""
        return self.path("stream")

    def checkpoint(self, query: str) -> str:
        return self.path("checkpoints", query)

    def output(self, dataset: str) -> str:
        return self.path("output", dataset)
