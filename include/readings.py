"""Reading sensor CSV with Spark, and the split between valid readings and quarantined lines.

Shared by the alert job (streaming) and the daily-statistics job (batch), so both agree on
which lines are readings. Only Spark jobs and tests import this module (it imports pyspark).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from include.schemas import CORRUPT_RECORD, DATE_FORMAT, SENSOR, SENSOR_COLUMNS, SENSOR_MEASURES, ddl

SOURCE_FILE = "source_file"
RAW_LINE = "raw_line"
QUARANTINE_COLUMNS = (RAW_LINE, SOURCE_FILE, "reason")

# PERMISSIVE keeps a malformed line whole in CORRUPT_RECORD instead of failing or dropping it.
CSV_OPTIONS = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_RECORD}
# Sensor files end in .csv. Anything else in the landing directory (a copy in progress such as
# x.csv.tmp or x.csv.part, notes) is not read; Spark itself skips names starting with . or _
# and ending with ._COPYING_ (hdfs dfs -put).
SENSOR_FILE_GLOB = "*.csv"
# Spark's text source decodes UTF-8 and puts this replacement character where bytes are invalid.
REPLACEMENT_CHARACTER = "\ufffd"
# A header line: its first field is the first column's name.
HEADER_LINE = rf'(?i)^\s*"?{SENSOR_COLUMNS[0]}"?\s*,'


def parse_lines(lines: DataFrame) -> DataFrame:
    """Text lines (column ``value``, from the text source) to the sensor columns, keeping the raw
    line and its file: every line stays accountable, whatever parsing makes of it."""
    raw = F.regexp_replace(F.col("value"), "^\ufeff", "")  # a byte-order mark is not data
    parsed = F.from_csv(raw, ddl(SENSOR, with_corrupt_record=True), CSV_OPTIONS)
    return lines.select(raw.alias(RAW_LINE), F.col("_metadata.file_path").alias(SOURCE_FILE), parsed.alias("r")).select(
        RAW_LINE, SOURCE_FILE, "r.*"
    )


def read_sensor_csv(spark: SparkSession, path: str) -> DataFrame:
    """Batch read of sensor CSV files, every line kept."""
    return parse_lines(spark.read.option("pathGlobFilter", SENSOR_FILE_GLOB).text(path))


def read_sensor_stream(spark: SparkSession, path: str, max_files_per_trigger: int | None = None) -> DataFrame:
    """Streaming read of the landing directory, every line kept."""
    reader = spark.readStream.option("pathGlobFilter", SENSOR_FILE_GLOB)
    if max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", max_files_per_trigger)
    return parse_lines(reader.text(path))


def _missing_columns() -> Column:
    """Comma list of the sensor columns without a value, '' when all are there."""
    return F.concat_ws(",", *[F.when(F.col(c).isNull(), F.lit(c)) for c in SENSOR_COLUMNS])


def _not_finite_columns() -> Column:
    """Comma list of the measures that are NaN or infinite (Spark parses "NaN", "Infinity"): a
    reading of that kind would turn every statistic of its pump and day into NaN."""
    infinity = F.lit(float("inf"))
    return F.concat_ws(",", *[F.when(F.isnan(c) | (F.abs(F.col(c)) == infinity), F.lit(c)) for c in SENSOR_MEASURES])


def _is_valid() -> Column:
    return (
        F.col(CORRUPT_RECORD).isNull()
        & (_missing_columns() == "")
        & (_not_finite_columns() == "")
        # invalid UTF-8 may sit in a text column, where parsing alone would let it through
        & ~F.col(RAW_LINE).contains(REPLACEMENT_CHARACTER)
    )


def valid_readings(df: DataFrame) -> DataFrame:
    """Lines that are whole readings: every column present and of its type."""
    return df.where(_is_valid()).select(*SENSOR_COLUMNS)


def quarantine_records(df: DataFrame) -> DataFrame:
    """Every other line, with the raw text, the file it came from and why it was set aside."""
    raw = F.col(RAW_LINE)
    fields = F.size(F.split(raw, ",", -1))
    quotes = F.length(raw) - F.length(F.regexp_replace(raw, '"', ""))
    reason = (
        F.when(F.trim(raw) == "", F.lit("blank line"))
        .when(raw.contains(REPLACEMENT_CHARACTER), F.lit("not valid UTF-8"))
        .when(raw.rlike(HEADER_LINE), F.lit("header line"))
        .when(quotes % 2 == 1, F.lit("stray quote"))
        .when(fields != len(SENSOR), F.format_string(f"has %d fields, expected {len(SENSOR)}", fields))
        .when(F.col(CORRUPT_RECORD).isNotNull(), F.lit("a value is not of its column's type"))
        .when(_not_finite_columns() != "", F.concat(F.lit("not a finite number in "), _not_finite_columns()))
        .otherwise(F.concat(F.lit("missing value in "), _missing_columns()))
    )
    return df.where(~_is_valid()).select(RAW_LINE, SOURCE_FILE, reason.alias("reason"))


def event_day(date_column: str = "date") -> Column:
    return F.to_date(F.col(date_column), DATE_FORMAT)
