"""Pump monitor: an operator page inside the Airflow UI (nav entry "Pump monitor").

A FastAPI app that the api-server mounts at /pump-monitor, and an external view that shows it in
the UI. It reads the pipeline's Delta tables under OIL_MONITOR_ROOT (default: the storage root,
local or HDFS) with include/monitor/pump_monitor.py, through each table's log (deltalake); never Spark.
Every route, the page included, needs a logged-in Airflow user (the UI's JWT: cookie `_token` or
`Authorization: Bearer`).

    GET /pump-monitor/                            the page
    GET /pump-monitor/api/incidents?limit=        incidents of low pressure, open ones first, with their pumps
    GET /pump-monitor/api/alerts?limit=&resid=&events=   latest alerts with pump type, vendor, maintenance
    GET /pump-monitor/api/pumps                   pumps with their alert and day counts
    GET /pump-monitor/api/pumps/{resid}/daily     daily min/avg/max psi and alerts per day
    GET /pump-monitor/api/status                  last streaming run, newest reading vs. now or the replay's clock
    GET /pump-monitor/openapi.json                these endpoints, documented
"""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Annotated

from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
from airflow.api_fastapi.core_api.security import requires_access_view
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

URL_PREFIX = "/pump-monitor"
PAGE = Path(__file__).with_name("pump_monitor.html")
PUMP_ID = r"^[A-Za-z0-9_\-]{1,64}$"
log = logging.getLogger(__name__)


@asynccontextmanager
async def warm_up(_app: FastAPI):
    """Read the outputs once in the background as the api-server starts, so the first view is fast too."""

    def read() -> None:
        try:
            data = monitor()
            data.incidents(1)
            data.alerts(1)
            data.status(datetime.now(timezone.utc), replay_start())
            for resid in data.known_pumps():
                data.daily(resid)
        except Exception:  # noqa: BLE001 - outputs missing or storage down: the requests will say so
            log.warning("pump monitor: warm-up read failed", exc_info=True)

    threading.Thread(target=read, name="pump-monitor-warm-up", daemon=True).start()
    yield


app = FastAPI(
    title="Pump monitor",
    lifespan=warm_up,
    description="Low-pressure incidents and alerts, daily psi per pump and the last streaming run, read from the "
    "pipeline's Delta tables. Every endpoint needs a logged-in Airflow user (cookie `_token` or a bearer JWT "
    "from `POST /auth/token`).",
    docs_url=None,  # Swagger UI loads from a CDN; openapi.json documents the endpoints offline
    redoc_url=None,
    dependencies=[Depends(requires_access_view(AccessView.WEBSITE))],
)


@cache
def monitor():
    """The outputs under OIL_MONITOR_ROOT; imported on first use (pyarrow), not when plugins load."""
    from include import settings
    from include.monitor.pump_monitor import MonitorData

    return MonitorData(settings.MONITOR_ROOT)


def answer(read):
    """read(); storage that cannot be reached (HDFS down) is a 503 that says so."""
    try:
        return read()
    except ConnectionError as error:
        raise HTTPException(503, f"storage not reachable: {error}") from error


@app.exception_handler(StarletteHTTPException)
async def login_first(request: Request, error: StarletteHTTPException):
    """The page, to a visitor without a login: a link to Airflow's login instead of JSON."""
    if error.status_code in (401, 403) and "/api/" not in request.url.path:
        page = request.url.path
        return HTMLResponse(
            f'<p>Pump monitor: <a href="/auth/login?next={page}">log in to Airflow</a> first.</p>',
            status_code=error.status_code,
        )
    return await http_exception_handler(request, error)


@app.get("/", response_class=HTMLResponse, summary="The pump monitor page")
def page() -> HTMLResponse:
    return HTMLResponse(PAGE.read_text())


@app.get("/api/incidents", summary="Low-pressure incidents: open ones first, then resolved ones")
def incidents(
    limit: Annotated[int, Query(ge=1, le=1000, description="how many incidents, open ones first")] = 50,
) -> dict:
    """How many are `open` and `resolved`, the first `incidents` (open ones by newest opening, then resolved
    ones by newest resolution; each: incident_id, resid, open, opened_at, resolved_at, last_reading_at,
    duration_seconds and `duration` in words, to the resolution or, open, to the pump's last reading;
    low_readings, min_psi, pumpType, vendor, `maintenance`: the latest on or before the opening day, or null), and a
    `hint` when there is none: what to run first, or none in what was streamed."""
    return answer(lambda: monitor().incidents(limit))


@app.get("/api/alerts", summary="Latest low-pressure alerts, with pump type, vendor and maintenance")
def alerts(
    limit: Annotated[int, Query(ge=1, le=1000, description="how many of the newest alerts")] = 20,
    resid: Annotated[str | None, Query(pattern=PUMP_ID, description="only this pump's alerts")] = None,
    events: Annotated[int, Query(ge=0, le=50, description="maintenance events per pump, newest first")] = 3,
) -> dict:
    """`total` alerts, `counts` per pump (all alerts), the newest `alerts` (each: resid, time, date, psi,
    pumpType, vendor, maintenance), and a `hint`: why there are none (what to run first, or none in what was
    streamed), or why some are not enriched."""
    if resid is not None:
        known_pump(resid)
    return answer(lambda: monitor().alerts(limit, resid, events))


@app.get("/api/pumps", summary="Pumps with their alert and day counts")
def pumps() -> dict:
    """`pumps`: resid, alerts, days (with daily statistics); most alerts first."""
    return answer(lambda: monitor().pumps())


@app.get("/api/pumps/{resid}/daily", summary="One pump's daily min/avg/max psi and alerts per day")
def daily(resid: Annotated[str, PathParam(pattern=PUMP_ID)]) -> dict:
    """`days`: day (ISO), min, avg, max psi (the daily statistics) and alerts that day."""
    known_pump(resid)
    return answer(lambda: monitor().daily(resid))


@app.get("/api/status", summary="Last streaming run and data freshness")
def status() -> dict:
    """`last_run` (finished_at, micro_batches, lines_read, alerts_written, lines_quarantined) of the alert
    job, `newest_reading` landed and its age against `now`; when historical data is replayed (`replaying`),
    `replay_clock` (the sensor time the scheduled drops should have reached) and `replay_lag_seconds` behind
    it; `freshness` in words, and a `hint` of what to run next while the streaming has not run."""
    return answer(lambda: monitor().status(datetime.now(timezone.utc), replay_start()))


def replay_start() -> str:
    """When the replay started: the Variable that make airflow-trigger sets, else OIL_REPLAY_START."""
    from airflow.sdk import Variable

    from include import settings

    try:  # the api-server reads Variables from the metadata database
        return Variable.get(settings.REPLAY_START_VARIABLE, default=settings.REPLAY_START)
    except Exception:  # noqa: BLE001 - the metadata database unreachable: the setting still says something
        log.warning("pump monitor: Variable %s unreadable", settings.REPLAY_START_VARIABLE, exc_info=True)
        return settings.REPLAY_START


def known_pump(resid: str) -> None:
    pumps = answer(lambda: monitor().known_pumps())
    if resid not in pumps:
        raise HTTPException(404, f"unknown pump {resid!r}: the outputs know {', '.join(pumps) or 'no pump yet'}")


class PumpMonitorPlugin(AirflowPlugin):
    name = "pump_monitor"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Pump monitor"}]
    external_views = [
        {
            "name": "Pump monitor",
            "href": URL_PREFIX.lstrip("/") + "/",  # relative to the UI's base URL
            "url_route": "pump-monitor",
            "destination": "nav",
            "nav_top_level": True,
        }
    ]
