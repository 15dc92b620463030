"""Exactly once: the same rows dropped as 1, 5 or 37 slices, streamed in any batching, give the
same alerts and enriched alerts, equal to the oracle; re-dropping a slice duplicates nothing."""

from __future__ import annotations

import math
import shutil

import pytest

from include import settings, slicing
from include.file_drop import drop
from include.settings import Layout
from spark_jobs import alerts, enrich_alerts
from tests import oracle


def stream(layout: Layout, max_files: int | None) -> None:
    extra = ["--max-files-per-trigger", str(max_files)] if max_files else []
    assert (
        alerts.main(
            [
                "--source",
                layout.stream,
                "--output",
                layout.output("alerts"),
                "--quarantine",
                layout.output("quarantine"),
                "--checkpoints",
                layout.path("checkpoints"),
                *extra,
            ]
        )
        == 0
    )
    assert (
        enrich_alerts.main(
            [
                "--alerts",
                layout.output("alerts"),
                "--vendor",
                layout.vendor,
                "--maint",
                layout.maint,
                "--output",
                layout.output("alerts_enriched"),
                "--checkpoint",
                layout.checkpoint("alerts_enriched"),
                *extra,
            ]
        )
        == 0
    )


def minutes_for(lines: list[str], slices: int) -> int:
    """A span that cuts the data into exactly this many slices."""
    plan = slicing.plan(lines, 60)
    last = max(t for t in map(slicing.event_time, lines) if t is not None)
    return math.ceil(((last - plan.origin).total_seconds() / 60 + 1) / slices)


@pytest.mark.parametrize(
    ("slices", "stream_every", "max_files"),
    [(1, 1, None), (5, 1, None), (37, 10, 3)],
    ids=["1-slice", "5-slices-one-run-each", "37-slices-3-files-per-batch"],
)
def test_any_batching_gives_the_oracle(spark, tmp_path, data_dir, slices, stream_every, max_files):
    layout = Layout(tmp_path.as_uri())
    shutil.copy(data_dir / settings.SENSOR_FILE, tmp_path / settings.SENSOR_FILE)
    (tmp_path / "info").mkdir()
    for name in (settings.VENDOR_FILE, settings.MAINT_FILE):
        shutil.copy(data_dir / name, tmp_path / "info" / name)
    lines = slicing.split_lines((data_dir / settings.SENSOR_FILE).read_bytes())
    minutes = minutes_for(lines, slices)
    assert slicing.plan(lines, minutes).count == slices

    for index in range(slices):
        assert drop(layout, index, minutes).written
        if (index + 1) % stream_every == 0 or index == slices - 1:
            stream(layout, max_files)
    # a re-run of an old drop rewrites its file; the stream must not take its rows again
    drop(layout, slices // 2, minutes)
    stream(layout, max_files)

    expected_alerts = oracle.alerts(oracle.readings(data_dir / settings.SENSOR_FILE))
    got_alerts = sorted(
        map(tuple, spark.read.parquet(layout.output("alerts")).select(*oracle.SENSOR_COLUMNS).collect())
    )
    assert got_alerts == expected_alerts
    expected = oracle.enriched(expected_alerts, data_dir / settings.VENDOR_FILE, data_dir / settings.MAINT_FILE)
    got = spark.read.parquet(layout.output("alerts_enriched")).select(*enrich_alerts.ENRICHED_COLUMNS).collect()
    assert sorted(map(tuple, got), key=repr) == expected
    assert spark.read.parquet(layout.output("quarantine")).count() == 0
