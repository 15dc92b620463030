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
    """Slice of a scheduled run: how many drop intervals its logical date is past the replay start
    (negative for a run before it)."""
    if logical_date is None:
        raise ValueError("this run has no logical date: give the slice_index param")
    # In seconds: a pendulum Interval (what Airflow's dates subtract to) cannot be floor-divided by a timedelta.
    return int((logical_date - replay_start).total_seconds() // every.total_seconds())


def drop(layout: Layout, index: int, slice_minutes: int) -> DropResult:
    """Drop slice index (again: a re-run finds the same bytes there and writes nothing)."""
    return Replay(layout, slice_minutes).drop(index)


def drop_through(layout: Layout, index: int, slice_minutes: int) -> list[DropResult]:
    """What a scheduled run drops: slice index, after every earlier slice not in the landing directory
    yet (runs the scheduler skipped, or a replay started late), in order, so the feed stays in
    event-time order and no slice is lost."""
    replay = Replay(layout, slice_minutes)
    landed = set(replay.storage.list_names(layout.stream)) if replay.storage.exists(layout.stream) else set()
    missed = [i for i in range(min(index, replay.plan.count)) if replay.plan.file_name(i) not in landed]
    return [replay.drop(i) for i in missed] + [replay.drop(index)]


class Replay:
    """The staged sensor file, cut into slices of one span: read once for any number of drops."""

    def __init__(self, layout: Layout, slice_minutes: int) -> None:
        # Slices of another span (make demo's days, then the stack's 6 hours) overlap these: harmless, the
        # readings table is keyed by reading, and the alert job counts the overlap as repeats.
        self.layout = layout
        self.storage = storage_for(layout.root)
        self.lines = slicing.split_lines(self.storage.read_bytes(layout.sensor_source))
        self.plan = slicing.plan(self.lines, slice_minutes)

    def drop(self, index: int) -> DropResult:
        if index >= self.plan.count:
            return DropResult(index, self.plan.count, None, 0)
        chosen = slicing.slice_lines(self.lines, self.plan, index)
        if not chosen:
            return DropResult(index, self.plan.count, None, 0)
        name = self.plan.file_name(index)
        # A re-run finds the same bytes there and writes nothing: readers never see the file change.
        put_if_changed(self.storage, f"{self.layout.stream}/{name}", slicing.encode(chosen))
        return DropResult(index, self.plan.count, name, len(chosen))
