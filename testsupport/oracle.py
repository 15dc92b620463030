"""Independent oracle: the pipeline's expected results, in plain Python over the CSV files.

Written from the lecture's definitions, sharing no code with the pipeline (no Spark, no
include.*), so a bug there cannot hide here.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime
from pathlib import Path

MEASURES = ("hz", "disp", "flow", "sedPPM", "psi", "chlPPM")
SENSOR_COLUMNS = ("resid", "date", "time", *MEASURES)
STAT_PREFIX = {"hz": "hz", "disp": "disp", "flow": "flo", "sedPPM": "sedPPM", "psi": "psi", "chlPPM": "chlPPM"}
# The lecture's names of the daily statistics and of the enriched alert columns: the tests select these,
# so a column the jobs lose or rename fails them.
STAT_COLUMNS = tuple(f"{agg}{prefix}" for prefix in STAT_PREFIX.values() for agg in ("max", "min", "avg"))
ENRICHED_COLUMNS = (
    *("resid", "date", "time", "psi"),
    *("pumpType", "purchaseDate", "serviceDate", "vendor"),
    *("eventDate", "technician", "description"),
)


# The data contract (README's table), restated: a reading that could be real.
RESID_MAX = 64
RESID_CHARACTERS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
PPM_MAX = 1_000_000.0
UPPER = {"sedPPM": PPM_MAX, "chlPPM": PPM_MAX}


def contract_reason(resid: str, date: str, time: str, measures: dict[str, float]) -> str | None:
    """The first rule of the data contract a reading of the sensor's shape breaks (the quarantine's
    reason), or None for a reading that could be real."""
    if len(resid) > RESID_MAX:
        return f"resid longer than {RESID_MAX} characters"
    if not resid or not set(resid) <= RESID_CHARACTERS or not resid[0].isalnum() or not resid[0].isascii():
        return "resid is not a pump id (letters, digits, _ . -, starting with a letter or digit)"
    try:
        datetime.strptime(date, "%m/%d/%y")
    except ValueError:
        return "date is not a calendar day as M/D/YY"
    hour, _, minute = time.partition(":")
    if not (
        hour.isdigit() and hour.isascii() and len(hour) <= 2 and int(hour) <= 23
        and minute.isdigit() and minute.isascii() and len(minute) == 2 and int(minute) <= 59
    ):  # fmt: skip
        return "time is not a time of day as H:MM (0:00 to 23:59)"
    for name in MEASURES:
        if measures[name] < 0:
            return f"{name} below its minimum 0"
        if name in UPPER and measures[name] > UPPER[name]:
            return f"{name} above its maximum {UPPER[name]:.0f}"
    return None


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return [row for row in csv.reader(handle) if row]


def readings(path: Path) -> list[dict]:
    """Sensor rows as dicts; the measures as floats."""
    out = []
    for resid, date, time, *values in read_rows(path):
        row = {"resid": resid, "date": date, "time": time}
        row.update(zip(MEASURES, map(float, values), strict=True))
        out.append(row)
    return out


def alerts(rows: list[dict], threshold: float = 0.5) -> list[tuple]:
    """All sensor columns of each reading with psi below the threshold, sorted."""
    return sorted(tuple(r[k] for k in SENSOR_COLUMNS) for r in rows if r["psi"] < threshold)


def enriched(alert_rows: list[tuple], vendor_path: Path, maint_path: Path) -> list[tuple]:
    """(resid, date, time, psi, pumpType, purchaseDate, serviceDate, vendor, eventDate, technician,
    description) for each alert x maintenance record of its pump; None where a pump has none."""
    vendors = {row[0]: row[1:5] for row in read_rows(vendor_path)}
    maintenance = defaultdict(list)
    for resid, *event in read_rows(maint_path):
        maintenance[resid].append(tuple(event))
    out = []
    for resid, date, time, _hz, _disp, _flow, _sed, psi, _chl in alert_rows:
        vendor = tuple(vendors.get(resid, (None,) * 4))
        for event in maintenance.get(resid) or [(None,) * 3]:
            out.append((resid, date, time, psi, *vendor, *event))
    return sorted(out, key=repr)


def daily_stats(rows: list[dict]) -> dict[tuple[str, str], dict[str, float]]:
    """{(resid, date): {maxhz, minhz, avghz, ..., avgchlPPM}}."""
    groups = defaultdict(list)
    for row in rows:
        groups[(row["resid"], row["date"])].append(row)
    out = {}
    for key, group in groups.items():
        stats = {}
        for measure, prefix in STAT_PREFIX.items():
            values = [r[measure] for r in group]
            stats[f"max{prefix}"] = max(values)
            stats[f"min{prefix}"] = min(values)
            stats[f"avg{prefix}"] = sum(values) / len(values)
        out[key] = stats
    return out
