"""The report: every output's Delta table counted and shown in tables of at most 120 columns,
missing ones said so, a summary at the end (or the counts in a file, for the demo's summary)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from include.schemas import INCIDENT, spark_schema
from spark_jobs import alerts, report

READING = ("NANTAHALLA", "3/10/14", "12:01", 10.0, 1.7, 880.0, 1.5, 0.4, 1.9)
SENSOR_SCHEMA = (
    "resid string, date string, time string, hz double, disp double, flow double, sedPPM double,"
    " psi double, chlPPM double"
)
LONG = "x" * 300  # a value far wider than a line


def test_tables_shown_within_120_columns_with_a_summary(spark, tmp_path, capsys):
    root = tmp_path / "storage"
    output = root / "output"
    readings = [(*READING[:2], f"12:{minute:02d}", *READING[3:]) for minute in range(3)]
    spark.createDataFrame(readings, SENSOR_SCHEMA).write.format("delta").save(str(output / "readings"))
    spark.createDataFrame(readings[:1], SENSOR_SCHEMA).write.format("delta").save(str(output / "alerts"))
    enriched = [(*READING[:3], 0.4, "HYDROPUMP", "11/27/10", "3/15/11", "HYDROCAM", "3/15/11", LONG, LONG, LONG)]
    schema = (
        "resid string, date string, time string, psi double, pumpType string, purchaseDate string,"
        " serviceDate string, vendor string, eventDate string, technician string, description string,"
        " reference_version string"
    )
    spark.createDataFrame(enriched, schema).write.format("delta").save(str(output / "alerts_enriched"))
    opened = datetime(2014, 3, 13, 2, 5)
    incident = [("NANTAHALLA@2014-03-13T02:05", "NANTAHALLA", opened, None, 1871, 0.0, opened, opened)]
    incident[0] += ("HYDROPUMP", LONG, "3/13/14", LONG, LONG, "v1")
    spark.createDataFrame(incident, spark_schema(INCIDENT)).write.format("delta").save(str(output / "incidents"))
    quarantine = [(f"file://{LONG}/sensor.csv", LONG, "not a reading", 2)]
    schema = "source_file string, raw_line string, reason string, occurrences long"
    spark.createDataFrame(quarantine, schema).write.format("delta").save(str(output / "quarantine"))
    (output / "daily_stats").mkdir()  # a folder that is not a Delta table (an old Parquet output)
    run = [(datetime(2026, 12, 2, 10, 11, 12, 345678, tzinfo=timezone.utc), 2, 27557, 120, 3, 27554, 0)]
    spark.createDataFrame(run, alerts.RUN_SCHEMA).write.format("delta").save(str(output / "runs"))

    assert report.main(["--root", root.as_uri(), "--rows", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    table_lines = [line for line in lines if line.startswith(("+", "|"))]
    assert max(map(len, table_lines)) <= 120, max(table_lines, key=len)
    assert f"readings: 3 rows ({root.as_uri()}/output/readings)" in lines
    assert "|NANTAHALLA|3/10/14|12:02|" in "".join(line.replace(" ", "") for line in lines)
    assert any(line.startswith("daily_stats: not a Delta table") for line in lines)
    assert "|NANTAHALLA|2014-03-1302:05|NULL|1871|0.0|" in "".join(line.replace(" ", "") for line in lines)
    assert "|2026-12-0210:11:12|2|27557|120|3|" in "".join(line.replace(" ", "") for line in lines)  # to the second
    assert lines[-2:] == [
        "report: rows per output: readings 3, alerts 1, alerts_enriched 1, incidents 1, quarantine 1,"
        " daily_stats -, runs 1",
        f"report: Delta tables under {root.as_uri()}/output",
    ]


def test_an_empty_root_has_nothing_produced_yet(spark, tmp_path, capsys):
    assert report.main(["--root", tmp_path.as_uri()]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines[:-2]] == [
        "readings",
        "alerts",
        "alerts_enriched",
        "incidents",
        "quarantine",
        "daily_stats",
        "runs",
    ]
    assert all("not produced yet" in line for line in lines[:-2])
    assert lines[-2].startswith("report: rows per output: readings -, alerts -, ")


def test_counts_go_to_a_file_for_the_demos_summary(spark, tmp_path, capsys):
    counts = tmp_path / "counts.json"
    assert report.main(["--root", tmp_path.as_uri(), "--counts", str(counts)]) == 0
    assert json.loads(counts.read_text()) == dict.fromkeys(report.OUTPUTS)
    assert not any(line.startswith("report: rows per output") for line in capsys.readouterr().out.splitlines())
