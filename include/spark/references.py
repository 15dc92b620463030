"""The reference files (sensorvendor.csv, sensormaint.csv) as Spark tables, checked whole first
(include/spark/reference_files.py), with the digest that says which files a joined row was made with.
Shared by the enrichment and the incidents jobs."""

from __future__ import annotations

import hashlib

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession

from include.schemas import MAINT, VENDOR, spark_schema
from include.spark import reference_files
from include.spark.spark_runtime import read_file


class MissingReferenceFile(Exception):
    pass


def file_bytes(spark: SparkSession, path: str) -> tuple[str, bytes]:
    """(its full path, its bytes) of a file; a missing one is an error that names it (never an
    enrichment with nulls)."""
    try:
        full_path, _, content = read_file(spark, path)
    except AnalysisException as error:
        if error.getCondition() != "PATH_NOT_FOUND":
            raise
        raise MissingReferenceFile(
            f"reference file missing: {path}. Stage it (airflow dags test oil_stage) and rerun: "
            "no alert has been consumed, the next run enriches them all."
        ) from None
    return full_path, content


def read_references(spark: SparkSession, vendor: str, maint: str) -> tuple[DataFrame, DataFrame, str]:
    """The vendor and maintenance tables, checked line by line, and the digest of the two files' bytes
    (reference_version: which files an enriched row was joined with)."""
    (vendor_path, vendor_bytes), (maint_path, maint_bytes) = file_bytes(spark, vendor), file_bytes(spark, maint)
    vendor_rows = reference_files.check(vendor, vendor_bytes, VENDOR, one_line_per_pump=True)
    maint_rows = reference_files.check(maint, maint_bytes, MAINT)
    digests = sorted([(vendor_path, vendor_bytes), (maint_path, maint_bytes)])
    version = hashlib.sha256("".join(hashlib.sha256(b).hexdigest() for _, b in digests).encode()).hexdigest()[:16]
    return (
        spark.createDataFrame(vendor_rows, spark_schema(VENDOR)),
        spark.createDataFrame(maint_rows, spark_schema(MAINT)),
        version,
    )
