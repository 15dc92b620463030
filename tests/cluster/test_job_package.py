"""include/airflow/job_package.py: the --py-files zip carries every module a job imports, nothing else is
needed, and nothing only Airflow imports travels."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

from include import settings
from include.airflow import job_package


def test_the_zip_holds_what_jobs_import_and_is_built_once(tmp_path):
    first = job_package.build(tmp_path)
    assert job_package.build(tmp_path) == first  # same sources, same name: not rebuilt
    names = sorted(zipfile.ZipFile(first).namelist())
    expected = sorted(
        ["include/__init__.py", "include/settings.py", "include/schemas.py", "include/contract.py"]
        + [
            path.relative_to(settings.PROJECT_DIR).as_posix()
            for package in ("include/spark", "spark_jobs")
            for path in (settings.PROJECT_DIR / package).glob("*.py")
        ]
    )
    assert names == expected
    assert "include/spark/readings.py" in names and "spark_jobs/alerts.py" in names
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no partial file left behind


def test_the_zip_holds_no_airflow_only_module(tmp_path):
    """The DAGs' modules, the replay, the storage seam, the monitor and the dev tooling stay out."""
    names = zipfile.ZipFile(job_package.build(tmp_path)).namelist()
    airflow_only = (
        "include/airflow/",
        "include/replay/",
        "include/storage/",
        "include/monitor/",
        "include/local_airflow",
    )
    assert not [name for name in names if name.startswith(airflow_only)]
    assert all(name.startswith(("include/", "spark_jobs/")) for name in names)


def test_every_job_imports_from_the_zip_alone(tmp_path):
    """As on an executor host: no checkout, only the zip on the Python path (and PySpark installed)."""
    package = job_package.build(tmp_path / "zip")
    jobs = sorted(path.stem for path in (settings.PROJECT_DIR / "spark_jobs").glob("*.py") if path.stem != "__init__")
    code = (
        "import importlib, sys\n"
        f"for job in {jobs!r}: importlib.import_module('spark_jobs.' + job)\n"
        "ours = [m for n, m in sys.modules.items() if n.split('.')[0] in ('include', 'spark_jobs')]\n"
        "print(sorted({m.__file__.split('.zip')[0] for m in ours}))\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PYTHONPATH"] = str(package)
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == repr([str(package.with_suffix(""))])  # every module came from the zip
