"""Every setting of the dev stack (local HDFS, Spark cluster, Airflow stack, local Airflow runs, mail), read once.

The pipeline's own settings (DAGs, Spark jobs, plugin) are include/settings.py's; this module takes
from there what the dev stack shares with the pipeline, never the reverse. Standard library only
(`make hdfs-up` runs before `make setup`). ``.env.example`` documents each variable.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from include.settings import PROJECT_DIR, SPARK_CONF_DIR, SPARK_PYTHON, VAR_DIR

__all__ = ["PROJECT_DIR", "SPARK_CONF_DIR", "SPARK_PYTHON", "VAR_DIR"]  # shared with the pipeline


def _folder(variable: str, default: Path) -> Path:
    value = os.getenv(variable)
    return Path(value).expanduser().resolve() if value else default


# --- the local HDFS of `make hdfs-up` (devstack/hdfs.py) -----------------------------------------------
# Configuration, name and data directories, pid files and logs of one HDFS.
HDFS_HOME = _folder("OIL_HDFS_HOME", VAR_DIR / "hdfs")
HDFS_HOST = "localhost"
# Added to every port (8020 RPC, 9870 WebHDFS, 9866/9864/9867 DataNode): a second HDFS beside the first.
HDFS_PORT_OFFSET = int(os.getenv("OIL_HDFS_PORT_OFFSET", "0"))
NAMENODE_RPC_PORT = 8020 + HDFS_PORT_OFFSET
NAMENODE_HTTP_PORT = 9870 + HDFS_PORT_OFFSET
DATANODE_DATA_PORT = 9866 + HDFS_PORT_OFFSET
DATANODE_HTTP_PORT = 9864 + HDFS_PORT_OFFSET
DATANODE_IPC_PORT = 9867 + HDFS_PORT_OFFSET
LOCAL_NAMENODE = f"hdfs://{HDFS_HOST}:{NAMENODE_RPC_PORT}"
LOCAL_WEBHDFS_PORT = NAMENODE_HTTP_PORT
LOCAL_WEBHDFS = f"http://{HDFS_HOST}:{NAMENODE_HTTP_PORT}"
HDFS_START_TIMEOUT = float(os.getenv("OIL_HDFS_START_TIMEOUT", "180"))
HDFS_STOP_TIMEOUT = float(os.getenv("OIL_HDFS_STOP_TIMEOUT", "30"))
HDFS_HEAP = os.getenv("OIL_HDFS_HEAP", "512m")
HDFS_USER = os.getenv("OIL_HDFS_USER") or getpass.getuser()
JAVA_HOME = os.getenv("JAVA_HOME")

# --- the Spark standalone cluster of `make spark-up` (devstack/spark_cluster.py) -----------------------
# A master and SPARK_WORKERS workers on this machine. Its web UI (and /json/) is off Airflow's 8080;
# worker i's UI is on the master's UI port + 1 + i. Pids, logs and the workers' work dirs under SPARK_CLUSTER_HOME.
SPARK_MASTER_HOST = os.getenv("OIL_SPARK_MASTER_HOST", "127.0.0.1")
SPARK_MASTER_PORT = int(os.getenv("OIL_SPARK_MASTER_PORT", "7077"))
SPARK_MASTER_WEBUI_PORT = int(os.getenv("OIL_SPARK_MASTER_WEBUI_PORT", "8081"))
SPARK_MASTER_URL = f"spark://{SPARK_MASTER_HOST}:{SPARK_MASTER_PORT}"
SPARK_WORKERS = int(os.getenv("OIL_SPARK_WORKERS", "2"))
SPARK_WORKER_CORES = int(os.getenv("OIL_SPARK_WORKER_CORES", "1"))
SPARK_WORKER_MEMORY = os.getenv("OIL_SPARK_WORKER_MEMORY", "1g")
SPARK_CLUSTER_HOME = _folder("OIL_SPARK_CLUSTER_HOME", VAR_DIR / "spark")

# --- the local SMTP server of `make mail-up` (devstack/mail_server.py) ----------------------------------
# Listens on the loopback address only: a development sink for Airflow's mail, never a relay.
MAIL_HOST = "127.0.0.1"
MAIL_PORT = int(os.getenv("OIL_MAIL_PORT", "8025"))
# Each received message as one .eml file; its pid file and log under run/ and logs/.
MAIL_HOME = _folder("OIL_MAIL_HOME", VAR_DIR / "mail")

# --- Airflow: the local runs (make demo, tests) and the stack of `make airflow-up` ----------------------
# Airflow home of the local runs and of the stack: SQLite metadata, logs.
AIRFLOW_HOME = _folder("OIL_AIRFLOW_HOME", VAR_DIR / "airflow")
# The stack's web UI and REST API (when unset: what the last `up` of the home used, else 8080 on 127.0.0.1).
AIRFLOW_PORT = int(os.getenv("OIL_AIRFLOW_PORT") or 0) or None
AIRFLOW_HOST = os.getenv("OIL_AIRFLOW_HOST") or None
# The stack's metadata database (unset: what the last `up` used, else SQLite in the home).
AIRFLOW_DATABASE = os.getenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN") or None
# The address of the Spark driver of the local runs (local[N] masters only; SPARK_LOCAL_IP, when unset).
LOCAL_SPARK_IP = "127.0.0.1"
# Start of the file-drop replay when set; unset, the stack keeps the time of its first start, and
# `make airflow-trigger` starts the replay when it unpauses it (the Variable oil_replay_start).
REPLAY_START = os.getenv("OIL_REPLAY_START") or None
# The stack's replay (make airflow-up / airflow-trigger REPLAY=...): unset, what the stack runs already.
# "fast": a day of sensor time a minute, the MapR data's first alerts within 5 minutes of the trigger;
# "default": OIL_SLICE_MINUTES of sensor time every OIL_DROP_EVERY_MINUTES (6 hours every 10 minutes).
REPLAY = os.getenv("OIL_REPLAY") or None
REPLAYS = {
    "default": {},
    "fast": {"OIL_SLICE_MINUTES": "1440", "OIL_DROP_EVERY_MINUTES": "1"},
}
# Where `make airflow-up` notes the home of the stack on each port, so later commands find it.
AIRFLOW_STACKS = VAR_DIR / "airflow-stacks"
