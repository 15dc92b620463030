"""Reading sensor CSV with Spark, and the split between valid readings and quarantined lines.

Shared by the alert job (streaming) and the daily-statistics job (batch), so both agree on
which lines are readings. Only Spark jobs and tests import this module (it imports pyspark).
"""

from __future__ import annotations

import re
from functools import reduce
from operator import and_

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from include import contract
from include.schemas import (
    CORRUPT_RECORD,
    DATE_FORMAT,
    SENSOR,
    SENSOR_COLUMNS,
    SENSOR_MEASURES,
    TIMESTAMP_FORMAT,
    ddl,
)

SOURCE_FILE = "source_file"
FILE_TIME = "file_modification_time"
RAW_LINE = "raw_line"
# The line's bytes as they came (no line ending): what RAW_LINE shows as text, invalid UTF-8 replaced,
# rebuilt exactly, so a quarantined line can be mended or dropped again as it was.
RAW_BYTES = "raw_bytes"
REASON = "reason"
VALID = "valid"  # is_valid's column: the line is a reading under the contract
OCCURRENCES = "occurrences"
# A quarantined line is kept once per file it came in (its bytes: two Latin-1 lines may read the same
# as text), with how many times it stands there.
QUARANTINE_KEY = (SOURCE_FILE, RAW_BYTES)
QUARANTINE_COLUMNS = (SOURCE_FILE, RAW_LINE, RAW_BYTES, REASON, OCCURRENCES)
# Readings are keyed by pump and time; the readings table is partitioned by the reading's day.
READING_KEY = ("resid", "date", "time")
DAY = "day"
STATUS = "status"
NEW, REPEAT, CONFLICT = "new", "repeat", "conflict"
CONFLICT_REASON = "same resid, date and time as an earlier reading, other values (the first is kept)"

# PERMISSIVE keeps a malformed line whole in CORRUPT_RECORD instead of failing or dropping it.
CSV_OPTIONS = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_RECORD}
# Sensor files end in .csv, or .csv.gz (gzip: Hadoop's codec decompresses it as it reads). Anything
# else in the landing directory (a copy in progress such as x.csv.tmp or x.csv.part, notes) is not
# read, and each run names it (why_not_read); Spark itself skips names starting with . or _ and ending
# with ._COPYING_ (hdfs dfs -put).
SENSOR_FILE_SUFFIXES = (".csv", ".csv.gz")
SENSOR_FILE_GLOB = "*.{csv,csv.gz}"  # Hadoop's glob, for the file source's pathGlobFilter
# Names of copies in progress, as tools write them (hdfs dfs -put, rsync, curl, browsers).
IN_PROGRESS_SUFFIXES = ("._COPYING_", ".tmp", ".part", ".inprogress", ".crdownload")


# A gzip stream starts with these two bytes: in a file named .csv, its lines are garbage as text.
GZIP_MAGIC = b"\x1f\x8b"
MISNAMED_GZIP = "gzip-compressed content in a .csv file: its lines were read decompressed (name it .csv.gz)"
BROKEN_GZIP = "gzip-compressed content in a .csv file that does not decompress ({error}): no line read"


def text_lines(content: bytes) -> list[bytes]:
    """A file's lines as the text source splits them (at \\n, \\r\\n or \\r), without their endings."""
    lines = re.split(rb"\r\n|\r|\n", content)
    return lines[:-1] if lines and lines[-1] == b"" else lines


def why_not_read(name: str, is_folder: bool = False) -> str | None:
    """Why the alert job does not read an entry of the landing directory; None for a sensor file."""
    if is_folder:
        return "a folder"
    if name.endswith(IN_PROGRESS_SUFFIXES) or name.startswith((".", "_")):
        return "a copy in progress or a hidden file"
    if not name.endswith(SENSOR_FILE_SUFFIXES):
        return "not a sensor file name (*.csv, *.csv.gz)"
    return None


# What parse_lines puts where a line's bytes are not valid UTF-8.
REPLACEMENT_CHARACTER = "\ufffd"
# A line's place in its file's part: monotonically_increasing_id() as the file is read.
LINE_ORDER = "line_order"
BYTE_ORDER_MARK = "\ufeff"
MAX_LINE_CHARACTERS = 1 << 30
# A header line: its first field is the first column's name.
HEADER_LINE = rf'(?i)^\s*"?{SENSOR_COLUMNS[0]}"?\s*,'


def parse_lines(lines: DataFrame) -> DataFrame:
    """Text lines (column ``value``, from the text source) to the sensor columns, keeping the raw
    line: every line stays accountable, whatever parsing makes of it."""
    # The text source keeps a line's bytes as they are: invalid UTF-8 becomes the replacement
    # character here, so the line can be stored, and is quarantined (_is_valid).
    value = F.make_valid_utf8(F.col("value"))
    # A byte-order mark is not data. startswith, not a regular expression: this runs on every line.
    raw = F.when(value.startswith(BYTE_ORDER_MARK), F.substring(value, 2, MAX_LINE_CHARACTERS)).otherwise(value)
    parsed = F.from_csv(raw, ddl(SENSOR, with_corrupt_record=True), CSV_OPTIONS)
    carried = [name for name in lines.columns if name != "value"]  # e.g. the source file
    # The text source keeps the bytes in the string as they are: cast back, they are the line's own.
    original = F.col("value").cast("binary").alias(RAW_BYTES)
    return lines.select(*carried, raw.alias(RAW_LINE), original, parsed.alias("r")).select(
        *carried, RAW_LINE, RAW_BYTES, "r.*"
    )


def _with_source(lines: DataFrame) -> DataFrame:
    """Each line with its file and the file's modification time: which delivery came first."""
    return lines.select(
        "value",
        F.col("_metadata.file_path").alias(SOURCE_FILE),
        F.col("_metadata.file_modification_time").alias(FILE_TIME),
    )


def sensor_line_stream(spark: SparkSession, path: str, max_files_per_trigger: int | None = None) -> DataFrame:
    """Streaming read of the landing directory's lines, as text with their file (parse_lines parses them)."""
    reader = spark.readStream.option("pathGlobFilter", SENSOR_FILE_GLOB)
    if max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", max_files_per_trigger)
    return _with_source(reader.text(path))


def read_sensor_stream(spark: SparkSession, path: str, max_files_per_trigger: int | None = None) -> DataFrame:
    """Streaming read of the landing directory, every line kept."""
    return parse_lines(sensor_line_stream(spark, path, max_files_per_trigger))


def _missing_columns() -> Column:
    """Comma list of the sensor columns without a value, '' when all are there."""
    return F.concat_ws(",", *[F.when(F.col(c).isNull(), F.lit(c)) for c in SENSOR_COLUMNS])


def _not_finite_columns() -> Column:
    """Comma list of the measures that are NaN or infinite (Spark parses "NaN", "Infinity"): a
    reading of that kind would turn every statistic of its pump and day into NaN."""
    infinity = F.lit(float("inf"))
    return F.concat_ws(",", *[F.when(F.isnan(c) | (F.abs(F.col(c)) == infinity), F.lit(c)) for c in SENSOR_MEASURES])


def _contract_breaks() -> list[tuple[Column, Column]]:
    """(broken, reason) of each rule of the data contract (include/contract.py), in its order: for lines
    of the sensor's shape (every value present, of its type, finite)."""
    resid, time = F.col("resid"), F.col("time")
    breaks = [
        (F.length(resid) > contract.RESID_MAX_LENGTH, F.lit(contract.RESID_TOO_LONG)),
        (~resid.rlike(contract.RESID_PATTERN), F.lit(contract.RESID_CHARACTERS)),
        (event_day().isNull(), F.lit(contract.DATE_NOT_A_DAY)),
        (~time.rlike(contract.TIME_PATTERN), F.lit(contract.TIME_NOT_OF_DAY)),
    ]
    for measure, (low, high) in contract.MEASURE_BOUNDS.items():
        breaks.append((F.col(measure) < low, F.lit(contract.below_minimum(measure))))
        if high is not None:
            breaks.append((F.col(measure) > high, F.lit(contract.above_maximum(measure))))
    return breaks


def _is_valid() -> Column:
    # Plain comparisons, not the comma lists above: this runs on every line, the lists only on bad ones.
    infinity = F.lit(float("inf"))
    checks = [
        F.col(CORRUPT_RECORD).isNull(),
        *[F.col(c).isNotNull() for c in SENSOR_COLUMNS],
        *[~F.isnan(c) & (F.abs(F.col(c)) != infinity) for c in SENSOR_MEASURES],
        # invalid UTF-8 may sit in a text column, where parsing alone would let it through
        ~F.col(RAW_LINE).contains(REPLACEMENT_CHARACTER),
        *[~broken for broken, _ in _contract_breaks()],
    ]
    return reduce(and_, checks)


def valid_readings(df: DataFrame) -> DataFrame:
    """Lines that are whole readings: every column present and of its type."""
    return df.where(_is_valid()).select(*SENSOR_COLUMNS)


def is_valid(df: DataFrame) -> DataFrame:
    """The parsed lines with a boolean column `valid` (the split valid_readings/quarantine_records make)."""
    return df.withColumn(VALID, _is_valid())


def with_status(readings: DataFrame, stored: DataFrame) -> DataFrame:
    """Each reading with its STATUS against the readings already stored and the others of its batch:
    NEW (first of its key), REPEAT (its key again, same values) or CONFLICT (its key, other values).

    readings: SENSOR_COLUMNS, SOURCE_FILE, FILE_TIME and LINE_ORDER (the line's order in its file);
    stored: SENSOR_COLUMNS of the readings table (those that may share a key with readings).
    The first of a key is the stored one, else the batch's first by file time, file, line: the order
    in which the file source reads files, so any batching of the same files agrees on it."""
    key = list(READING_KEY)
    values = F.struct(*SENSOR_MEASURES)
    first_in_batch = Window.partitionBy(*key).orderBy(FILE_TIME, SOURCE_FILE, LINE_ORDER)
    ranked = readings.withColumn("_rank", F.row_number().over(first_in_batch)).withColumn(
        "_first", F.first(values).over(first_in_batch)
    )
    joined = ranked.join(stored.select(*key, values.alias("_stored")), key, "left")
    status = (
        F.when(F.col("_stored").isNull() & (F.col("_rank") == 1), F.lit(NEW))
        .when(values == F.coalesce(F.col("_stored"), F.col("_first")), F.lit(REPEAT))
        .otherwise(F.lit(CONFLICT))
    )
    return joined.withColumn(STATUS, status).drop("_rank", "_first", "_stored")


def quarantine_entries(records: DataFrame) -> DataFrame:
    """Quarantine records (SOURCE_FILE, RAW_LINE, RAW_BYTES, REASON) as table rows: one per line and file,
    counted."""
    return (
        records.groupBy(*QUARANTINE_KEY)
        .agg(F.first(RAW_LINE).alias(RAW_LINE), F.first(REASON).alias(REASON), F.count(F.lit(1)).alias(OCCURRENCES))
        .select(*QUARANTINE_COLUMNS)
    )


def quarantine_records(df: DataFrame) -> DataFrame:
    """Every line is_valid found no reading, with the raw text, the file it came from and why it was set aside."""
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
        .when(_missing_columns() != "", F.concat(F.lit("missing value in "), _missing_columns()))
    )
    for broken, why in _contract_breaks():
        reason = reason.when(broken, why)
    reason = reason.otherwise(F.lit("not a reading"))  # unreachable: every test of _is_valid has its reason
    return df.where(~F.col(VALID)).select(SOURCE_FILE, RAW_LINE, RAW_BYTES, reason.alias(REASON))


def conflict_records(conflicting: DataFrame, lines: DataFrame) -> DataFrame:
    """Quarantine records of the conflicting readings (their LINE_ORDER), with their lines' text and bytes
    from the parsed lines: joined back by place, so the readings' shuffle need not carry them (few: broadcast)."""
    raw = lines.select(LINE_ORDER, SOURCE_FILE, RAW_LINE, RAW_BYTES)
    return (
        F.broadcast(conflicting.select(LINE_ORDER))
        .join(raw, LINE_ORDER)
        .select(SOURCE_FILE, RAW_LINE, RAW_BYTES, F.lit(CONFLICT_REASON).alias(REASON))
    )


def event_time() -> Column:
    """The reading's date and time as one timestamp; null when they do not read as one."""
    return F.try_to_timestamp(F.concat_ws(" ", "date", "time"), F.lit(TIMESTAMP_FORMAT))


def event_day(date_column: str = "date") -> Column:
    """The reading's day; null when its date does not read as one (to_date would fail the job)."""
    return F.try_to_date(F.col(date_column), DATE_FORMAT)
