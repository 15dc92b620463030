"""The daily statistics: the lecture's max/min/avg per pump and day, one day replaced at a time, from
the readings table that the alert job fills (each CSV below is dropped and streamed first)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from spark_jobs import alerts
from spark_jobs.daily_stats import main
from testsupport import oracle


def days_in(path) -> list[date]:
    return sorted({datetime.strptime(row[1], "%m/%d/%y").date() for row in oracle.read_rows(path)})


def stats_by_key(spark, path) -> dict:
    return {(r.resid, r.date): r.asDict() for r in spark.read.format("delta").load(str(path)).collect()}


def assert_equal_to_oracle(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key, stats in expected.items():
        for column in oracle.STAT_COLUMNS:
            assert got[key][column] == pytest.approx(stats[column], rel=1e-9, abs=1e-9), (key, column)


def ingest(source, root) -> None:
    """Drop source into root's landing folder under a new name and stream it into the readings table."""
    landing = root / "stream"
    landing.mkdir(exist_ok=True)
    (landing / f"{len(list(landing.iterdir()))}-{source.name}").write_bytes(source.read_bytes())
    args = ["--source", str(landing), "--output", str(root / "alerts"), "--quarantine", str(root / "quarantine")]
    assert alerts.main([*args, "--checkpoints", str(root / "checkpoints"), "--readings", str(root / "readings")]) == 0


def compute(output, day) -> None:
    assert main(["--readings", str(output.parent / "readings"), "--output", str(output), "--day", day.isoformat()]) == 0


def run(source, output, day):
    ingest(source, output.parent)
    compute(output, day)


def test_every_day_equals_the_oracle(spark, local_pipeline, data_dir):
    """The session's run (tests/conftest.py): the whole data set streamed, then one run a day."""
    source = data_dir / "sensordata.csv"
    got = stats_by_key(spark, local_pipeline["layout"].output("daily_stats"))
    assert_equal_to_oracle(got, oracle.daily_stats(oracle.readings(source)))
    assert {(r["resid"], r["date"]) for r in got.values()} == got.keys()
    assert len(got) == len({(row[0], row[1]) for row in oracle.read_rows(source)})


def test_a_run_replaces_its_own_day_only(spark, tmp_path, data_dir):
    source = data_dir / "sensordata.csv"
    first, second = days_in(source)[:2]
    rows = oracle.read_rows(source)
    partial = tmp_path / "partial.csv"
    partial.write_text("".join(",".join(r) + "\n" for r in rows if r[0] == rows[0][0]))  # one pump only
    run(partial, tmp_path / "stats", first)
    run(source, tmp_path / "stats", second)
    assert {k[1] for k in stats_by_key(spark, tmp_path / "stats")} == {f"{first:%-m/%-d/%y}", f"{second:%-m/%-d/%y}"}
    compute(tmp_path / "stats", first)  # the full first day replaces the partial one
    compute(tmp_path / "stats", first)  # and again: idempotent
    expected = {
        k: v
        for k, v in oracle.daily_stats(oracle.readings(source)).items()
        if k[1] in (f"{first:%-m/%-d/%y}", f"{second:%-m/%-d/%y}")
    }
    assert_equal_to_oracle(stats_by_key(spark, tmp_path / "stats"), expected)


def test_a_day_without_readings_writes_nothing(spark, tmp_path, data_dir, capsys):
    run(data_dir / "sensordata.csv", tmp_path / "stats", date(2020, 1, 1))
    assert "no readings" in capsys.readouterr().out
    assert not (tmp_path / "stats").exists()


def test_a_rerun_in_the_same_session_reads_the_files_again(spark, tmp_path, data_dir):
    """Readings of the day that arrive after a run are in the next run's statistics, even in one
    long-lived session (tests, notebooks): the job must not leave its cached result behind."""
    source = data_dir / "sensordata.csv"
    day = days_in(source)[0]
    rows = [r for r in oracle.read_rows(source) if datetime.strptime(r[1], "%m/%d/%y").date() == day]
    (tmp_path / "a.csv").write_text("".join(",".join(r) + "\n" for r in rows[: len(rows) // 2]))
    run(tmp_path / "a.csv", tmp_path / "stats", day)
    (tmp_path / "b.csv").write_text("".join(",".join(r) + "\n" for r in rows[len(rows) // 2 :]))
    run(tmp_path / "b.csv", tmp_path / "stats", day)
    expected = {k: v for k, v in oracle.daily_stats(oracle.readings(source)).items() if k[1] == f"{day:%-m/%-d/%y}"}
    assert_equal_to_oracle(stats_by_key(spark, tmp_path / "stats"), expected)


def test_every_spelling_of_the_day_counts_and_a_date_of_no_day_fails_nothing(spark, tmp_path, data_dir):
    """The job tests each raw line's date field before it parses the line (BENCHMARKS.md): a quoted or
    zero-padded date of the day still counts, and a reading whose date is no day is in no day's figures."""
    source = data_dir / "sensordata.csv"
    day = days_in(source)[0]
    rows = [r for r in oracle.read_rows(source) if datetime.strptime(r[1], "%m/%d/%y").date() == day][:30]
    spellings = [rows[0][1], f'"{rows[0][1]}"', f"{day:%m/%d/%y}"]  # as in the file, quoted, zero-padded
    lines = [",".join([r[0], spellings[i % 3], *r[2:]]) for i, r in enumerate(rows)]
    # dates of no day; the last passes the raw-line test (it holds "10/14" for 2014-03-10) and must not fail the job
    no_day = ["someday", "13/45/14", "", f"x{day.day}/{day:%y}"]
    lines += [f"P9,{text},1:00,1,1,1,1,1,1" for text in no_day]
    (tmp_path / "mixed.csv").write_text("\n".join(lines) + "\n")
    run(tmp_path / "mixed.csv", tmp_path / "stats", day)

    def of_the_day(text: str) -> bool:
        try:
            return datetime.strptime(text, "%m/%d/%y").date() == day
        except ValueError:
            return False

    all_days = oracle.daily_stats(oracle.readings(tmp_path / "mixed.csv"))
    expected = {key: stats for key, stats in all_days.items() if of_the_day(key[1])}
    assert {key[1] for key in expected} == {rows[0][1], f"{day:%m/%d/%y}"}  # grouped by the date as written
    assert_equal_to_oracle(stats_by_key(spark, tmp_path / "stats"), expected)
