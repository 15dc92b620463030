"""Exactly once: the same rows dropped as 1, 5 or 37 slices, streamed in any batching, give the same
tables, equal to the oracle; a slice delivered again under another name adds nothing; a lost
checkpoint costs a re-read, never data; a corrected reference file re-enriches every alert."""

from __future__ import annotations

import re
import shutil

import pytest

from include import settings
from include.replay import slicing
from include.replay.file_drop import drop
from tests.pipeline_run import (
    assert_equal_to_the_oracle,
    daily,
    expected_incidents,
    minutes_for,
    outputs,
    staged,
    stream,
)
from testsupport import oracle

SUMMARY = re.compile(r"alerts job summary: .*")


def summary_counts(text: str) -> dict[str, int]:
    (line,) = SUMMARY.findall(text)
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}


def test_one_slice_gives_the_oracle(spark, local_pipeline, data_dir):
    """The session's run: the whole data set dropped as one file, streamed in one run."""
    assert_equal_to_the_oracle(outputs(spark, local_pipeline["layout"]), data_dir)


# The daily statistics read the readings table day by day: equal readings, equal statistics. Computed
# once, over the most fragmented readings table (an append per micro-batch), not in every test.
@pytest.mark.parametrize(
    ("slices", "stream_every", "max_files", "with_daily_stats"),
    [(5, 1, None, False), (37, 37, 3, True)],
    ids=["5-slices-one-run-each", "37-slices-3-files-per-batch"],
)
def test_any_batching_gives_the_oracle(spark, tmp_path, data_dir, slices, stream_every, max_files, with_daily_stats):
    layout = staged(tmp_path, data_dir)
    lines = slicing.split_lines((data_dir / settings.SENSOR_FILE).read_bytes())
    minutes = minutes_for(lines, slices)
    assert slicing.plan(lines, minutes).count == slices

    for index in range(slices):
        assert drop(layout, index, minutes).written
        if (index + 1) % stream_every == 0 or index == slices - 1:
            stream(layout, max_files)
    if with_daily_stats:
        daily(layout, data_dir)
    assert_equal_to_the_oracle(outputs(spark, layout), data_dir, stat_days=None if with_daily_stats else 0)


def test_a_slice_delivered_twice_under_two_names_adds_nothing(spark, tmp_path, data_dir, capsys):
    layout = staged(tmp_path, data_dir)
    lines = slicing.split_lines((data_dir / settings.SENSOR_FILE).read_bytes())
    minutes = minutes_for(lines, 5)
    for index in range(5):
        drop(layout, index, minutes)
    stream(layout)
    capsys.readouterr()
    again = sorted((tmp_path / "stream").glob("*.csv"))[2]
    shutil.copy(again, tmp_path / "stream" / f"redelivered-{again.name}")  # same rows, another name
    stream(layout)

    delivered = len(slicing.split_lines(again.read_bytes()))
    counts = summary_counts(capsys.readouterr().out)
    assert counts["lines_read"] == delivered  # read, and counted as repeats
    assert (counts["readings_repeated"], counts["readings_new"], counts["alerts_written"]) == (delivered, 0, 0)

    assert drop(layout, 13, 360).written  # a slice of another span: rows the day slices hold already
    stream(layout)
    counts = summary_counts(capsys.readouterr().out)
    assert counts["readings_new"] == 0 and counts["readings_repeated"] == counts["lines_read"] > 0
    assert_equal_to_the_oracle(outputs(spark, layout), data_dir, stat_days=0)  # the streaming tables


def test_a_lost_checkpoint_costs_time_never_data(spark, tmp_path, data_dir, capsys):
    layout = staged(tmp_path, data_dir)
    lines = slicing.split_lines((data_dir / settings.SENSOR_FILE).read_bytes())
    minutes = minutes_for(lines, 5)
    for index in range(4):
        drop(layout, index, minutes)
    stream(layout)
    before = outputs(spark, layout)

    shutil.rmtree(tmp_path / "checkpoints")  # a disk cleanup, a restore from backup, a moved root
    capsys.readouterr()
    stream(layout)
    out = capsys.readouterr().out
    assert "starting from an empty checkpoint" in out
    counts = summary_counts(out)
    assert counts["readings_new"] == 0 and counts["readings_repeated"] == counts["lines_read"] > 0
    assert outputs(spark, layout) == before  # every table as it was

    drop(layout, 4, minutes)  # a file dropped after that is processed as usual
    stream(layout)
    assert_equal_to_the_oracle(outputs(spark, layout), data_dir, stat_days=0)  # the streaming tables


def test_a_corrected_reference_file_re_enriches_every_alert(spark, tmp_path, data_dir, capsys):
    layout = staged(tmp_path, data_dir)
    vendor_file = tmp_path / "info" / settings.VENDOR_FILE
    good_vendors = vendor_file.read_bytes()
    # a bad vendor file: every pump's vendor misspelled
    vendor_file.write_text(
        "".join(f"{line.rsplit(',', 3)[0]},WRONG,0,0\n" for line in good_vendors.decode().splitlines())
    )
    for index in range(4):  # the first four days (the real data has alerts on the fourth)
        drop(layout, index, 1440)
    stream(layout)
    assert {row[7] for row in outputs(spark, layout)["alerts_enriched"]} == {"WRONG"}
    assert {row["vendor"] for row in outputs(spark, layout)["incidents"]} == {"WRONG"}

    vendor_file.write_bytes(good_vendors)  # the corrected file is staged
    drop(layout, 4, 1440)
    capsys.readouterr()
    stream(layout)
    out = capsys.readouterr().out
    assert "the reference files changed since the last enrichment: rebuilt" in out
    expected_alerts = oracle.alerts(oracle.readings(data_dir / settings.SENSOR_FILE))
    expected = oracle.enriched(expected_alerts, data_dir / settings.VENDOR_FILE, data_dir / settings.MAINT_FILE)
    assert outputs(spark, layout)["alerts_enriched"] == expected
    assert "incidents: the reference files changed: the pump data of" in out
    assert outputs(spark, layout)["incidents"] == expected_incidents(data_dir)
