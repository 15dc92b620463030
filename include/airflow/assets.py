"""The data the DAGs hand to each other, as Airflow Assets (they link the DAGs in the UI)."""

from __future__ import annotations

from airflow.sdk import Asset

from include.settings import Layout

LAYOUT = Layout()

STAGED_INPUTS = Asset(name="oil_staged_inputs", uri=LAYOUT.root)
SENSOR_LANDING = Asset(name="oil_sensor_landing", uri=LAYOUT.stream)
ALERTS = Asset(name="oil_alerts", uri=LAYOUT.output("alerts"))
ALERTS_ENRICHED = Asset(name="oil_alerts_enriched", uri=LAYOUT.output("alerts_enriched"))
DAILY_STATS = Asset(name="oil_daily_stats", uri=LAYOUT.output("daily_stats"))
