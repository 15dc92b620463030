"""The data contract of a sensor reading: what a line must hold to be a reading that could be real.

A line that breaks a rule is quarantined with the first rule it breaks as its reason (in the order
below, after the CSV shape: fields, types, missing values, finite numbers). The alert job applies it
(include/spark/readings.py), so the readings table, the alerts and the daily statistics hold only
readings that meet it; testsupport/oracle.py implements it again, in plain Python, for the tests.
Plain Python, no pyspark: the README's table and the tests read the same constants.
"""

from __future__ import annotations

# resid: a pump id. A line whose newline was lost glues two readings; its id can be megabytes long.
RESID_MAX_LENGTH = 64
# Letters, digits, underscore, dot and hyphen, starting with a letter or digit (Java and Python regex).
RESID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
# time: H:MM, 0:00 to 23:59 (the hour with or without its leading zero).
TIME_PATTERN = r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$"
# date: a calendar day as M/D/YY (include.schemas.DATE_FORMAT): 2/30/14 is none.
# Every measure: a finite number within [minimum, maximum] (None: no maximum). The sensors report 0
# and up; a concentration in parts per million cannot pass a million.
MEASURE_BOUNDS: dict[str, tuple[float, float | None]] = {
    "hz": (0.0, None),
    "disp": (0.0, None),
    "flow": (0.0, None),
    "sedPPM": (0.0, 1_000_000.0),
    "psi": (0.0, None),
    "chlPPM": (0.0, 1_000_000.0),
}

# The reasons the quarantine gives, one per rule.
RESID_TOO_LONG = f"resid longer than {RESID_MAX_LENGTH} characters"
RESID_CHARACTERS = "resid is not a pump id (letters, digits, _ . -, starting with a letter or digit)"
DATE_NOT_A_DAY = "date is not a calendar day as M/D/YY"
TIME_NOT_OF_DAY = "time is not a time of day as H:MM (0:00 to 23:59)"


def number_text(value: float) -> str:
    """A bound as the reasons write it: 0, 1000000, 0.5."""
    return f"{value:g}" if value != int(value) else str(int(value))


def below_minimum(measure: str) -> str:
    return f"{measure} below its minimum {number_text(MEASURE_BOUNDS[measure][0])}"


def above_maximum(measure: str) -> str:
    return f"{measure} above its maximum {number_text(MEASURE_BOUNDS[measure][1])}"
