"""The one definition of the three inputs, with the lecture's column names, and of their date format.

Column lists and dates are plain Python so DAGs, the replay, the monitor, scripts and tests can use
them without importing pyspark; ``spark_schema`` builds the Spark schema on demand (only Spark jobs
call it). The Spark jobs import it from the job zip, beside include/settings.py.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql.types import StructType

# (name, type) with type one of "string", "double", "long" or "timestamp".
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

# The files' dates: month/day/two-digit year, no leading zeros (3/10/14); times hour:minute (1:01).
# Spark's formats for the date and time columns, the C library's (strptime, DuckDB) for the date, and
# parse_date, reading_time and format_date below for Python.
DATE_FORMAT = "M/d/yy"
TIMESTAMP_FORMAT = "M/d/yy H:mm"
DATE_STRPTIME = "%m/%d/%y"

# Column that keeps a malformed CSV line whole (CSV option columnNameOfCorruptRecord).
CORRUPT_RECORD = "_corrupt_record"


def parse_date(text: str) -> date:
    """A M/D/YY date (3/10/14); a two-digit year is 20YY, as Spark reads it. ValueError if it is none."""
    month, day, year = (int(part) for part in text.split("/"))
    return date(2000 + year if year < 100 else year, month, day)


def reading_time(date_text: str, time_text: str) -> datetime:
    """A reading's date (M/D/YY) and time (H:MM) as one naive datetime. ValueError if they are none."""
    day = parse_date(date_text)
    hour, minute = (int(part) for part in time_text.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute)


def format_date(day: date) -> str:
    """A date as the files write it: 3/10/14."""
    return f"{day.month}/{day.day}/{day:%y}"


def ddl(columns: tuple[tuple[str, str], ...], with_corrupt_record: bool = False) -> str:
    """The schema as Spark DDL ("resid string, ..."), as from_csv takes it."""
    fields = [*columns, (CORRUPT_RECORD, "string")] if with_corrupt_record else columns
    return ", ".join(f"{name} {kind}" for name, kind in fields)


def spark_schema(columns: tuple[tuple[str, str], ...], with_corrupt_record: bool = False) -> StructType:
    from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType, TimestampType

    types = {"string": StringType(), "double": DoubleType(), "long": LongType(), "timestamp": TimestampType()}
    fields = [StructField(name, types[kind], nullable=True) for name, kind in columns]
    if with_corrupt_record:
        fields.append(StructField(CORRUPT_RECORD, StringType(), nullable=True))
    return StructType(fields)


# The incidents table (output/incidents, spark_jobs/incidents.py): one row per incident of a pump, keyed
# by incident_id (the pump and the opening time: NANTAHALLA@2014-03-13T02:05). Times are the readings'
# event times (date and time of the file, as UTC timestamps); updated_at is when the row was last written.
INCIDENT = (
    ("incident_id", "string"),
    ("resid", "string"),
    ("opened_at", "timestamp"),
    ("resolved_at", "timestamp"),  # null while the incident is open
    ("low_readings", "long"),  # readings below the threshold
    ("min_psi", "double"),
    ("last_reading_at", "timestamp"),  # the newest reading of the pump applied to the incident
    ("updated_at", "timestamp"),
    ("pumpType", "string"),  # from sensorvendor.csv
    ("vendor", "string"),
    ("maintenance_date", "string"),  # the latest maintenance event on or before the opening day (sensormaint.csv)
    ("technician", "string"),
    ("maintenance", "string"),  # its description
    ("reference_version", "string"),  # digest of the reference files the row was joined with
)
INCIDENT_COLUMNS = tuple(name for name, _ in INCIDENT)


def incident_id(resid: str, opened_at: datetime) -> str:
    """An incident's key: its pump and opening minute."""
    return f"{resid}@{opened_at:%Y-%m-%dT%H:%M}"
