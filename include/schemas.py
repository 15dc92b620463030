"""The one definition of the three inputs, with the lecture's column names.

Column lists are plain Python so DAGs and tests can use them without importing pyspark;
``spark_schema`` builds the Spark schema on demand (only Spark jobs call it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql.types import StructType

# (name, type) with type one of "string" or "double".
SENSOR = (
    ("resid", "string"),
    ("date", "string"),  # as in the file: 3/10/14
    ("time", "string"),  # as in the file: 1:01
    ("hz", "double"),
    ("disp", "double"),
    ("flow", "double"),
    ("sedPPM", "double"),
    ("psi", "double"),
    ("chlPPM", "double"),
)
VENDOR = (
    ("resid", "string"),
    ("pumpType", "string"),
    ("purchaseDate", "string"),
    ("serviceDate", "string"),
    ("vendor", "string"),
    ("longitude", "double"),
    ("latitude", "double"),
)
MAINT = (
    ("resid", "string"),
    ("eventDate", "string"),
    ("technician", "string"),
    ("description", "string"),
)

SENSOR_COLUMNS = tuple(name for name, _ in SENSOR)
SENSOR_MEASURES = tuple(name for name, kind in SENSOR if kind == "double")

# Spark's formats for the sensor file's date and time columns.
DATE_FORMAT = "M/d/yy"
TIMESTAMP_FORMAT = "M/d/yy H:mm"

# Column that keeps a malformed CSV line whole (CSV option columnNameOfCorruptRecord).
CORRUPT_RECORD = "_corrupt_record"


def ddl(columns: tuple[tuple[str, str], ...], with_corrupt_record: bool = False) -> str:
    """The schema as Spark DDL ("resid string, ..."), as from_csv takes it."""
    fields = [*columns, (CORRUPT_RECORD, "string")] if with_corrupt_record else columns
    return ", ".join(f"{name} {kind}" for name, kind in fields)


def spark_schema(columns: tuple[tuple[str, str], ...], with_corrupt_record: bool = False) -> StructType:
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    types = {"string": StringType(), "double": DoubleType()}
    fields = [StructField(name, types[kind], nullable=True) for name, kind in columns]
    if with_corrupt_record:
        fields.append(StructField(CORRUPT_RECORD, StringType(), nullable=True))
    return StructType(fields)
