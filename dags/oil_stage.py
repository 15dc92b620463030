"""
### Stage the oil-pump inputs

Puts the three input files of `OIL_DATA_DIR` under the storage root `OIL_STORAGE_ROOT`, in the
lecture's layout (`/sparkdata/oil` and `/sparkdata/oil/info`):

| file | goes to |
|---|---|
| `sensordata.csv` | `<root>/sensordata.csv` (what the file-drop DAG slices) |
| `sensorvendor.csv`, `sensormaint.csv` | `<root>/info/` (reference data of the enrichment) |

and creates `stream/`, `checkpoints/` and `output/`. When `OIL_DATA_DIR` is not set, the
project's generated sample is used (made on first use).

Idempotent: a file already there with the same content is left alone, so a re-run changes nothing.
Run by hand: `airflow dags test oil_stage`.
"""

from __future__ import annotations

from airflow.sdk import task

from include import settings
from include.airflow.assets import STAGED_INPUTS
from include.airflow.dag_defaults import pipeline_dag

DESTINATIONS = {
    settings.SENSOR_FILE: settings.Layout().sensor_source,
    settings.VENDOR_FILE: settings.Layout().vendor,
    settings.MAINT_FILE: settings.Layout().maint,
}


@pipeline_dag(
    "oil_stage",
    __doc__,
    tags=["staging"],
    schedule=None,
    max_active_runs=1,
)
def oil_stage():
    @task
    def create_layout() -> str:
        from include.replay.sample_data import ensure_data_dir
        from include.storage import storage_for

        data_dir = ensure_data_dir()
        layout = settings.Layout()
        storage = storage_for(layout.root)
        for folder in (layout.info, layout.stream, layout.path("checkpoints"), layout.path("output")):
            storage.makedirs(folder)
        return str(data_dir)

    @task(outlets=[STAGED_INPUTS])
    def stage_file(name: str, data_dir: str) -> str:
        from pathlib import Path

        from include.storage import put_if_changed, storage_for

        destination = DESTINATIONS[name]
        data = (Path(data_dir) / name).read_bytes()
        written = put_if_changed(storage_for(settings.STORAGE_ROOT), destination, data)
        message = f"{name}: {'written' if written else 'already there, unchanged'} at {destination} ({len(data)} bytes)"
        print(message)
        return message

    stage_file.partial(data_dir=create_layout()).expand(name=list(DESTINATIONS))


oil_stage()
