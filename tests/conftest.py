"""Shared fixtures: the input data, one Spark session for all tests, one Airflow home per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from include import settings
from include.replay.sample_data import generate

REAL_DATA_DIR = settings.PROJECT_DIR.parent / "shared" / "data" / "mapr"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real MapR data set where it is (CI, developers), else the generated sample."""
    if (REAL_DATA_DIR / settings.SENSOR_FILE).is_file():
        return REAL_DATA_DIR
    return generate(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for every unit test; the jobs' main() reuses it (getOrCreate)."""
    from include.spark.spark_runtime import local_session

    session = local_session("oil-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def local_pipeline(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict:
    """`make demo`'s path on local storage, run once per session (the HDFS tests compare with it)."""
    from tests.pipeline_run import run_demo

    base = tmp_path_factory.mktemp("pipeline")
    return {**run_demo(base, data_dir, (base / "storage").as_uri()), "root": base / "storage"}
