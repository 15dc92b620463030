"""What the pump monitor (plugins/pump_monitor.py) shows, read from the pipeline's Delta tables.

No Spark: the tables are read with ``deltalake`` (delta-rs) through their transaction log, which
opens a local root and an HDFS root (hdfs://, the NameNode's RPC port) alike; the landing
directory is listed through the storage seam (include/storage/). The Airflow api-server imports
this module.

- ``MonitorData(root)`` reads the tables under a storage root. Each table is read again only when
  its version (the log's latest commit) changes, so a page view costs a look at each log.
- The functions below it are pure, over rows (dicts): what each endpoint returns.
"""

from __future__ import annotations

import csv
import io
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from include import settings
from include.replay import slicing
from include.replay.file_drop import SLICE_FILE
from include.schemas import INCIDENT_COLUMNS, parse_date, reading_time
from include.settings import Layout
from include.storage import Storage, storage_for
from include.wording import first_line, plural

ALERT_COLUMNS = ("resid", "date", "time", "psi")
ENRICHED_COLUMNS = ("resid", "pumpType", "vendor", "eventDate", "technician", "description")
DAILY_COLUMNS = ("resid", "date", "minpsi", "avgpsi", "maxpsi")
RUN_COLUMNS = ("finished_at", "micro_batches", "lines_read", "alerts_written", "lines_quarantined")
INCIDENT_SHOWN = tuple(name for name in INCIDENT_COLUMNS if name not in ("updated_at", "reference_version"))


def hidden(name: str) -> bool:
    """Names Spark and Hadoop keep to themselves: _SUCCESS, _spark_metadata, .crc files, files in progress."""
    return name.startswith(("_", "."))


# ---- pure functions -----------------------------------------------------------------------------
def event_time(date: str, time: str) -> datetime:
    """A reading's time: date M/D/YY, time H:MM (UTC, as the pipeline's session time zone)."""
    return reading_time(date, time).replace(tzinfo=timezone.utc)


def day_of(date: str) -> str:
    """ISO day of a M/D/YY date."""
    return parse_date(date).isoformat()


def alert_counts(alerts: list[dict]) -> dict[str, int]:
    """Alerts per pump, most first."""
    return dict(Counter(row["resid"] for row in alerts).most_common())


def pump_details(enriched: list[dict]) -> dict[str, dict]:
    """Per pump: type, vendor and its maintenance events, newest first, from the enriched alerts
    (one row per alert and maintenance record)."""
    pumps: dict[str, dict] = {}
    events: dict[str, set] = defaultdict(set)
    for row in enriched:
        pumps.setdefault(row["resid"], {"pumpType": row["pumpType"], "vendor": row["vendor"]})
        if row["eventDate"]:
            events[row["resid"]].add((row["eventDate"], row["technician"], row["description"]))
    for resid, pump in pumps.items():
        newest = sorted(events[resid], key=lambda e: (parse_date(e[0]), e), reverse=True)
        pump["maintenance"] = [
            {"eventDate": date, "technician": technician, "description": description}
            for date, technician, description in newest
        ]
    return pumps


def newest_first(alerts: list[dict]) -> list[dict]:
    """Alerts newest first (then by pump), each with its ISO time."""
    timed = [{**row, "at": event_time(row["date"], row["time"])} for row in alerts]
    timed.sort(key=lambda row: (row["at"], row["resid"]), reverse=True)
    return [
        {"resid": row["resid"], "time": row.pop("at").isoformat(), "date": row["date"], "psi": row["psi"]}
        for row in timed
    ]


def latest_alerts(
    newest: list[dict], details: dict[str, dict], limit: int, resid: str | None, events: int
) -> list[dict]:
    """The first `limit` of the newest alerts (of one pump, or of all), each with its pump's type, vendor
    and latest `events` maintenance events; null and none for a pump whose alerts are not enriched yet."""
    chosen = newest if resid is None else [row for row in newest if row["resid"] == resid]
    out = []
    for row in chosen[:limit]:
        pump = details.get(row["resid"], {"pumpType": None, "vendor": None, "maintenance": []})
        out.append({**row, **pump, "maintenance": pump["maintenance"][:events]})
    return out


def alert_days(alerts: list[dict]) -> Counter:
    """Alerts per (pump, ISO day)."""
    return Counter((row["resid"], day_of(row["date"])) for row in alerts)


def daily_psi(daily: list[dict], alerts_per_day: Counter, resid: str) -> list[dict]:
    """One pump's days: min, avg and max psi (daily statistics) and its alerts that day, by day."""
    days: dict[str, dict] = {}
    for row in daily:
        if row["resid"] == resid:
            days[day_of(row["date"])] = {"min": row["minpsi"], "avg": row["avgpsi"], "max": row["maxpsi"]}
    for pump, day in alerts_per_day:
        if pump == resid and day not in days:  # alerts of a day whose statistics are not computed yet
            days[day] = {"min": None, "avg": None, "max": None}
    return [{"day": day, **days[day], "alerts": alerts_per_day.get((resid, day), 0)} for day in sorted(days)]


def newest_reading(sensor_csv: bytes) -> datetime | None:
    """The latest reading time in a sensor CSV file (lines that do not parse are not readings)."""
    newest = None
    for row in csv.reader(io.StringIO(sensor_csv.decode(errors="replace"))):
        try:
            moment = event_time(row[1], row[2])
        except (IndexError, ValueError):
            continue
        newest = moment if newest is None or moment > newest else newest
    return newest


def utc(moment: datetime) -> datetime:
    """A Delta timestamp is a UTC instant; say so whether or not the reader attached the zone."""
    return moment.replace(tzinfo=timezone.utc)


def last_run(runs: list[dict]) -> dict | None:
    """The alert job's latest run: when it finished, micro-batches, lines in, alerts out."""
    if not runs:
        return None
    run = dict(max(runs, key=lambda r: r["finished_at"]))
    run["finished_at"] = utc(run["finished_at"]).isoformat()
    return run


def incident(row: dict) -> dict:
    """A row of the incidents table as the monitor shows it: it lasts until it resolved or, still open, until
    its pump's last reading."""
    opened, last_reading = utc(row["opened_at"]), utc(row["last_reading_at"])
    resolved = row["resolved_at"] and utc(row["resolved_at"])
    seconds = ((resolved or last_reading) - opened).total_seconds()
    maintenance = {
        "eventDate": row["maintenance_date"],
        "technician": row["technician"],
        "description": row["maintenance"],
    }
    return {
        "incident_id": row["incident_id"],
        "resid": row["resid"],
        "open": resolved is None,
        "opened_at": opened.isoformat(),
        "resolved_at": resolved and resolved.isoformat(),
        "last_reading_at": last_reading.isoformat(),
        "duration_seconds": round(seconds),
        "duration": duration(seconds) + ("" if resolved else ", still open"),
        "low_readings": row["low_readings"],
        "min_psi": row["min_psi"],
        "pumpType": row["pumpType"],
        "vendor": row["vendor"],
        # the latest maintenance on or before the opening day; null when the pump has none recorded
        "maintenance": maintenance if row["maintenance_date"] else None,
    }


def incident_list(rows: list[dict]) -> list[dict]:
    """Open incidents first, newest opening first; then resolved ones, newest resolution first."""

    def order(row: dict) -> tuple:
        return row["resolved_at"] is None, row["resolved_at"] or row["opened_at"], row["resid"]

    return [incident(row) for row in sorted(rows, key=order, reverse=True)]


# ---- words ---------------------------------------------------------------------------------------
TIME_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def duration(seconds: float) -> str:
    """A length of time in its two largest units: "1 day 2 hours", "3 minutes", "0 seconds"."""
    left, parts = round(abs(seconds)), []
    for unit, size in TIME_UNITS:
        count, left = divmod(left, size)
        if count or parts:
            parts.append((count, unit))
        if len(parts) == 2:
            break
    return " ".join(plural(count, unit) for count, unit in parts if count) or "0 seconds"


def when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def days_text(days: list[str], shown: int = 5) -> str:
    """ISO days, the first few of many."""
    more = len(days) - shown
    return ", ".join(days[:shown]) + (f" and {more} more" if more > 0 else "")


# ---- what has run, as the storage shows it -------------------------------------------------------
@dataclass(frozen=True)
class Progress:
    """The facts the hints follow: what each DAG has left in the storage."""

    staged: bool = False  # <root>/sensordata.csv: oil_stage ran
    reference_staged: bool = False  # <root>/info/ vendor and maintenance files: oil_stage ran
    landed: int = 0  # sensor files in <root>/stream/: oil_file_drop ran
    runs: int = 0  # rows of output/runs: oil_streaming's alert job ran
    readings_streamed: int = 0  # whole readings the alert job read, over all its runs
    newest_reading: datetime | None = None  # the newest landed reading


def next_step(progress: Progress) -> str | None:
    """What to run next for the streamed outputs to appear; None once the streaming has run."""
    if progress.runs:
        return None
    if progress.landed:
        return (
            f"{plural(progress.landed, 'sensor file')} landed in stream/, but no streaming run is recorded yet: "
            "run oil_streaming (make airflow-trigger unpauses it; it then runs on every drop)."
        )
    if progress.staged:
        return (
            "The sensor file is staged, but no file has landed in stream/ yet: the file drops have not started "
            "(unpause oil_file_drop, as make airflow-trigger does; it drops a slice on its schedule from "
            "OIL_REPLAY_START)."
        )
    return "Nothing is staged yet (no sensordata.csv under the root): run oil_stage (make airflow-trigger)."


def streamed_so_far(progress: Progress) -> str:
    newest = f" (newest reading {when(progress.newest_reading)})" if progress.newest_reading else ""
    return f"the {plural(progress.readings_streamed, 'reading')} streamed so far{newest}"


def alerts_hint(progress: Progress, total: int, not_enriched: list[str]) -> str | None:
    """No alert: why (streamed without one, or what to run first). Alerts of pumps without enrichment: why."""
    if not total:
        if not progress.runs:
            return f"No alerts yet. {next_step(progress)}"
        return f"No low-pressure alert in {streamed_so_far(progress)}."
    if not not_enriched:
        return None
    pumps = f"The alerts of {', '.join(not_enriched)} are not enriched yet"
    if not progress.reference_staged:
        return f"{pumps}: the vendor and maintenance files are not staged in info/: run oil_stage."
    return f"{pumps}: oil_streaming's enrich_alerts task does it after the alert job (if it failed, its log says why)."


def incidents_hint(progress: Progress, alerts: int) -> str:
    """No incident: why (what to run first, the incidents job behind the alerts, or no low reading at all)."""
    if not progress.runs:
        return f"No incidents yet. {next_step(progress)}"
    if alerts:
        return (
            f"No incidents yet, though {plural(alerts, 'low-pressure alert')} streamed: oil_streaming's incidents job "
            "writes them after the alert job (if it failed, its log says why)."
        )
    return f"No incident: no low-pressure reading in {streamed_so_far(progress)}."


def daily_hint(stat_days: set[str], landed_days: set[str], first_step: str | None) -> str | None:
    """Days with landed readings but no daily statistics, and what to run for them; `first_step`: what to
    run first when the streaming has not run yet (the statistics are computed from what it streamed)."""
    if not stat_days and first_step:
        return f"No daily statistics yet. {first_step}"
    missing = sorted(landed_days - stat_days)
    if not missing:
        return None if stat_days else "No daily statistics yet: run oil_daily_stats (make airflow-backfill)."
    return (
        f"No daily statistics for {plural(len(missing), 'day')} with landed readings ({days_text(missing)}): "
        "run oil_daily_stats for them once they have streamed (make airflow-backfill)."
    )


def pump_days_hint(days: list[dict]) -> str | None:
    """One pump's days with alerts but no statistics."""
    missing = [day["day"] for day in days if day["avg"] is None]
    if not missing:
        return None
    missing_days = days_text(missing)
    return f"No daily statistics for {missing_days} (days with alerts): run oil_daily_stats (make airflow-backfill)."


# ---- freshness -------------------------------------------------------------------------------------
def slice_start(name: str) -> datetime | None:
    """The sensor time a slice file starts at, from its name (sensor_<YYYYmmddTHHMM>_<span>m.csv)."""
    if not SLICE_FILE.fullmatch(name):
        return None
    return datetime.strptime(name[len("sensor_") : len("sensor_YYYYmmddTHHMM")], "%Y%m%dT%H%M").replace(
        tzinfo=timezone.utc
    )


def slice_span(name: str) -> timedelta:
    return timedelta(minutes=int(SLICE_FILE.fullmatch(name).group(1)))


def landed_days(names: list[str]) -> set[str]:
    """ISO days the landed slice files cover (a file is written only with readings in it)."""
    days = set()
    for name in names:
        start = slice_start(name)
        if start is not None:
            first, last = start.date(), (start + slice_span(name) - timedelta(minutes=1)).date()
            days.update((first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1))
    return days


def replay_clock(
    now: datetime, replay_start: datetime, drop_every: timedelta, origin: datetime, span: timedelta, data_end: datetime
) -> datetime:
    """The sensor time the scheduled drops should have reached by now: the end of the slice the latest due
    drop run wrote (run k at replay_start + k * drop_every drops [origin + k * span, + span)), never before
    the origin nor past the data's end."""
    drops_due = (now - replay_start) // drop_every + 1
    slices = -((origin - data_end) // span)  # the data's slices, rounded up
    return min(origin + max(0, min(drops_due, slices)) * span, data_end)


def freshness(now: datetime, newest: datetime | None, clock: datetime | None, data_end: datetime | None) -> str:
    """The newest landed reading's age: against the replay's clock when historical data is replayed (`clock`),
    else against now."""
    if newest is None:
        return "none yet"
    if clock is None:
        age = now - newest
        return f"{when(newest)} ({duration(age.total_seconds())} {'before' if age >= timedelta(0) else 'after'} now)"
    end = ", the end of the data" if clock == data_end else ""
    lag = clock - newest
    side = "behind" if lag >= timedelta(0) else "ahead of"
    return (
        f"{when(newest)} sensor time, a replay of historical data: {duration(lag.total_seconds())} {side} "
        f"the replay's clock ({when(clock)}{end})"
    )


def utc_moment(text: str) -> datetime:
    """An ISO time (as OIL_REPLAY_START); one without a zone is UTC, as for the DAG's pendulum.parse."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def staged_data_end(sensor_csv: bytes) -> datetime:
    """Where the replay of a staged sensor file ends: the end of its last slice (include/replay/slicing.py)."""
    plan = slicing.plan(slicing.split_lines(sensor_csv), settings.SLICE_MINUTES)
    return (plan.origin + plan.count * plan.span).replace(tzinfo=timezone.utc)


# ---- reading the outputs ------------------------------------------------------------------------
class MonitorData:
    """The pipeline's outputs under a storage root, each read once per version."""

    def __init__(self, root: str, storage: Storage | None = None) -> None:
        self.layout = Layout(root)
        self.storage = storage or storage_for(self.layout.root)
        self._cache: dict[str, tuple[tuple, list[dict]]] = {}
        self._lock = threading.Lock()

    def rows(self, output: str, columns: tuple[str, ...]) -> list[dict]:
        """The rows of the table output/<output> (only the given columns); [] when it is not there yet."""
        path = self.layout.output(output)
        key = f"{output}:{','.join(columns)}"
        try:
            table = DeltaTable(path)
            with self._lock:
                cached = self._cache.get(key)
            if cached and cached[0] == table.version():
                return cached[1]
            rows = table.to_pyarrow_table(columns=list(columns)).to_pylist()
        except TableNotFoundError:
            return []
        except OSError as error:  # deltalake's error for storage it cannot reach (a NameNode down)
            raise ConnectionError(f"{path}: {first_line(error)}") from error
        with self._lock:
            self._cache[key] = (table.version(), rows)
        return rows

    def _derived(self, name: str, compute, *inputs: list[dict]):
        """compute(*inputs), computed again only when an input is a new list (a new version of its output)."""
        with self._lock:
            cached = self._cache.get(name)
        if cached and all(old is new for old, new in zip(cached[0], inputs, strict=True)):
            return cached[1]
        value = compute(*inputs)
        with self._lock:
            self._cache[name] = (inputs, value)
        return value

    def _by_version(self, name: str, uri: str, compute):
        """compute(the file's bytes), read again only when the file at uri changes."""
        key = (uri, self.storage.version(uri))  # a re-run over other input rewrites a file under the same name
        with self._lock:
            cached = self._cache.get(name)
        if cached and cached[0] == key:
            return cached[1]
        value = compute(self.storage.read_bytes(uri))
        with self._lock:
            self._cache[name] = (key, value)
        return value

    def landed_names(self) -> list[str]:
        """The sensor files in the landing directory, sorted (by time: their names start with it)."""
        return [name for name in self.storage.list_names(self.layout.stream) if not hidden(name)]

    def newest_landed_reading(self, names: list[str] | None = None) -> datetime | None:
        """The latest reading in the newest file of the landing directory."""
        names = self.landed_names() if names is None else names
        if not names:
            return None
        return self._by_version("stream", f"{self.layout.stream}/{max(names)}", newest_reading)

    def progress(self, names: list[str] | None = None) -> Progress:
        """What has run, as the storage shows it (for the hints)."""
        names = self.landed_names() if names is None else names
        runs = self.rows("runs", RUN_COLUMNS)
        return Progress(
            staged=self.storage.exists(self.layout.sensor_source),
            reference_staged=all(self.storage.exists(uri) for uri in (self.layout.vendor, self.layout.maint)),
            landed=len(names),
            runs=len(runs),
            readings_streamed=sum(run["lines_read"] - run["lines_quarantined"] for run in runs),
            newest_reading=self.newest_landed_reading(names),
        )

    def replay_position(self, now: datetime, names: list[str], replay_start: str) -> tuple[datetime, datetime] | None:
        """The replay's clock and the data's end: origin from the earliest landed slice, the schedule and span
        from the settings, the end from the staged sensor file's slices (else the newest landed slice's end)."""
        slices = [name for name in names if slice_start(name)]
        if not slices:
            return None
        span = timedelta(minutes=settings.SLICE_MINUTES)
        origin = min(map(slice_start, slices)).replace(hour=0, minute=0)
        newest = max(slices, key=slice_start)
        data_end = slice_start(newest) + slice_span(newest)
        if self.storage.exists(self.layout.sensor_source):
            data_end = self._by_version("staged_end", self.layout.sensor_source, staged_data_end)
        every = timedelta(minutes=settings.DROP_EVERY_MINUTES)
        return replay_clock(now, utc_moment(replay_start), every, origin, span, data_end), data_end

    # ---- what the endpoints return ----
    def alerts(self, limit: int, resid: str | None = None, events: int = 3) -> dict:
        alerts = self.rows("alerts", ALERT_COLUMNS)
        newest = self._derived("newest_first", newest_first, alerts)
        details = self._derived("pump_details", pump_details, self.rows("alerts_enriched", ENRICHED_COLUMNS))
        counts = self._derived("alert_counts", alert_counts, alerts)
        not_enriched = [pump for pump in counts if pump not in details]
        return {
            "total": len(alerts),
            "counts": counts,
            "alerts": latest_alerts(newest, details, limit, resid, events),
            # The storage is looked at only when there is something to explain.
            "hint": alerts_hint(self.progress(), len(alerts), not_enriched) if not alerts or not_enriched else None,
        }

    def incidents(self, limit: int = 50) -> dict:
        """The first `limit` incidents (open first) and how many are open and resolved."""
        rows = self.rows("incidents", INCIDENT_SHOWN)
        listed = self._derived("incident_list", incident_list, rows)
        still_open = sum(incident["open"] for incident in listed)
        return {
            "open": still_open,
            "resolved": len(listed) - still_open,
            "incidents": listed[:limit],
            "hint": None if rows else incidents_hint(self.progress(), len(self.rows("alerts", ALERT_COLUMNS))),
        }

    def pumps(self) -> dict:
        """Every pump in the daily statistics or the alerts, most alerts first."""
        counts = self._derived("alert_counts", alert_counts, self.rows("alerts", ALERT_COLUMNS))
        daily = self.rows("daily_stats", DAILY_COLUMNS)
        days = Counter(row["resid"] for row in daily)
        names = sorted(days.keys() | counts.keys(), key=lambda resid: (-counts.get(resid, 0), resid))
        stat_days = self._derived("stat_days", lambda rows: {day_of(row["date"]) for row in rows}, daily)
        landed = self.landed_names()
        first_step = None if daily else next_step(self.progress(landed))
        return {
            "pumps": [{"resid": name, "alerts": counts.get(name, 0), "days": days.get(name, 0)} for name in names],
            "hint": daily_hint(stat_days, landed_days(landed), first_step),
        }

    def daily(self, resid: str) -> dict | None:
        """One pump's daily psi with its alert days; None for a pump the outputs do not know."""
        daily = self.rows("daily_stats", DAILY_COLUMNS)
        per_day = self._derived("alert_days", alert_days, self.rows("alerts", ALERT_COLUMNS))
        days = daily_psi(daily, per_day, resid)
        if not days:
            return None
        return {"resid": resid, "days": days, "hint": pump_days_hint(days)}

    def status(self, now: datetime, replay_start: str | None = None) -> dict:
        """replay_start: when the replay started (the plugin passes the Variable make airflow-trigger sets;
        default OIL_REPLAY_START)."""
        replay_start = replay_start or settings.REPLAY_START
        run = last_run(self.rows("runs", RUN_COLUMNS))
        names = self.landed_names()
        newest = self.newest_landed_reading(names)
        # Historical data (older than the replay's start) is being replayed: its age is against the replay.
        replaying = newest is not None and newest < utc_moment(replay_start)
        clock, data_end = (self.replay_position(now, names, replay_start) if replaying else None) or (None, None)
        return {
            "root": self.layout.root,
            "now": now.isoformat(),
            "last_run": run,
            "newest_reading": newest.isoformat() if newest else None,
            "reading_age_seconds": round((now - newest).total_seconds()) if newest else None,
            "replaying": replaying,
            "replay_clock": clock.isoformat() if clock else None,
            "replay_lag_seconds": round((clock - newest).total_seconds()) if clock else None,
            "freshness": freshness(now, newest, clock, data_end),
            "hint": None if run else next_step(self.progress(names)),
        }

    def known_pumps(self) -> list[str]:
        return [pump["resid"] for pump in self.pumps()["pumps"]]
