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
import re
import threading
from collections import Counter, defaultdict
from datetime import datetime, timezone

from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from include.schemas import parse_date, reading_time
from include.settings import Layout
from include.storage import Storage, storage_for

ALERT_COLUMNS = ("resid", "date", "time", "psi")
ENRICHED_COLUMNS = ("resid", "pumpType", "vendor", "eventDate", "technician", "description")
DAILY_COLUMNS = ("resid", "date", "minpsi", "avgpsi", "maxpsi")
RUN_COLUMNS = ("finished_at", "micro_batches", "lines_read", "alerts_written", "lines_quarantined")

# What to run first, per output, for the empty states.
HINTS = {
    "alerts": "No alerts yet: run oil_stage, drop sensor files (oil_file_drop), then run oil_streaming.",
    "alerts_enriched": "No enriched alerts yet: run oil_streaming (its enrich_alerts task).",
    "daily_stats": "No daily statistics yet: run oil_daily_stats for the days in the data (make airflow-backfill).",
    "runs": "No streaming run recorded yet: run oil_streaming.",
    "stream": "No sensor file has landed yet: run oil_stage, then oil_file_drop.",
}


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


def last_run(runs: list[dict]) -> dict | None:
    """The alert job's latest run: when it finished, micro-batches, lines in, alerts out."""
    if not runs:
        return None
    run = dict(max(runs, key=lambda r: r["finished_at"]))
    # A Delta timestamp is a UTC instant; say so whether or not the reader attached the zone.
    run["finished_at"] = run["finished_at"].replace(tzinfo=timezone.utc).isoformat()
    return run


def first_line(error: BaseException) -> str:
    """An error's first line, without the terminal colour codes deltalake's messages carry."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()
    return text.splitlines()[0] if text else type(error).__name__


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

    def newest_landed_reading(self) -> datetime | None:
        """The latest reading in the newest file of the landing directory (file names sort by time)."""
        names = [name for name in self.storage.list_names(self.layout.stream) if not hidden(name)]
        if not names:
            return None
        newest = f"{self.layout.stream}/{max(names)}"
        key = (newest, self.storage.version(newest))  # a drop re-run over other input rewrites the same name
        with self._lock:
            cached = self._cache.get("stream")
        if cached and cached[0] == key:
            return cached[1]
        moment = newest_reading(self.storage.read_bytes(newest))
        with self._lock:
            self._cache["stream"] = (key, moment)
        return moment

    # ---- what the endpoints return ----
    def alerts(self, limit: int, resid: str | None = None, events: int = 3) -> dict:
        alerts = self.rows("alerts", ALERT_COLUMNS)
        newest = self._derived("newest_first", newest_first, alerts)
        details = self._derived("pump_details", pump_details, self.rows("alerts_enriched", ENRICHED_COLUMNS))
        return {
            "total": len(alerts),
            "counts": self._derived("alert_counts", alert_counts, alerts),
            "alerts": latest_alerts(newest, details, limit, resid, events),
            "hint": None if alerts else HINTS["alerts"],
        }

    def pumps(self) -> dict:
        """Every pump in the daily statistics or the alerts, most alerts first."""
        counts = self._derived("alert_counts", alert_counts, self.rows("alerts", ALERT_COLUMNS))
        daily = self.rows("daily_stats", DAILY_COLUMNS)
        days = Counter(row["resid"] for row in daily)
        names = sorted(days.keys() | counts.keys(), key=lambda resid: (-counts.get(resid, 0), resid))
        return {
            "pumps": [{"resid": name, "alerts": counts.get(name, 0), "days": days.get(name, 0)} for name in names],
            "hint": None if daily else HINTS["daily_stats"],
        }

    def daily(self, resid: str) -> dict | None:
        """One pump's daily psi with its alert days; None for a pump the outputs do not know."""
        daily = self.rows("daily_stats", DAILY_COLUMNS)
        per_day = self._derived("alert_days", alert_days, self.rows("alerts", ALERT_COLUMNS))
        days = daily_psi(daily, per_day, resid)
        if not days:
            return None
        missing = any(day["avg"] is None for day in days)
        return {"resid": resid, "days": days, "hint": HINTS["daily_stats"] if missing else None}

    def status(self, now: datetime) -> dict:
        run = last_run(self.rows("runs", RUN_COLUMNS))
        newest = self.newest_landed_reading()
        return {
            "root": self.layout.root,
            "now": now.isoformat(),
            "last_run": run,
            "newest_reading": newest.isoformat() if newest else None,
            "reading_age_seconds": round((now - newest).total_seconds()) if newest else None,
            "hint": " ".join(HINTS[name] for name, missing in (("stream", not newest), ("runs", not run)) if missing)
            or None,
        }

    def known_pumps(self) -> list[str]:
        return [pump["resid"] for pump in self.pumps()["pumps"]]
