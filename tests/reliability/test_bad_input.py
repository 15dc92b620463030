"""Bad input never stops the alert job and is never dropped silently: each malformed line goes to
the quarantine with its reason and is counted in the job summary; valid lines of the same file are
processed; junk files in the landing directory are not read; a dirty source survives the file drop.

Expected values come from plain Python (the oracle below, csv + float), not from the job."""

from __future__ import annotations

import csv
import gzip
import math
import re
from urllib.parse import urlparse

from include import settings
from include.replay.file_drop import drop
from include.settings import Layout
from tests.spark_jobs.test_alerts import rows, run
from testsupport import oracle

BOM = b"\xef\xbb\xbf"
GOOD = [
    b"P1,3/10/14,1:01,10.27,1.73,881,1.56,0,1.94",
    b"P1,3/10/14,1:02,9.67,1.731,882,0.52,0.49,1.79",
    b'"P2",3/10/14,1:03,10.47,1.732,882,1.7,0.5,0.66',  # quoted the CSV way: a valid reading
    b"P2,3/10/14,1:05,10.47,1.732,882,1.7,92,0.66",
]
# Every kind of bad line of the issue, with the reason the quarantine must give.
BAD = {
    b"P3,3/10/14,1:06,10.4,1.7,882,1.7": "has 7 fields, expected 9",
    b"P3,3/10/14,1:06,10.4,1.7,882,1.7,0,0.6,extra": "has 10 fields, expected 9",
    b"P3,3/10/14,1:06,ten,1.7,882,1.7,0,0.6": "a value is not of its column's type",
    b"P3,3/10/14,1:06,10.4,1.7,,1.7,0,0.6": "missing value in flow",
    b"P3,3/10/14,1:06,NaN,1.7,882,1.7,Infinity,0.6": "not a finite number in hz,psi",
    b"": "blank line",
    b"   ": "blank line",
    b"resid,date,time,hz,disp,flow,sedPPM,psi,chlPPM": "header line",
    b'P3,"3/10/14,1:06,10.4,1.7,882,1.7,0,0.6': "stray quote",
    b'P3,3/10/14,1:06,10.4,1.7,882,1.7,0,0.6"': "stray quote",
    b"P\xff3,3/10/14,1:06,10.4,1.7,882,1.7,0,0.6": "not valid UTF-8",  # in a text column
    b"P3,3/10/14,1:06,10.4,1.7,882,\xc3\x28,0,0.6": "not valid UTF-8",
}
SUMMARY = re.compile(
    r"alerts job summary: lines_read=(\d+) readings_valid=(\d+) alerts_written=(\d+) lines_quarantined=(\d+)"
)


def oracle_reading(line: bytes) -> tuple | None:
    """The reading a raw line holds (sensor columns, measures as floats), or None: plain Python."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    fields = next(csv.reader([text.removeprefix("\ufeff").rstrip("\r\n")]), [])
    if len(fields) != len(oracle.SENSOR_COLUMNS) or not all(fields[:3]):
        return None
    try:
        measures = [float(value) for value in fields[3:]]
    except ValueError:
        return None
    if not all(map(math.isfinite, measures)):
        return None
    broken = oracle.contract_reason(*fields[:3], dict(zip(oracle.MEASURES, measures, strict=True)))
    return None if broken else (*fields[:3], *measures)


def shown_in_quarantine(line: bytes) -> str:
    """The raw_line a quarantined line is stored as: decoded, invalid bytes replaced, no line ending."""
    return line.decode("utf-8", "replace").removeprefix("\ufeff").rstrip("\r\n")


def summaries(stdout: str) -> list[dict[str, int]]:
    """The counts of each alert job summary line printed."""
    names = ("lines_read", "readings_valid", "alerts_written", "lines_quarantined")
    return [dict(zip(names, map(int, match), strict=True)) for match in SUMMARY.findall(stdout)]


def expected_outcome(lines: list[bytes], threshold: float = 0.5) -> dict:
    readings = [r for r in map(oracle_reading, lines) if r is not None]
    bad = [line for line in lines if oracle_reading(line) is None]
    return {
        "alerts": sorted(r for r in readings if r[7] < threshold),
        "quarantine": sorted(map(shown_in_quarantine, bad)),
        "summary": {
            "lines_read": len(lines),
            "readings_valid": len(readings),
            "alerts_written": sum(r[7] < threshold for r in readings),
            "lines_quarantined": len(bad),
        },
    }


def test_every_kind_of_bad_line_is_quarantined_with_its_reason_and_counted(spark, tmp_path, capsys):
    lines = [GOOD[0], *BAD, *GOOD[1:]]
    (tmp_path / "stream").mkdir()
    (tmp_path / "stream" / "mixed.csv").write_bytes(b"\n".join(lines) + b"\n")
    run(tmp_path)

    expected = expected_outcome(lines)
    assert expected["summary"] == {"lines_read": 16, "readings_valid": 4, "alerts_written": 2, "lines_quarantined": 12}
    assert summaries(capsys.readouterr().out) == [expected["summary"]]
    assert rows(spark, tmp_path / "alerts", oracle.SENSOR_COLUMNS) == expected["alerts"]
    assert rows(spark, tmp_path / "quarantine", ["raw_line", "reason"]) == sorted(
        (shown_in_quarantine(line), reason) for line, reason in BAD.items()
    )
    files = {
        urlparse(r.source_file).path for r in spark.read.format("delta").load(str(tmp_path / "quarantine")).collect()
    }
    assert files == {str(tmp_path / "stream" / "mixed.csv")}


def test_a_byte_order_mark_and_windows_line_endings_change_nothing(spark, tmp_path, data_dir, capsys):
    clean = (data_dir / settings.SENSOR_FILE).read_bytes()
    (tmp_path / "stream").mkdir()
    (tmp_path / "stream" / "windows.csv").write_bytes(BOM + clean.replace(b"\n", b"\r\n"))
    run(tmp_path)

    readings = oracle.readings(data_dir / settings.SENSOR_FILE)  # the clean file
    expected_alerts = oracle.alerts(readings)
    assert summaries(capsys.readouterr().out) == [
        {
            "lines_read": len(readings),
            "readings_valid": len(readings),
            "alerts_written": len(expected_alerts),
            "lines_quarantined": 0,
        }
    ]
    assert rows(spark, tmp_path / "alerts", oracle.SENSOR_COLUMNS) == expected_alerts
    assert spark.read.format("delta").load(str(tmp_path / "quarantine")).count() == 0


def test_files_that_are_not_sensor_data_are_never_half_read(spark, tmp_path, capsys):
    stream = tmp_path / "stream"
    stream.mkdir()
    (stream / "a.csv").write_bytes(b"\n".join(GOOD[:2]) + b"\n")
    (stream / "empty.csv").write_bytes(b"")
    # copies in progress under the names tools use, and other files: never read
    for name in (".b.csv.inprogress", "_b.csv", "b.csv.tmp", "b.csv.part", "b.csv._COPYING_", "notes.txt"):
        (stream / name).write_bytes(GOOD[2] + b"\n" + GOOD[3][:20])
    # a file cut in the middle of its last line: the cut line is quarantined, the rest is read
    (stream / "cut.csv").write_bytes(GOOD[2] + b"\n" + GOOD[3][:20])
    run(tmp_path)
    out = capsys.readouterr().out
    assert summaries(out) == [{"lines_read": 4, "readings_valid": 3, "alerts_written": 2, "lines_quarantined": 1}]
    # nothing skipped in silence: every file not read is named, with why
    in_progress = "a copy in progress or a hidden file"
    assert (
        f"alerts: not read in {stream}: .b.csv.inprogress ({in_progress}), _b.csv ({in_progress}), "
        + (
            f"b.csv._COPYING_ ({in_progress}), b.csv.part ({in_progress}), b.csv.tmp ({in_progress}), "
            "notes.txt (not a sensor file name (*.csv, *.csv.gz))\n"
        )
        in out
    )
    assert " files_not_read=6" in out
    assert rows(spark, tmp_path / "quarantine", ["raw_line", "reason"]) == [
        ("P2,3/10/14,1:05,10.4", "has 4 fields, expected 9")
    ]

    # the copy finishes and is renamed: now it is read, whole, once
    (stream / "b.csv.tmp").write_bytes(b"\n".join(GOOD[2:]) + b"\n")
    (stream / "b.csv.tmp").rename(stream / "b.csv")
    run(tmp_path)
    run(tmp_path)  # nothing new
    assert summaries(capsys.readouterr().out) == [
        {"lines_read": 2, "readings_valid": 2, "alerts_written": 0, "lines_quarantined": 0},
        {"lines_read": 0, "readings_valid": 0, "alerts_written": 0, "lines_quarantined": 0},
    ]
    assert rows(spark, tmp_path / "alerts", ["resid", "time"]) == [("P1", "1:01"), ("P1", "1:02")]


def test_a_dirty_source_goes_through_the_file_drop_to_alerts_and_quarantine(spark, tmp_path, data_dir, capsys):
    clean = (data_dir / settings.SENSOR_FILE).read_bytes().splitlines()
    # The bad lines spread through the source (with readable dates or not), CRLF on some lines, a BOM.
    lines = list(clean)
    for position, bad in zip(range(7, len(lines), len(lines) // len(BAD)), reversed(BAD), strict=False):
        lines.insert(position, bad)
    lines = [line + b"\r" if i % 3 == 0 else line for i, line in enumerate(lines)]
    (tmp_path / settings.SENSOR_FILE).write_bytes(BOM + b"\n".join(lines) + b"\n")
    layout = Layout(tmp_path.as_uri())

    dropped, index = 0, 0
    while (result := drop(layout, index, 1440)).index < result.slices:
        dropped += result.rows
        index += 1
    assert dropped == len(lines)  # every line went into some slice
    run(tmp_path, max_files_per_trigger=2)

    expected = expected_outcome(lines)
    assert expected["summary"]["lines_quarantined"] == len(BAD)
    assert expected["summary"]["readings_valid"] == len(clean)
    assert summaries(capsys.readouterr().out) == [expected["summary"]]
    assert rows(spark, tmp_path / "alerts", oracle.SENSOR_COLUMNS) == expected["alerts"]
    assert rows(spark, tmp_path / "quarantine", ["raw_line"]) == [(line,) for line in expected["quarantine"]]


def test_a_gzip_delivery_is_read_like_a_csv_once(spark, tmp_path, capsys):
    stream = tmp_path / "stream"
    stream.mkdir()
    (stream / "sensor_a.csv").write_bytes(b"\n".join(GOOD[:2]) + b"\n")
    (stream / "sensor_b.csv.gz").write_bytes(gzip.compress(b"\n".join(GOOD[2:]) + b"\n"))
    run(tmp_path)
    run(tmp_path)  # nothing new
    expected = expected_outcome(GOOD)
    assert summaries(capsys.readouterr().out) == [
        expected["summary"],
        {"lines_read": 0, "readings_valid": 0, "alerts_written": 0, "lines_quarantined": 0},
    ]
    assert rows(spark, tmp_path / "alerts", oracle.SENSOR_COLUMNS) == expected["alerts"]


def test_gzip_bytes_in_a_csv_are_one_quarantine_record_and_their_readings_are_read(spark, tmp_path, capsys):
    stream = tmp_path / "stream"
    stream.mkdir()
    packed = gzip.compress(b"\n".join(GOOD) + b"\n")
    (stream / "sensor_gz.csv").write_bytes(packed)
    (stream / "sensor_cut.csv").write_bytes(packed[:30])  # cut short: does not decompress
    run(tmp_path)
    run(tmp_path)  # nothing new, nothing twice

    expected = expected_outcome(GOOD)  # the readings of the decompressed file; one record per gzip file
    assert summaries(capsys.readouterr().out) == [
        {**expected["summary"], "lines_read": len(GOOD) + 2, "lines_quarantined": 2},
        {"lines_read": 0, "readings_valid": 0, "alerts_written": 0, "lines_quarantined": 0},
    ]
    assert rows(spark, tmp_path / "alerts", oracle.SENSOR_COLUMNS) == expected["alerts"]
    records = spark.read.format("delta").load(str(tmp_path / "quarantine")).collect()
    got = sorted((urlparse(r.source_file).path.rsplit("/", 1)[-1], r.raw_line, r.reason) for r in records)
    assert got[1] == (
        "sensor_gz.csv",
        f"<{len(packed)} bytes of gzip data>",
        "gzip-compressed content in a .csv file: its lines were read decompressed (name it .csv.gz)",
    )
    assert got[0][:2] == ("sensor_cut.csv", "<30 bytes of gzip data>")
    assert got[0][2].startswith("gzip-compressed content in a .csv file that does not decompress (")
