"""Independent oracle: the pipeline's expected results, in plain Python over the CSV files.

Written from the lecture's definitions, sharing no code with the pipeline (no Spark, no
include.*), so a bug there cannot hide here.
"""

from __future__ import annotations

import csv
from collections import defaultdict
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
