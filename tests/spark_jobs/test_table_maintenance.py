"""Table maintenance: after many small streaming runs, OPTIMIZE leaves one data file per partition and
VACUUM (retention 0) deletes every file no longer referenced; no table's content changes."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from deltalake import DeltaTable

from include import settings
from include.replay.file_drop import drop
from include.settings import Layout
from spark_jobs import daily_stats, enrich_alerts, table_maintenance
from tests.pipeline_run import stream
from testsupport import oracle

TABLES = {"readings", "alerts", "quarantine", "runs", "alerts_enriched", "daily_stats", "incidents"}
LINE = re.compile(
    r"table_maintenance: (\w+): data files (\d+) -> (\d+), files on storage (\d+) -> (\d+)",
)


def run_daily_stats(layout: Layout, day: str) -> None:
    args = ["--readings", layout.output("readings"), "--output", layout.output("daily_stats"), "--day", day]
    assert daily_stats.main(args) == 0


def referenced(table: Path) -> int:
    """Data files of the table's current version, through delta-rs (not the job's Spark)."""
    return len(DeltaTable(table.as_uri()).file_uris())


def on_storage(table: Path) -> int:
    return sum(1 for path in table.rglob("*.parquet") if "_delta_log" not in path.parts)


def contents(spark, layout: Layout) -> dict[str, list]:
    return {
        name: sorted(map(tuple, spark.read.format("delta").load(layout.output(name)).collect()), key=repr)
        for name in TABLES
    }


@pytest.fixture(scope="module")
def maintained(spark, tmp_path_factory, local_pipeline, data_dir):
    """A copy of the session's run (the whole data set in one drop), two more streaming runs over day
    slices (all repeats, one run row each: small files in every table), measured, then maintained once
    with retention 0."""
    root = tmp_path_factory.mktemp("maintenance") / "storage"
    shutil.copytree(local_pipeline["root"], root)
    layout = Layout(root.as_uri())
    # A checkpoint names the files it has read by their full path: a copy's streams start afresh.
    shutil.rmtree(root / "checkpoints")
    for index in (0, 1):
        assert drop(layout, index, 1440).written
        stream(layout)
    rows = oracle.read_rows(data_dir / settings.SENSOR_FILE)
    days = sorted({datetime.strptime(row[1], "%m/%d/%y").date() for row in rows})
    run_daily_stats(layout, days[0].isoformat())  # the first day again: its first files are replaced, unreferenced
    (root / "output" / "not_a_table").mkdir()
    (root / "output" / "not_a_table" / "part-0.parquet").write_bytes(b"left alone")

    tables = {name: root / "output" / name for name in TABLES}
    before = {name: (referenced(path), on_storage(path)) for name, path in tables.items()}
    content_before = contents(spark, layout)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = table_maintenance.main(["--root", layout.root, "--retain-hours", "0"])
    after = {name: (referenced(path), on_storage(path)) for name, path in tables.items()}
    return {
        "root": root,
        "layout": layout,
        "code": code,
        "stdout": out.getvalue(),
        "before": before,
        "after": after,
        "content_before": content_before,
        # both tables partitioned by day (the layout): one data file per day they hold
        "partitions": {"readings": len(days), "daily_stats": len(days)},
    }


def test_the_job_succeeds_and_says_what_it_did(maintained):
    assert maintained["code"] == 0
    lines = maintained["stdout"].splitlines()
    printed = {m[1]: tuple(map(int, m.groups()[1:])) for line in lines if (m := LINE.fullmatch(line))}
    assert printed.keys() == TABLES
    for name in TABLES:
        (data_before, stored_before), (data_after, stored_after) = maintained["before"][name], maintained["after"][name]
        assert printed[name] == (data_before, data_after, stored_before, stored_after), name
    assert any(line.startswith("table_maintenance: not_a_table: not a Delta table, left alone") for line in lines)
    totals = [sum(counts[i] for counts in maintained[when].values()) for when in ("before", "after") for i in (0, 1)]
    data_before, stored_before, data_after, stored_after = totals
    assert lines[-1] == (
        f"table_maintenance summary: {len(TABLES)} tables, data files {data_before} -> {data_after},"
        f" files on storage {stored_before} -> {stored_after} (VACUUM retention 0 h)"
    )


def test_one_data_file_per_partition(maintained):
    before, after = maintained["before"], maintained["after"]
    for name in TABLES:
        partitions = maintained["partitions"].get(name, 1)
        if name == "quarantine":  # the real data has no bad line: an empty table, at most one (empty) file
            assert after[name][0] <= 1
        else:
            assert after[name][0] == partitions, name
    # grown by many small writes (the enriched alerts are one MERGE of the session's run: one file or more)
    for name in ("readings", "alerts", "runs"):
        assert before[name][0] > after[name][0], name
    assert before["alerts_enriched"][0] >= after["alerts_enriched"][0] == 1


def test_vacuum_leaves_only_the_referenced_files(maintained):
    for name, (data_files, stored) in maintained["after"].items():
        assert stored == data_files, name
    assert (maintained["root"] / "output" / "not_a_table" / "part-0.parquet").read_bytes() == b"left alone"


def test_no_table_changes(spark, maintained, data_dir):
    layout = maintained["layout"]
    assert contents(spark, layout) == maintained["content_before"]
    readings = oracle.readings(data_dir / settings.SENSOR_FILE)
    expected_alerts = oracle.alerts(readings)

    def table(name: str, columns) -> list:
        rows = spark.read.format("delta").load(layout.output(name)).select(*columns).collect()
        return sorted(map(tuple, rows), key=repr)

    assert table("alerts", oracle.SENSOR_COLUMNS) == sorted(expected_alerts, key=repr)
    expected_readings = [tuple(r[k] for k in oracle.SENSOR_COLUMNS) for r in readings]
    assert table("readings", oracle.SENSOR_COLUMNS) == sorted(expected_readings, key=repr)
    expected = oracle.enriched(expected_alerts, data_dir / settings.VENDOR_FILE, data_dir / settings.MAINT_FILE)
    assert table("alerts_enriched", enrich_alerts.ENRICHED_COLUMNS) == expected
    assert table("quarantine", ["raw_line"]) == []


def test_pure_helpers():
    assert table_maintenance.is_data_file("/r/output/readings/day=2014-03-10/part-0.snappy.parquet")
    assert not table_maintenance.is_data_file("/r/output/readings/_delta_log/00000000000000000010.checkpoint.parquet")
    assert not table_maintenance.is_data_file("/r/output/readings/day=2014-03-10/.part-0.snappy.parquet.crc")
    report = table_maintenance.TableFiles("alerts", 12, 1, 12, 1)
    assert report.line() == "table_maintenance: alerts: data files 12 -> 1, files on storage 12 -> 1"
    assert table_maintenance.summary([report, report], 168.0) == (
        "table_maintenance summary: 2 tables, data files 24 -> 2, files on storage 24 -> 2 (VACUUM retention 168 h)"
    )
