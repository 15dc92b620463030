"""The modules the Spark jobs import, as one zip for `spark-submit --py-files`.

A job imports ``include.settings``, ``include.schemas``, ``include.contract``, ``include.spark.*`` and, for some,
``spark_jobs.*``; nothing else of the project (the Airflow, replay, storage and monitor modules
stay out). On a cluster the executors run on other hosts, where the checkout is not: the zip
travels with the application, and Spark puts it on the Python path of the driver and of every executor.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

from include import settings

# What the jobs import, relative to the project: single modules, and packages whose *.py all go.
MODULES = ("include/__init__.py", "include/settings.py", "include/schemas.py", "include/contract.py")
PACKAGES = ("include/spark", "spark_jobs")
# Fixed timestamps: the same sources always give the same bytes.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


def sources() -> list[Path]:
    packages = [path for package in PACKAGES for path in (settings.PROJECT_DIR / package).glob("*.py")]
    return sorted([settings.PROJECT_DIR / module for module in MODULES] + packages)


def build(directory: Path | None = None) -> Path:
    """The zip of the jobs' modules, named after its content; built once, written whole."""
    directory = directory or Path(tempfile.gettempdir()) / "oil-spark-jobs"
    files = {path.relative_to(settings.PROJECT_DIR).as_posix(): path.read_bytes() for path in sources()}
    digest = hashlib.sha256()
    for name, data in files.items():
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    target = directory / f"oil_jobs-{digest.hexdigest()[:16]}.zip"
    if target.is_file():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    # Two tasks may build the same zip at once: each writes its own file, the rename is atomic.
    partial = directory / f".{target.name}.{os.getpid()}"
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, ZIP_TIMESTAMP), data, zipfile.ZIP_DEFLATED)
    os.replace(partial, target)
    return target
