"""One file drop: the readings of one slice of sensor time, written whole into the landing directory."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from include.replay import slicing
from include.settings import Layout
from include.storage import put_if_changed, storage_for

SLICE_FILE = re.compile(r"sensor_\d{8}T\d{4}_(\d+)m\.csv")


@dataclass(frozen=True)
class DropResult:
    index: int
    slices: int
    file: str | None
    rows: int

    @property
    def written(self) -> bool:
        return self.file is not None

    def message(self) -> str:
        if self.index >= self.slices:
            return f"slice {self.index}: the replay is finished (the data has {self.slices} slices)"
        if not self.written:
            return f"slice {self.index} of {self.slices}: no readings in this span, nothing dropped"
        return f"slice {self.index} of {self.slices}: {self.rows} lines dropped as {self.file}"

    def as_dict(self) -> dict:
        return asdict(self)


def slice_index_for(logical_date: datetime | None, replay_start: datetime, every: timedelta) -> int:
    """Slice of a scheduled run: how many drop intervals its logical date is past the replay start."""
    if logical_date is None:
        raise ValueError("this run has no logical date: give the slice_index param")
    # In seconds: a pendulum Interval (what Airflow's dates subtract to) cannot be floor-divided by a timedelta.
    index = int((logical_date - replay_start).total_seconds() // every.total_seconds())
    if index < 0:
        raise ValueError(f"logical date {logical_date} is before the replay start {replay_start}")
    return index


def drop(layout: Layout, index: int, slice_minutes: int) -> DropResult:
    # Slices of another span (make demo's days, then the stack's 6 hours) overlap these: harmless, the
    # readings table is keyed by reading, and the alert job counts the overlap as repeats.
    storage = storage_for(layout.root)
    lines = slicing.split_lines(storage.read_bytes(layout.sensor_source))
    plan = slicing.plan(lines, slice_minutes)
    if index >= plan.count:
        return DropResult(index, plan.count, None, 0)
    chosen = slicing.slice_lines(lines, plan, index)
    if not chosen:
        return DropResult(index, plan.count, None, 0)
    name = plan.file_name(index)
    # A re-run finds the same bytes there and writes nothing: readers never see the file change.
    put_if_changed(storage, f"{layout.stream}/{name}", slicing.encode(chosen))
    return DropResult(index, plan.count, name, len(chosen))
