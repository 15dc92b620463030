"""The incidents job against the oracle of the rule (testsupport/incidents.py), on generated readings that go
low, flicker back for less than the clear window, recover for longer and go low again: the same incidents and
messages (the notify task's, to a local mail server) for 1, 5 and 37 slices, each streamed in its own run; a
late reading counted and named, not applied; a lost checkpoint gives the same table. The real data set's
incidents are checked with every other output (tests/pipeline_run.assert_equal_to_the_oracle: one slice, 5 and
37 in test_exactly_once)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from include import settings
from include.airflow.notify import notify_incidents
from include.replay import slicing
from include.replay.file_drop import drop
from spark_jobs import alerts, incidents
from tests.pipeline_run import expected_incidents, incident_args, incident_rows, minutes_for
from testsupport import oracle
from testsupport.mailbox import expected_ids, received

LOW, OK = 0.1, 3.0


def psi_of(pump: int, minute: int) -> float:
    """Pump 0: low 0:30-0:58, back for 10 minutes (a flicker), low 1:10-1:20, back for 100 minutes (resolved
    at 1:22), low 3:00-3:04, back (resolved at 3:06), low again 5:00-5:52, back 8 minutes when the data ends
    (open). Pump 1: low 2:00-2:04, back (resolved at 2:06); low at 5:46, back 14 minutes at the end (open)."""
    spells = ((30, 58), (70, 80), (180, 184), (300, 352)) if pump == 0 else ((120, 124), (346, 346))
    return LOW if any(first <= minute <= last for first, last in spells) else OK


def generated_data(folder: Path, data_dir: Path) -> tuple[Path, list[str]]:
    """A data set of two pumps of the real vendor file, a reading every 2 minutes from 3/10/14 0:00 to 6:00."""
    folder.mkdir()
    pumps = [row[0] for row in oracle.read_rows(data_dir / settings.VENDOR_FILE)[:2]]
    lines = [
        f"{resid},3/10/14,{m // 60}:{m % 60:02d},90.0,1.2,10.0,0.5,{psi_of(p, m)},0.3\n"
        for m in range(0, 361, 2)
        for p, resid in enumerate(pumps)
    ]
    (folder / settings.SENSOR_FILE).write_text("".join(lines))
    for name in (settings.VENDOR_FILE, settings.MAINT_FILE):
        shutil.copy(data_dir / name, folder / name)
    return folder, pumps


def stage(root: Path, data: Path) -> settings.Layout:
    root.mkdir()
    shutil.copy(data / settings.SENSOR_FILE, root / settings.SENSOR_FILE)
    (root / "info").mkdir()
    for name in (settings.VENDOR_FILE, settings.MAINT_FILE):
        shutil.copy(data / name, root / "info" / name)
    return settings.Layout(root.as_uri())


def stream_incidents(layout: settings.Layout) -> None:
    """The streaming DAG's alert job (it stores the readings), then the incidents job."""
    outputs = ["--output", layout.output("alerts"), "--quarantine", layout.output("quarantine")]
    assert alerts.main(["--source", layout.stream, *outputs, "--checkpoints", layout.path("checkpoints")]) == 0
    assert incidents.main(incident_args(layout)) == 0


@pytest.fixture(scope="module")
def generated(tmp_path_factory, data_dir) -> tuple[Path, list[str]]:
    return generated_data(tmp_path_factory.mktemp("generated") / "data", data_dir)


def test_the_generated_readings_have_every_case(generated):
    """The oracle sees what the data was made for: resolved after a flicker, resolved, open at the end."""
    data, pumps = generated
    found = [(i["resid"], i["opened_at"].strftime("%H:%M"), i["resolved_at"]) for i in expected_incidents(data)]
    assert [(resid, opened, bool(resolved)) for resid, opened, resolved in found] == [
        (pumps[0], "00:30", True),
        (pumps[0], "03:00", True),
        (pumps[0], "05:00", False),
        (pumps[1], "02:00", True),
        (pumps[1], "05:46", False),
    ]


@pytest.mark.parametrize("slices", [1, 5, 37])
def test_any_batching_gives_the_oracles_incidents_and_messages(spark, tmp_path, generated, slices, mail, capsys):
    data, _ = generated
    layout = stage(tmp_path / "root", data)
    lines = slicing.split_lines((data / settings.SENSOR_FILE).read_bytes())
    minutes = minutes_for(lines, slices)
    assert slicing.plan(lines, minutes).count == slices
    for index in range(slices):
        assert drop(layout, index, minutes).written
        stream_incidents(layout)
        notify_incidents(layout.root)  # the streaming DAG's notify task, after each run
    expected = expected_incidents(data)
    assert incident_rows(spark, layout) == expected
    # Each event's message once; in the order the events became known (a resolution is known the clear window
    # after its time, so another pump's opening in between may go out first).
    sent = [message["Message-ID"] for message in received(mail)]
    assert sorted(sent) == sorted(expected_ids(oracle.readings(data / settings.SENSOR_FILE)))
    summaries = re.findall(r"incidents: (\d+) micro-batches.* late_readings=(\d+);", capsys.readouterr().out)
    assert [(int(batches), int(late)) for batches, late in summaries] == [(1, 0)] * slices
    if slices == 5:
        check_a_lost_checkpoint_and_a_late_reading(spark, layout, expected, capsys)


def check_a_lost_checkpoint_and_a_late_reading(spark, layout, expected: list[dict], capsys) -> None:
    root = settings.local_path(layout.root)
    shutil.rmtree(root / "checkpoints" / "incidents")
    capsys.readouterr()
    assert incidents.main(incident_args(layout)) == 0
    assert "starting from an empty checkpoint" in capsys.readouterr().out
    assert incident_rows(spark, layout) == expected

    # A reading of the first pump at 1:15 (the data has even minutes only) comes after its 6:00: late.
    pump = expected[0]["resid"]
    (root / "stream" / "late.csv").write_text(f"{pump},3/10/14,1:15,90.0,1.2,10.0,0.5,{LOW},0.3\n")
    stream_incidents(layout)
    out = capsys.readouterr().out
    assert f"late_readings=1 (late, not applied: {pump} 2014-03-10 01:15)" in out
    assert incident_rows(spark, layout) == expected
