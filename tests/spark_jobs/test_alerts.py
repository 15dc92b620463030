"""The alert job: the psi rule, the quarantine of bad lines, and availableNow with checkpoints."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from include.spark import rules
from include.spark.spark_runtime import run_main
from spark_jobs import alerts
from testsupport import oracle

GOOD = [
    "P1,3/10/14,1:01,10.27,1.73,881,1.56,0,1.94",
    "P1,3/10/14,1:02,9.67,1.731,882,0.52,0.49,1.79",
    "P2,3/10/14,1:03,10.47,1.732,882,1.7,0.5,0.66",
    "P2,3/10/14,1:05,10.47,1.732,882,1.7,92,0.66",
]
BAD = {
    "P3,3/10/14,1:06,10.4,1.7,882,1.7": "has 7 fields, expected 9",
    "P3,3/10/14,1:06,10.4,1.7,882,1.7,0,0.6,extra": "has 10 fields, expected 9",
    "P3,3/10/14,1:06,ten,1.7,882,1.7,0,0.6": "a value is not of its column's type",
    "P3,3/10/14,1:06,10.4,1.7,,1.7,0,0.6": "missing value in flow",
    "  ": "blank line",
}


def run(tmp_path, threshold=0.5, **kwargs):
    root = tmp_path
    args = [
        "--source",
        str(root / "stream"),
        "--output",
        str(root / "alerts"),
        "--quarantine",
        str(root / "quarantine"),
        "--checkpoints",
        str(root / "checkpoints"),
        "--threshold",
        str(threshold),
    ]
    for key, value in kwargs.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    assert alerts.main(args) == 0


def rows(spark, path, columns):
    return sorted(tuple(r) for r in spark.read.format("delta").load(str(path)).select(*columns).collect())


def write(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))


def test_rule_is_strictly_below_the_threshold(spark):
    df = spark.createDataFrame([(0.0,), (0.49,), (0.5,), (0.51,), (90.0,)], "psi double")
    assert sorted(r.psi for r in rules.low_pressure_alerts(df, 0.5).collect()) == [0.0, 0.49]
    assert sorted(r.psi for r in rules.low_pressure_alerts(df, 1.0).collect()) == [0.0, 0.49, 0.5, 0.51]


def test_alerts_keep_every_sensor_column_and_bad_lines_are_quarantined(spark, tmp_path):
    write(tmp_path / "stream" / "a.csv", GOOD[:2] + list(BAD))
    run(tmp_path)
    expected = [tuple(v if i < 3 else float(v) for i, v in enumerate(line.split(","))) for line in GOOD[:2]]
    assert rows(spark, tmp_path / "alerts", oracle.SENSOR_COLUMNS) == sorted(expected)
    quarantined = rows(spark, tmp_path / "quarantine", ["raw_line", "reason"])
    assert quarantined == sorted(BAD.items())
    files = {
        urlparse(r.source_file).path for r in spark.read.format("delta").load(str(tmp_path / "quarantine")).collect()
    }
    assert files == {str(tmp_path / "stream" / "a.csv")}


def test_each_run_takes_only_new_files(spark, tmp_path):
    write(tmp_path / "stream" / "a.csv", GOOD[:2])
    run(tmp_path)
    run(tmp_path)  # nothing new: nothing written
    assert len(rows(spark, tmp_path / "alerts", ["time"])) == 2
    write(tmp_path / "stream" / "b.csv", GOOD[2:] + ["P9,3/11/14,2:00,1,1,1,1,0.1,1"])
    write(tmp_path / "stream" / ".c.csv.inprogress", ["P9,3/11/14,2:01,1,1,1,1,0.1,1"])  # hidden: never read
    run(tmp_path)
    assert rows(spark, tmp_path / "alerts", ["resid", "time"]) == [("P1", "1:01"), ("P1", "1:02"), ("P9", "2:00")]


@pytest.mark.parametrize("threshold", [0.5, 50.0])
def test_real_data_alerts_equal_the_oracle(spark, tmp_path, data_dir, threshold):
    (tmp_path / "stream").mkdir()
    (tmp_path / "stream" / "sensordata.csv").symlink_to(data_dir / "sensordata.csv")
    run(tmp_path, threshold=threshold)
    expected = oracle.alerts(oracle.readings(data_dir / "sensordata.csv"), threshold)
    assert rows(spark, tmp_path / "alerts", oracle.SENSOR_COLUMNS) == expected
    assert spark.read.format("delta").load(str(tmp_path / "quarantine")).count() == 0


def test_every_spelling_of_a_low_psi_alerts(spark, tmp_path):
    """The alert query tests the raw psi field before it parses a line (BENCHMARKS.md): whatever way a
    number is written, the alerts are those the oracle finds reading the file with Python's csv and float."""
    spellings = ["0.2", " 0.3", '"0.1"', '" 0.25 "', "1e-1", ".4", "-0.0", "+0.3", "4e-1", "0.5", "5e-1", '"7"', "50"]
    lines = [f"P1,3/10/14,1:{minute:02d},10.27,1.73,881,1.56,{psi},1.94" for minute, psi in enumerate(spellings)]
    write(tmp_path / "stream" / "a.csv", lines)
    run(tmp_path)
    expected = oracle.alerts(oracle.readings(tmp_path / "stream" / "a.csv"))
    assert len(expected) == 9  # every spelling below 0.5
    assert rows(spark, tmp_path / "alerts", oracle.SENSOR_COLUMNS) == expected


def test_a_root_with_the_old_parquet_outputs_is_refused_in_one_line(spark, tmp_path, capsys):
    """Outputs of the Parquet-sink version are never mixed with Delta tables: one line says what to do."""
    write(tmp_path / "stream" / "a.csv", GOOD[:2])
    old = tmp_path / "alerts"
    spark.createDataFrame([("P1",)], "resid string").write.parquet(str(old))
    (old / "_spark_metadata").mkdir()
    args = ["--source", str(tmp_path / "stream"), "--output", str(old), "--quarantine", str(tmp_path / "quarantine")]
    assert run_main("alerts", lambda: alerts.main([*args, "--checkpoints", str(tmp_path / "checkpoints")])) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()  # one line, no trace
    assert line.startswith(f"alerts: FAILED: {old} is not a Delta table")
    assert f"move {old} and its checkpoint away, then run again" in line
    assert not (tmp_path / "checkpoints").exists() and not (tmp_path / "quarantine").exists()  # nothing written


def test_a_reading_again_with_other_values_is_quarantined_with_its_bytes_and_the_first_kept(spark, tmp_path, capsys):
    """Same pump and time, other values: the first delivery stays the reading, the later line goes to the
    quarantine with its own text and bytes (joined back from the parsed lines) and the reason."""
    first, other = GOOD[1], GOOD[1].replace(",0.49,", ",0.2,")
    write(tmp_path / "stream" / "a.csv", [first, GOOD[2]])
    run(tmp_path)
    write(tmp_path / "stream" / "b.csv", [GOOD[3], other])  # a new reading, and the conflicting one
    capsys.readouterr()
    run(tmp_path)
    assert "readings_conflicting=1" in capsys.readouterr().out
    readings = rows(spark, tmp_path / "readings", oracle.SENSOR_COLUMNS)
    resid, date, time, *values = first.split(",")
    assert [r for r in readings if r[:3] == (resid, date, time)] == [(resid, date, time, *map(float, values))]
    quarantine = rows(spark, tmp_path / "quarantine", ("raw_line", "raw_bytes", "reason"))
    reason = "same resid, date and time as an earlier reading, other values (the first is kept)"
    assert quarantine == [(other, bytearray(other.encode()), reason)]
