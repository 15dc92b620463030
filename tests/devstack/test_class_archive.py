"""The Spark drivers' class-data archive (devstack/class_archive.py, made by `make setup`): a DAG's spark-submit,
with the options and environment of its task, maps Spark's classes from it. A class path or option that stops
the JVM from using it would do so silently (only slower): this test is what notices."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from devstack.local_airflow import BIN_DIR
from include import settings
from include.airflow.spark_task import spark_job

APP = """
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
print("rows:", spark.range(1000).selectExpr("sum(id)").first()[0])
spark.stop()
"""


def test_a_dag_task_spark_submit_maps_sparks_classes_from_the_archive(tmp_path: Path):
    assert settings.SPARK_CLASS_ARCHIVE.is_file(), f"no {settings.SPARK_CLASS_ARCHIVE}: run `make setup`"
    task = spark_job("archive_check", "alerts", [])  # the options and environment of a DAG's Spark task
    loaded = tmp_path / "classes.log"
    conf = {**task.conf}
    conf["spark.driver.extraJavaOptions"] += f" -Xlog:class+load=info:file={loaded}"
    app = tmp_path / "app.py"
    app.write_text(APP)
    command = [str(BIN_DIR / "spark-submit"), "--master", "local[1]"]
    command += [arg for name, value in conf.items() for arg in ("--conf", f"{name}={value}")]
    run = subprocess.run(
        [*command, str(app)], env={**os.environ, **task.env_vars}, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0 and "rows: 499500" in run.stdout, run.stdout + run.stderr

    # Spark's classes that come from a file: the archive, or a jar (those generated at run time, lambdas and
    # proxies, name the class that made them as their source).
    lines = [line for line in loaded.read_text().splitlines() if " org.apache.spark." in line]
    sources = [line.rsplit(" source: ", 1)[1] for line in lines]
    from_archive = sum(source.startswith("shared objects file") for source in sources)
    from_jars = sum(source.startswith(("file:", "jar:")) for source in sources)
    assert from_archive > 4000, (from_archive, from_jars)
    assert from_jars < 0.05 * from_archive, (from_archive, from_jars)
