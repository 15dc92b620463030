"""Parse the DAG folder as Airflow does, validate the run confs given on stdin against each DAG's
Params, and print as JSON: each conf's error (None when accepted), each Param's schema, and the
arguments each Spark task hands its job. Runs in its own process (Airflow reads its configuration
at import): see test_params.py.
"""

from __future__ import annotations

import copy
import json
import sys

from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.exceptions import ParamValidationError

from include import settings


def refusal(params, conf: dict) -> str | None:
    """What Airflow says about this conf when a run is created (None: the run may start)."""
    merged = copy.deepcopy(params)
    try:
        for key, value in conf.items():
            merged[key] = value
        merged.validate()
    except ParamValidationError as error:
        return str(error)
    return None


bag = DagBag(dag_folder=str(settings.PROJECT_DIR / "dags"))
cases = json.load(sys.stdin)
print(
    json.dumps(
        {
            "refusals": [refusal(bag.dags[dag_id].params, conf) for dag_id, conf in cases],
            "schemas": {
                dag_id: {key: dag.params.get_param(key).schema for key in dag.params}
                for dag_id, dag in bag.dags.items()
            },
            "spark_args": {
                f"{dag_id}.{task.task_id}": [str(arg) for arg in task.application_args]
                for dag_id, dag in bag.dags.items()
                for task in dag.tasks
                if hasattr(task, "application_args")
            },
        }
    )
)
