"""Parse the project's DAG folder as Airflow does and print what the tests check, as JSON.

Runs in its own process (Airflow reads its configuration at import): see test_dag_integrity.py.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from airflow.dag_processing.dagbag import DagBag

from include import settings

dags_folder = settings.PROJECT_DIR / "dags"
started = time.perf_counter()
bag = DagBag(dag_folder=str(dags_folder))
folder_seconds = time.perf_counter() - started
report = {
    "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "pyspark_imported": any(name == "pyspark" or name.startswith("pyspark.") for name in sys.modules),
    "folder_seconds": folder_seconds,
    "files": sorted(p.name for p in dags_folder.glob("*.py")),
    "dags": {
        dag_id: {
            "fileloc": Path(dag.fileloc).name,
            "tags": sorted(dag.tags),
            "doc_md": bool(dag.doc_md),
            "catchup": dag.catchup,
            "retries": {task.task_id: task.retries for task in dag.tasks},
            "start_date": dag.start_date.isoformat() if dag.start_date else None,
        }
        for dag_id, dag in bag.dags.items()
    },
}
print(json.dumps(report))
