"""Has a day of sensor time fully landed? What the daily statistics wait for before they compute a day.

A day is complete once the readings table holds a reading of a later day, or the staged source's last
reading: the replay drops slices in event-time order (include/replay/file_drop.py catches up on the
slices a late run missed), so a later reading stored means every slice of the day was streamed before
it. A day without a reading in the staged source has nothing to wait for: its run is skipped with that
reason, never a green run that wrote nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from include.replay import slicing
from include.schemas import reading_time
from include.settings import Layout


@dataclass(frozen=True)
class DayState:
    ready: bool
    skip: bool  # nothing to wait for: the day is not in the data
    reason: str


def source_days(sensor_csv: bytes) -> tuple[set[date], datetime | None]:
    """The days with a reading in a sensor file, and its last reading (None for none)."""
    times = [t for t in map(slicing.event_time, slicing.split_lines(sensor_csv)) if t is not None]
    return {t.date() for t in times}, max(times, default=None)


def day_state(
    day: date, days_in_source: set[date], source_end: datetime | None, newest_stored: datetime | None
) -> DayState:
    """Whether day's statistics can be computed now (pure: the facts are arguments)."""
    if day not in days_in_source:
        span = f"{min(days_in_source)} to {max(days_in_source)}" if days_in_source else "no readable reading"
        return DayState(False, True, f"no reading dated {day} in the staged sensor data ({span}): nothing to compute")
    if newest_stored is None:
        return DayState(False, False, f"{day}: no reading stored yet; waiting for oil_file_drop and oil_streaming")
    if newest_stored >= datetime.combine(day + timedelta(days=1), datetime.min.time()) or newest_stored >= source_end:
        return DayState(True, False, f"{day}: every reading has landed (newest stored: {newest_stored:%Y-%m-%d %H:%M})")
    return DayState(
        False, False, f"{day}: the replay has reached {newest_stored:%Y-%m-%d %H:%M}; waiting for the rest of the day"
    )


def newest_stored_reading(readings_table: str) -> datetime | None:
    """The latest reading in the readings table (Delta, partitioned by day): only its newest day is read."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        table = DeltaTable(readings_table)
    except TableNotFoundError:
        return None
    days = [part["day"] for part in table.partitions()]
    if not days:
        return None
    import pyarrow as pa
    import pyarrow.dataset as pads

    dataset = table.to_pyarrow_dataset()
    newest_day = pa.scalar(max(days)).cast(dataset.schema.field("day").type)  # a partition value is text
    rows = dataset.to_table(columns=["date", "time"], filter=pads.field("day") == newest_day).to_pylist()
    return max((reading_time(row["date"], row["time"]) for row in rows), default=None)


def state_of(layout: Layout, day: date) -> DayState:
    """day_state over the staged sensor file and the readings table of a storage root."""
    from include.storage import storage_for

    storage = storage_for(layout.root)
    if not storage.exists(layout.sensor_source):
        return DayState(False, True, f"nothing staged at {layout.sensor_source}: run oil_stage (make airflow-trigger)")
    days, end = source_days(storage.read_bytes(layout.sensor_source))
    return day_state(day, days, end, newest_stored_reading(layout.output("readings")))
