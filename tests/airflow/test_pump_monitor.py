"""The pump monitor plugin in the real Airflow stack: login required, JSON endpoints equal to the oracle
on the real pipeline's outputs, and the page opened from the UI's nav in a real browser.

The stack's monitor shows OIL_MONITOR_ROOT (conftest.py), which is linked here to the stack's own
storage root once its replay is complete (the `replayed` fixture: every slice streamed, five days
backfilled): the page shows what a user of the stack sees at the end of the replay.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import datetime

import pytest

from include import settings
from tests.airflow.conftest import ARTIFACTS, log_in
from tests.pipeline_run import expected_incidents
from tests.plugins.monitor_checks import check_incidents, incident_listing
from testsupport import oracle

MONITOR = "/pump-monitor"
ENDPOINTS = ("/", "/api/incidents", "/api/alerts", "/api/pumps", "/api/pumps/NANTAHALLA/daily", "/api/status")


def get(url: str, token: str | None = None) -> tuple[int, object, float]:
    """(status, body: JSON or text, seconds) of a GET, with a bearer token or none."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    seconds = time.perf_counter() - started
    try:
        return status, json.loads(text), seconds
    except ValueError:
        return status, text, seconds


@pytest.fixture(scope="module")
def monitored(airflow_stack, replayed):
    """The stack's monitor root, linked to the stack's own root once it holds the whole data set's
    outputs (`replayed`); the API's base URL and a token."""
    link = airflow_stack.monitor_root
    if not link.exists():
        link.symlink_to(airflow_stack.root, target_is_directory=True)
    return f"{airflow_stack.stack.url}{MONITOR}", airflow_stack.api.token()


def test_anonymous_requests_are_refused(airflow_stack):
    base = f"{airflow_stack.stack.url}{MONITOR}"
    for path in ENDPOINTS:
        status, body, _ = get(base + path)
        assert status == 401, (path, body)
        status, body, _ = get(base + path, token="not-a-jwt")
        assert status == 403, (path, body)
    status, body, _ = get(base + "/")
    assert "/auth/login?next=/pump-monitor/" in body  # the page tells a visitor where to log in
    # The plugin is registered, with its app and its nav entry.
    plugins = {p["name"]: p for p in airflow_stack.api.get("/api/v2/plugins")["plugins"]}
    assert plugins["pump_monitor"]["fastapi_apps"][0]["url_prefix"] == MONITOR
    assert plugins["pump_monitor"]["external_views"][0]["url_route"] == "pump-monitor"


def test_endpoints_equal_the_oracle_and_answer_fast(monitored, data_dir):
    base, token = monitored
    readings = oracle.readings(data_dir / settings.SENSOR_FILE)
    alerts, daily = oracle.alerts(readings), oracle.daily_stats(readings)
    timings = {}

    def call(path: str, expect: int = 200):
        status, body, seconds = get(base + path, token)
        assert status == expect, (path, body)
        timings.setdefault(path, []).append(round(seconds, 4))
        return body

    check_incidents(call("/api/incidents?limit=1000"), expected_incidents(data_dir, readings), readings)
    got = call("/api/alerts?limit=10")
    assert got["counts"] == dict(Counter(row[0] for row in alerts)) and got["total"] == len(alerts)
    assert len(got["alerts"]) == 10 and got["hint"] is None
    pumps = {p["resid"]: p for p in call("/api/pumps")["pumps"]}
    assert {resid: p["alerts"] for resid, p in pumps.items() if p["alerts"]} == got["counts"]
    assert set(pumps) == {resid for resid, _ in daily}
    alert_days = Counter((row[0], row[1]) for row in alerts)
    for resid in pumps:
        days = call(f"/api/pumps/{resid}/daily")["days"]
        expected = sorted(
            (datetime.strptime(date, "%m/%d/%y").date().isoformat(), stats, alert_days.get((r, date), 0))
            for (r, date), stats in daily.items()
            if r == resid
        )
        assert [d["day"] for d in days] == [day for day, _, _ in expected]
        for got_day, (day, stats, alert_count) in zip(days, expected, strict=True):
            assert [got_day["min"], got_day["avg"], got_day["max"]] == pytest.approx(
                [stats["minpsi"], stats["avgpsi"], stats["maxpsi"]], rel=1e-9, abs=1e-9
            ), (resid, day)
            assert got_day["alerts"] == alert_count, (resid, day)
    status = call("/api/status")
    assert status["last_run"]["micro_batches"] >= 0 and status["newest_reading"] is not None
    assert status["hint"] is None

    # Bad parameters: a clear error naming the parameter; an unknown pump: 404 naming the known ones.
    for query, where in (("limit=0", "limit"), ("limit=x", "limit"), ("events=99", "events"), ("resid=a b", "resid")):
        body = call(f"/api/alerts?{query.replace(' ', '%20')}", expect=422)
        assert body["detail"][0]["loc"] == ["query", where], body
    body = call("/api/pumps/NOSUCHPUMP/daily", expect=404)
    assert "unknown pump 'NOSUCHPUMP'" in body["detail"] and "NANTAHALLA" in body["detail"]

    # Fast: every endpoint again, from the monitor's cache (the outputs have not changed). The calls
    # above include the first read of the outputs (the monitor root was linked after the server started).
    first = {path: seconds[0] for path, seconds in timings.items()}
    timings.clear()
    for path in (
        "/",
        "/api/incidents",
        "/api/alerts?limit=10",
        "/api/pumps",
        "/api/pumps/NANTAHALLA/daily",
        "/api/status",
    ):
        for _ in range(5):
            call(path)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    measured = {"first_s": first, "again_s": timings}
    (ARTIFACTS / "pump_monitor_timings.json").write_text(json.dumps(measured, indent=2) + "\n")
    assert all(max(seconds) < 1.0 for seconds in timings.values()), timings


def incident_cells(incident: dict) -> list[str]:
    """An incident's row on the page, but for its duration: pump, since (and resolved), low readings, min psi,
    last maintenance."""
    cells = [
        incident["resid"],
        *(when[:16].replace("T", " ") for when in (incident["opened_at"], incident["resolved_at"]) if when),
    ]
    event = incident["maintenance"]
    maintenance = f"{event['eventDate']} {event['description']} ({event['technician']})" if event else "none"
    return [*cells, f"{incident['low_readings']:,}", f"{incident['min_psi']:.2f}", maintenance]


def test_page_from_the_nav_shows_incidents_alerts_and_charts(monitored, airflow_stack, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 90)
    browser.set_window_size(1400, 1700)
    log_in(browser, airflow_stack, page="/")

    def opened_from_the_nav(driver) -> bool:  # a click while the UI still renders can be lost: click again
        if not driver.current_url.endswith("/plugin/pump-monitor"):
            driver.find_element(By.XPATH, "//a[@aria-label='Pump monitor']").click()
        return driver.current_url.endswith("/plugin/pump-monitor")

    wait.until(opened_from_the_nav)
    browser.switch_to.frame(wait.until(lambda d: d.find_element(By.TAG_NAME, "iframe")))

    readings = oracle.readings(airflow_stack.data_dir / settings.SENSOR_FILE)
    # The incidents, open ones first: the oracle's, each open one lasting to its pump's last reading.
    listing = incident_listing(expected_incidents(airflow_stack.data_dir, readings), readings)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#incident-counts span"))  # drawn with the tables
    shown = browser.find_elements(By.CSS_SELECTOR, "#incidents-open tbody tr, #incidents-resolved tbody tr")
    assert [[td.text for td in row.find_elements(By.CSS_SELECTOR, "td:not(.duration)")] for row in shown] == [
        incident_cells(incident) for incident in listing
    ]
    for row, incident in zip(shown, listing, strict=True):
        assert row.find_element(By.CSS_SELECTOR, "td.duration").text.endswith(", still open") == incident["open"]
    still_open = sum(incident["open"] for incident in listing)
    words = f"{still_open} open incident" + ("" if still_open == 1 else "s")
    assert browser.find_element(By.ID, "open-count").text == words

    rows = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#alerts-table tbody tr"))
    assert len(rows) == 10  # the page shows the 10 newest
    counts = {
        e.get_attribute("data-resid"): e.text for e in browser.find_elements(By.CSS_SELECTOR, "#alert-counts span")
    }
    expected = Counter(row[0] for row in oracle.alerts(readings))
    for resid in ("NANTAHALLA", "LAGNAPPE"):
        assert counts[resid] == f"{resid} {expected[resid]}"
        chart = wait.until(lambda d, r=resid: d.find_element(By.CSS_SELECTOR, f"svg.chart[data-resid='{r}']"))
        days = chart.find_elements(By.CSS_SELECTOR, "circle.day")
        assert len(days) == len({row["date"] for row in readings if row["resid"] == resid})
        alert_days = {e.get_attribute("data-day") for e in chart.find_elements(By.CSS_SELECTOR, "circle.alert-day")}
        expected_days = {
            datetime.strptime(row["date"], "%m/%d/%y").date().isoformat()
            for row in readings
            if row["resid"] == resid and row["psi"] < settings.ALERT_PSI_THRESHOLD
        }
        assert alert_days == expected_days
    assert "Last streaming run:" in browser.find_element(By.ID, "last-run").text
    assert "Newest reading: 20" in browser.find_element(By.ID, "freshness").text
    browser.switch_to.default_content()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "pump_monitor.png"))
