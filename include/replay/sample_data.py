"""Deterministic sample of the oil-pump data, for machines without the real data set.

Same files, columns and formats as the MapR course data: ``sensordata.csv`` (no header,
sorted by pump then time, a reading about every 1.5 minutes), ``sensorvendor.csv`` and
``sensormaint.csv``. Two pumps have episodes of zero pressure, so the alert job has work.

    python -m include.replay.sample_data [OUT_DIR]
"""

from __future__ import annotations

import csv
import random
import sys
from datetime import date, timedelta
from pathlib import Path

from include import settings
from include.schemas import format_date

PUMPS = (
    # resid, vendor, purchase, service, longitude, latitude
    ("COHUTTA", "HYDROCAM", "11/27/10", "3/15/11", 29.687276, -91.162492),
    ("NANTAHALLA", "HYDROCAM", "11/27/10", "3/15/11", 29.687128, -91.162499),
    ("THERMALITO", "GENPUMP", "5/25/08", "9/26/09", 29.687276, -91.162492),
    ("BUTTE", "GENPUMP", "5/25/08", "9/26/09", 29.686929, -91.1625),
    ("CARGO", "GENPUMP", "5/25/08", "9/26/09", 29.683147, -91.145448),
    ("LAGNAPPE", "GENPUMP", "5/25/08", "9/26/09", 29.683124, -91.145471),
    ("CHER", "GENPUMP", "5/25/08", "9/26/09", 29.683167, -91.145427),
    ("ANDOUILLE", "GENPUMP", "5/25/08", "9/26/09", 29.683187, -91.145408),
    ("MOJO", "XYLO", "4/25/11", "6/20/11", 29.66975, -91.13223),
    ("BBKING", "XYLO", "4/25/11", "6/20/11", 29.669723, -91.132278),
)
# Pumps whose pressure drops to 0 for a while, and in which minutes of the day.
LOW_PRESSURE_EPISODES = {"NANTAHALLA": (300, 1100), "LAGNAPPE": (1200, 1330)}
FIRST_DAY = date(2014, 3, 10)
DAYS = 3
TECHNICIANS = ("J.Thomas", "T.LaBou", "W.Stevens", "D.Pitre")
DESCRIPTIONS = ("Inspection", "Tighten Mounts", "Vibration", "Cleaning", "Pressure")


def sensor_rows(rng: random.Random) -> list[list[str]]:
    rows = []
    for resid, *_ in PUMPS:
        for offset in range(DAYS):
            day = FIRST_DAY + timedelta(days=offset)
            minute = 61
            while minute < 24 * 60:
                low = LOW_PRESSURE_EPISODES.get(resid)
                psi = 0 if low and offset == 1 and low[0] <= minute < low[1] else rng.randint(75, 100)
                rows.append(
                    [
                        resid,
                        format_date(day),
                        f"{minute // 60}:{minute % 60:02d}",
                        f"{rng.uniform(9.5, 10.6):.2f}",
                        f"{rng.uniform(0.9, 1.8):.3f}",
                        str(rng.randint(850, 1100)),
                        f"{rng.uniform(0.2, 2.0):.2f}",
                        str(psi),
                        f"{rng.uniform(0.5, 2.0):.2f}",
                    ]
                )
                minute += rng.choice((1, 2))
    return rows


def maint_rows(rng: random.Random) -> list[list[str]]:
    rows = []
    for resid, _vendor, _purchase, service, *_ in PUMPS:
        rows.append([resid, service, rng.choice(TECHNICIANS), "Install"])
        for year in range(12, 15):
            month = rng.randint(1, 2 if year == 14 else 12)
            rows.append(
                [resid, f"{month}/{rng.randint(1, 28)}/{year}", rng.choice(TECHNICIANS), rng.choice(DESCRIPTIONS)]
            )
    return rows


def write_csv(path: Path, rows: list[list[object]]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    tmp.replace(path)  # appear whole


def generate(out_dir: Path, seed: int = 2014) -> Path:
    """Write the three sample files into out_dir (same seed, same bytes) and return it."""
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(out_dir / settings.SENSOR_FILE, sensor_rows(rng))
    vendors = [
        [resid, "HYDROPUMP", bought, serviced, vendor, lon, lat] for resid, vendor, bought, serviced, lon, lat in PUMPS
    ]
    write_csv(out_dir / settings.VENDOR_FILE, vendors)
    write_csv(out_dir / settings.MAINT_FILE, maint_rows(rng))
    return out_dir


def ensure_data_dir(data_dir: Path = settings.DATA_DIR) -> Path:
    """The input folder, generating the sample when it is the (absent) default."""
    if data_dir == settings.SAMPLE_DATA_DIR and not (data_dir / settings.SENSOR_FILE).exists():
        generate(data_dir)
    missing = [
        name
        for name in (settings.SENSOR_FILE, settings.VENDOR_FILE, settings.MAINT_FILE)
        if not (data_dir / name).is_file()
    ]
    if missing:
        raise FileNotFoundError(f"OIL_DATA_DIR={data_dir} lacks {', '.join(missing)}")
    return data_dir


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else settings.SAMPLE_DATA_DIR
    print(f"sample written to {generate(target)}")
