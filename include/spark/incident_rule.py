"""The incident rule over one pump's readings, in plain Python: what the incidents job applies to each pump in
each micro-batch, carrying a small state from one batch to the next (Spark keeps it in the checkpoint).

An incident opens at the pump's first reading below the threshold when none is open. It resolves at a reading
at or above the threshold taken at least CLEAR minutes after the first of an unbroken run of such readings;
`resolved_at` is the time of that first reading. A low reading before then keeps it open; the data ending keeps
it open. Readings are applied in event-time order: one older than the newest reading already applied for its
pump is late (the pump's own watermark). It is returned as such, not applied: applying it would rewrite what
was already decided (and mailed), and any batching of a feed in event-time order has none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import astuple, dataclass, field
from datetime import datetime, timedelta


@dataclass
class Incident:
    opened_at: datetime
    low_readings: int
    min_psi: float
    last_reading_at: datetime
    resolved_at: datetime | None = None


@dataclass
class PumpState:
    """What a pump's next readings need: its newest applied reading, its open incident, its run of good readings."""

    last_at: datetime | None = None
    open: Incident | None = None
    recovering_since: datetime | None = None  # first reading of the unbroken run at or above the threshold

    def as_row(self) -> tuple:
        """A flat tuple (Spark's state is a row: no nested dataclasses)."""
        incident = astuple(self.open)[:4] if self.open else (None, None, None, None)
        return (self.last_at, *incident, self.recovering_since)

    @classmethod
    def from_row(cls, row: tuple) -> PumpState:
        last_at, opened_at, low_readings, min_psi, last_reading_at, recovering_since = row
        incident = Incident(opened_at, low_readings, min_psi, last_reading_at) if opened_at is not None else None
        return cls(last_at, incident, recovering_since)


STATE_FIELDS = ("last_at", "opened_at", "low_readings", "min_psi", "last_reading_at", "recovering_since")


@dataclass
class Applied:
    """What a batch of one pump's readings did: the incidents it opened, changed or resolved, and its late readings."""

    state: PumpState
    incidents: list[Incident] = field(default_factory=list)
    late: list[tuple[datetime, float]] = field(default_factory=list)


def apply(
    state: PumpState, readings: Iterable[tuple[datetime, float]], threshold: float, clear_minutes: float
) -> Applied:
    """Apply one pump's new readings (at, psi), in any order, to its state."""
    clear = timedelta(minutes=clear_minutes)
    result = Applied(state)
    touched: dict[datetime, Incident] = {}
    if state.open is not None:
        touched[state.open.opened_at] = state.open
    changed = False
    for at, psi in sorted(readings):
        if state.last_at is not None and at <= state.last_at:
            result.late.append((at, psi))
            continue
        changed, state.last_at = True, at
        incident = state.open
        if psi < threshold:
            if incident is None:
                incident = state.open = Incident(at, 0, psi, at)
                touched[at] = incident
            incident.low_readings += 1
            incident.min_psi = min(incident.min_psi, psi)
            incident.last_reading_at = at
            state.recovering_since = None
        elif incident is not None:
            incident.last_reading_at = at
            state.recovering_since = state.recovering_since or at
            if at - state.recovering_since >= clear:
                incident.resolved_at = state.recovering_since
                state.open, state.recovering_since = None, None
    result.incidents = list(touched.values()) if changed else []
    return result
