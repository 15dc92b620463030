"""The data contract (include/contract.py, README's table): a line that could not be a real reading is
quarantined with the first rule it breaks; readings on the bounds stay readings. Each rule against the
plain-Python oracle (testsupport/oracle.py restates the contract): the reason, the alerts, the summary.
The quarantine keeps each line's own bytes: a Latin-1 line is rebuilt from it exactly."""

from __future__ import annotations

import pytest

from tests.reliability.test_bad_input import summaries
from tests.spark_jobs.test_alerts import rows, run
from testsupport import oracle

# Readings on the contract's edges: each one a valid reading.
ON_THE_EDGES = [
    b"P1,3/10/14,0:00,0,0,0,0,0,0",
    b"P1,3/10/14,23:59,10,1.7,881,1000000,0.4,1000000",
    b"P1,2/29/16,01:05,10,1.7,881,1.5,85,1.9",  # a leap day; an hour with its leading zero
    b"P-1_a.B,3/10/14,1:06,10,1.7,881,1.5,0.2,1.9",
    b"X" * 64 + b",3/10/14,1:07,10,1.7,881,1.5,85,1.9",
]
# One line per rule, with the reason the quarantine gives.
BROKEN = {
    b"X" * 65 + b",3/10/14,1:01,10,1.7,881,1.5,0.1,1.9": "resid longer than 64 characters",
    # a line whose newline was lost, five million characters long in its first field
    b"Q" * 5_000_000 + b",3/10/14,1:01,10,1.7,881,1.5,0.1,1.9": "resid longer than 64 characters",
    b"P 1,3/10/14,1:01,10,1.7,881,1.5,0.1,1.9": (
        "resid is not a pump id (letters, digits, _ . -, starting with a letter or digit)"
    ),
    b"-P1,3/10/14,1:01,10,1.7,881,1.5,0.1,1.9": (
        "resid is not a pump id (letters, digits, _ . -, starting with a letter or digit)"
    ),
    b"P1,2/30/14,1:01,10,1.7,881,1.5,0.1,1.9": "date is not a calendar day as M/D/YY",
    b"P1,2014-03-10,1:01,10,1.7,881,1.5,0.1,1.9": "date is not a calendar day as M/D/YY",
    b"P1,3/10/14,24:00,10,1.7,881,1.5,0.1,1.9": "time is not a time of day as H:MM (0:00 to 23:59)",
    b"P1,3/10/14,1:60,10,1.7,881,1.5,0.1,1.9": "time is not a time of day as H:MM (0:00 to 23:59)",
    b"P1,3/10/14,noon,10,1.7,881,1.5,0.1,1.9": "time is not a time of day as H:MM (0:00 to 23:59)",
    b"P1,3/10/14,1:01,10,1.7,881,1.5,-0.1,1.9": "psi below its minimum 0",
    b"P1,3/10/14,1:01,10,1.7,-881,1.5,-0.1,1.9": "flow below its minimum 0",  # the first, in column order
    b"P1,3/10/14,1:01,10,1.7,881,1000001,0.1,1.9": "sedPPM above its maximum 1000000",
}


def oracle_outcome(line: bytes) -> tuple[tuple | None, str | None]:
    """(reading, None) or (None, reason) for a line of the sensor's shape, by the oracle's contract."""
    resid, date, time, *values = line.decode().split(",")  # no quotes here
    measures = dict(zip(oracle.MEASURES, map(float, values), strict=True))
    reason = oracle.contract_reason(resid, date, time, measures)
    return (None, reason) if reason else ((resid, date, time, *measures.values()), None)


def test_the_oracle_agrees_with_the_table_of_rules():
    assert all(oracle_outcome(line)[1] is None for line in ON_THE_EDGES)
    assert {line: oracle_outcome(line)[1] for line in BROKEN} == BROKEN


def test_every_rule_of_the_contract_quarantines_with_its_reason(spark, tmp_path, capsys):
    lines = [*ON_THE_EDGES, *BROKEN]
    (tmp_path / "stream").mkdir()
    (tmp_path / "stream" / "contract.csv").write_bytes(b"\n".join(lines) + b"\n")
    run(tmp_path)

    readings = [reading for reading, _ in map(oracle_outcome, lines) if reading is not None]
    reasons = sorted((line.decode(), oracle_outcome(line)[1]) for line in lines if oracle_outcome(line)[1])
    alerts = sorted(reading for reading in readings if reading[7] < 0.5)
    assert summaries(capsys.readouterr().out) == [
        {
            "lines_read": len(lines),
            "readings_valid": len(readings),
            "alerts_written": len(alerts),
            "lines_quarantined": len(reasons),
        }
    ]
    assert (len(readings), len(alerts), len(reasons)) == (5, 3, 12)
    assert rows(spark, tmp_path / "alerts", oracle.SENSOR_COLUMNS) == alerts
    assert rows(spark, tmp_path / "quarantine", ["raw_line", "reason"]) == reasons


@pytest.mark.parametrize("ending", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_a_latin1_line_is_rebuilt_from_the_quarantine_bytes(spark, tmp_path, ending):
    latin1 = "Pompe-Élysée,3/10/14,1:01,10,1.7,881,1.5,0.1,1.9".encode("latin-1")
    (tmp_path / "stream").mkdir()
    (tmp_path / "stream" / "latin1.csv").write_bytes(ON_THE_EDGES[0] + ending + latin1 + ending)
    run(tmp_path)

    ((raw_line, raw_bytes, reason),) = rows(spark, tmp_path / "quarantine", ["raw_line", "raw_bytes", "reason"])
    assert reason == "not valid UTF-8"
    assert bytes(raw_bytes) == latin1  # the original bytes; the text shows the replacement character
    assert raw_line == latin1.decode("utf-8", "replace")
