"""The generated sample: deterministic, and of the real data set's shape."""

from __future__ import annotations

import csv

from include import settings
from include.replay.sample_data import generate


def test_same_seed_same_bytes(tmp_path):
    first, second = generate(tmp_path / "a"), generate(tmp_path / "b")
    for name in (settings.SENSOR_FILE, settings.VENDOR_FILE, settings.MAINT_FILE):
        assert (first / name).read_bytes() == (second / name).read_bytes()


def test_shape_of_the_real_data(tmp_path):
    out = generate(tmp_path)
    rows = list(csv.reader((out / settings.SENSOR_FILE).open()))
    assert all(len(row) == 9 for row in rows)
    pumps = {row[0] for row in rows}
    assert len(pumps) == 10
    assert len({row[1] for row in rows}) >= 3
    per_pump_day = len(rows) / (len(pumps) * len({row[1] for row in rows}))
    assert 800 < per_pump_day < 1100  # a reading about every 1.5 minutes
    assert sum(float(row[7]) < 0.5 for row in rows) > 100  # episodes of low pressure
    vendors = {row[0] for row in csv.reader((out / settings.VENDOR_FILE).open())}
    maintained = {row[0] for row in csv.reader((out / settings.MAINT_FILE).open())}
    assert vendors == maintained == pumps
