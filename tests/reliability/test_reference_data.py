"""Reference data problems give a clear message and a defined result, never a silent loss of alerts:
a pump missing from the vendor file or without maintenance is kept with nulls, maintenance rows of
an unknown pump are reported, a missing reference file fails the run naming it and consumes nothing, and
so does a file that cannot be trusted (naming its line), until the corrected one is staged."""

from __future__ import annotations

import re

import pytest

from include.schemas import SENSOR, VENDOR, spark_schema
from spark_jobs.enrich_alerts import main
from testsupport import oracle

ALERTS = [
    ("P1", "3/10/14", "1:01", 10.0, 1.7, 881.0, 1.5, 0.0, 1.9),
    ("P2", "3/10/14", "1:02", 10.0, 1.7, 881.0, 1.5, 0.2, 1.9),  # in the vendor file, no maintenance
    ("P3", "3/11/14", "2:02", 10.0, 1.7, 881.0, 1.5, 0.3, 1.9),  # in no reference file
    ("P9", "3/11/14", "2:03", 10.0, 1.7, 881.0, 1.5, 0.4, 1.9),  # maintenance only
]
VENDOR_LINES = [
    "P1,HYDROPUMP,11/27/10,3/15/11,HYDROCAM,29.6,-91.1",
    "P2,HYDROPUMP,5/25/08,9/26/09,GENPUMP,29.6,-91.1",
]
MAINT_LINES = [
    "P1,3/15/11,J.Thomas,Install",
    "P1,2/20/12,J.Thomas,Inspection",
    "P9,1/1/12,T.LaBou,Install",  # a pump the vendor file does not know
    "P8,1/2/12,T.LaBou,Install",  # ... and one with no alert either
]
COUNTS = re.compile(r"rows_without_maintenance (\d+), rows_without_vendor (\d+), rows_written (\d+)")


def setup(spark, tmp_path) -> list[str]:
    """Alerts as the alert job writes them, the two reference files; the job's arguments."""
    spark.createDataFrame(ALERTS, spark_schema(SENSOR)).write.format("delta").save(str(tmp_path / "alerts"))
    (tmp_path / "sensorvendor.csv").write_text("".join(f"{line}\n" for line in VENDOR_LINES))
    (tmp_path / "sensormaint.csv").write_text("".join(f"{line}\n" for line in MAINT_LINES))
    return [
        *("--alerts", str(tmp_path / "alerts"), "--output", str(tmp_path / "enriched")),
        *("--vendor", str(tmp_path / "sensorvendor.csv"), "--maint", str(tmp_path / "sensormaint.csv")),
        *("--checkpoint", str(tmp_path / "checkpoint")),
    ]


def enriched_rows(spark, tmp_path) -> list[tuple]:
    return sorted(
        map(
            tuple,
            spark.read.format("delta").load(str(tmp_path / "enriched")).select(*oracle.ENRICHED_COLUMNS).collect(),
        ),
        key=repr,
    )


def test_gaps_in_the_reference_files_keep_every_alert_with_nulls_and_say_so(spark, tmp_path, capsys):
    assert main(setup(spark, tmp_path)) == 0
    expected = oracle.enriched(ALERTS, tmp_path / "sensorvendor.csv", tmp_path / "sensormaint.csv")
    assert enriched_rows(spark, tmp_path) == expected
    assert {row[0] for row in expected} == {"P1", "P2", "P3", "P9"}  # no alert lost
    out = capsys.readouterr().out
    assert "reference data: 2 pumps in the vendor file, 4 maintenance rows" in out
    assert "WARNING: 2 maintenance rows for pumps not in the vendor file: ['P8', 'P9']" in out
    without_maintenance = sum(row[8] is None for row in expected)
    without_vendor = sum(row[7] is None for row in expected)
    assert (without_maintenance, without_vendor, len(expected)) == (2, 2, 5)
    assert COUNTS.findall(out) == [(str(without_maintenance), str(without_vendor), str(len(expected)))]


# Reference files that cannot be trusted: (file, its content, the line the job prints on stderr).
UNTRUSTED = {
    "wrong-field-count": (
        "sensorvendor.csv",
        [VENDOR_LINES[0], "P2,HYDROPUMP,5/25/08,9/26/09,GENPUMP,29.6"],
        "sensorvendor.csv: line 2: has 6 fields, expected 7 (resid,pumpType,purchaseDate,serviceDate,vendor,"
        "longitude,latitude)",
    ),
    "date-not-a-date": (
        "sensormaint.csv",
        ["P1,3/35/11,J.Thomas,Install", *MAINT_LINES[1:]],
        "sensormaint.csv: line 1: eventDate '3/35/11' is not a date as M/D/YY",
    ),
    "not-a-number": (
        "sensorvendor.csv",
        [VENDOR_LINES[0], "P2,HYDROPUMP,5/25/08,9/26/09,GENPUMP,north,-91.1"],
        "sensorvendor.csv: line 2: longitude 'north' is not a number",
    ),
    "pump-listed-twice": (
        "sensorvendor.csv",
        [*VENDOR_LINES, "P1,HYDROPUMP,1/1/12,1/1/13,OTHER,29.6,-91.1"],
        "sensorvendor.csv: line 3: pump P1 is listed again (first on line 1)",
    ),
}


def fails_naming_the_line(spark, tmp_path, capsys, case: str) -> list[str]:
    """The job's arguments, after a run on the untrusted file of case failed as it should."""
    name, lines, message = UNTRUSTED[case]
    args = setup(spark, tmp_path)
    (tmp_path / name).write_text("".join(f"{line}\n" for line in lines))
    assert main(args) == 2
    assert capsys.readouterr().err.splitlines()[0] == f"enrich_alerts: {tmp_path}/{message}"
    assert not (tmp_path / "checkpoint").exists() and not (tmp_path / "enriched").exists()  # nothing consumed
    return args


@pytest.mark.parametrize("case", UNTRUSTED, ids=list(UNTRUSTED))
def test_an_untrusted_reference_file_fails_naming_its_line(spark, tmp_path, capsys, case):
    fails_naming_the_line(spark, tmp_path, capsys, case)


def test_staging_the_corrected_file_heals_the_enrichment(spark, tmp_path, capsys):
    good = "".join(f"{line}\n" for line in VENDOR_LINES)
    args = fails_naming_the_line(spark, tmp_path, capsys, "pump-listed-twice")
    (tmp_path / "sensorvendor.csv").write_text(good)  # the corrected file is staged: every alert is enriched
    assert main(args) == 0
    assert enriched_rows(spark, tmp_path) == oracle.enriched(
        ALERTS, tmp_path / "sensorvendor.csv", tmp_path / "sensormaint.csv"
    )


def test_a_cut_last_line_fails_the_run(spark, tmp_path, capsys):
    args = setup(spark, tmp_path)
    maint = tmp_path / "sensormaint.csv"
    maint.write_bytes(maint.read_bytes()[:-12])  # a copy stopped in the last line
    assert main(args) == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        f"enrich_alerts: {maint}: line 4: the last line has no line ending: the file is cut short (stage it again)"
    )


def test_a_header_maps_the_columns_by_name_in_any_order(spark, tmp_path):
    args = setup(spark, tmp_path)
    canonical = tmp_path / "canonical.csv"
    canonical.write_text("".join(f"{line}\n" for line in VENDOR_LINES))
    order = [6, 4, 0, 2, 1, 3, 5]  # latitude, vendor, resid, purchaseDate, pumpType, serviceDate, longitude
    names = [name for name, _ in VENDOR]
    shuffled = [",".join(names[i] for i in order)] + [
        ",".join(line.split(",")[i] for i in order) for line in VENDOR_LINES
    ]
    (tmp_path / "sensorvendor.csv").write_text("".join(f"{line}\n" for line in shuffled))
    assert main(args) == 0
    assert enriched_rows(spark, tmp_path) == oracle.enriched(ALERTS, canonical, tmp_path / "sensormaint.csv")


@pytest.mark.parametrize("missing", ["sensorvendor.csv", "sensormaint.csv"])
def test_a_missing_reference_file_fails_naming_it_and_loses_no_alert(spark, tmp_path, capsys, missing):
    args = setup(spark, tmp_path)
    content = (tmp_path / missing).read_bytes()
    (tmp_path / missing).unlink()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"reference file missing: {tmp_path / missing}" in err
    assert not (tmp_path / "checkpoint").exists() and not (tmp_path / "enriched").exists()  # nothing consumed

    (tmp_path / missing).write_bytes(content)  # staged again: the next run enriches every alert
    assert main(args) == 0
    assert enriched_rows(spark, tmp_path) == oracle.enriched(
        ALERTS, tmp_path / "sensorvendor.csv", tmp_path / "sensormaint.csv"
    )
