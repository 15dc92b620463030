"""Cut the sensor file into slices of sensor (event) time, for the file-drop DAG.

The file is sorted by pump, then time; a replay in event-time order must interleave the pumps,
so slice k holds every line whose reading falls in
``[origin + k * span, origin + (k + 1) * span)``, origin being midnight of the first day.
Lines are kept byte for byte (any encoding problem is for the streaming job to quarantine).
A line whose date or time cannot be read has no slice of its own: it travels in slice 0, so it
reaches the streaming job's quarantine instead of vanishing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from include.schemas import reading_time

ENCODING = "utf-8"
ERRORS = "surrogateescape"  # keep undecodable bytes as they are


def event_time(line: str) -> datetime | None:
    """Reading time of one CSV line (date like 3/10/14, time like 1:01), or None if unreadable."""
    fields = line.split(",", 3)
    if len(fields) < 4:
        return None
    try:
        return reading_time(fields[1], fields[2])
    except ValueError:
        return None


@dataclass(frozen=True)
class SlicePlan:
    origin: datetime
    span: timedelta
    count: int

    def window(self, index: int) -> tuple[datetime, datetime]:
        start = self.origin + index * self.span
        return start, start + self.span

    def file_name(self, index: int) -> str:
        """Name of slice index's file: its window and span, so re-dropping rewrites the same name."""
        start, _ = self.window(index)
        return f"sensor_{start:%Y%m%dT%H%M}_{int(self.span.total_seconds() // 60)}m.csv"


def split_lines(data: bytes) -> list[str]:
    """Lines of a file, line endings kept; a byte-order mark is an encoding marker, not data."""
    text = data.decode(ENCODING, ERRORS).removeprefix("\ufeff")
    lines = [line + "\n" for line in text.split("\n")]  # only \n ends a line, as for Spark
    if lines[-1] == "\n":
        lines.pop()  # the file ended with a line break
    return lines


def plan(lines: list[str], slice_minutes: int) -> SlicePlan:
    if slice_minutes < 1:
        raise ValueError(f"slice span must be at least 1 minute, got {slice_minutes}")
    span = timedelta(minutes=slice_minutes)
    times = [t for t in map(event_time, lines) if t is not None]
    if not times:
        return SlicePlan(datetime(1970, 1, 1), span, 1 if lines else 0)
    origin = min(times).replace(hour=0, minute=0)
    return SlicePlan(origin, span, math.floor((max(times) - origin) / span) + 1)


def slice_of(line: str, slice_plan: SlicePlan) -> int:
    """Index of the slice a line belongs to; an unreadable line goes with slice 0."""
    when = event_time(line)
    return 0 if when is None else (when - slice_plan.origin) // slice_plan.span


def slice_lines(lines: list[str], slice_plan: SlicePlan, index: int) -> list[str]:
    """The lines of slice index, in file order."""
    return [line for line in lines if slice_of(line, slice_plan) == index]


def encode(lines: list[str]) -> bytes:
    return "".join(lines).encode(ENCODING, ERRORS)
