"""The data the DAGs hand to each other, as Airflow Assets (they link the DAGs in the UI).

Named, without a URI of the storage root: Airflow keeps one active Asset per name, so an Asset whose
URI followed OIL_STORAGE_ROOT became inactive in an Airflow home that had run on another root
(`AirflowInactiveAssetInInletOrOutletException` on the next drop). Where each lives under the root
is in its `extra`.
"""

from __future__ import annotations

from airflow.sdk import Asset


def pipeline_asset(name: str, under_root: str) -> Asset:
    return Asset(name=name, extra={"under_storage_root": under_root})


STAGED_INPUTS = pipeline_asset("oil_staged_inputs", "sensordata.csv, info/")
SENSOR_LANDING = pipeline_asset("oil_sensor_landing", "stream/")
ALERTS = pipeline_asset("oil_alerts", "output/alerts/")
ALERTS_ENRICHED = pipeline_asset("oil_alerts_enriched", "output/alerts_enriched/")
DAILY_STATS = pipeline_asset("oil_daily_stats", "output/daily_stats/")
INCIDENTS = pipeline_asset("oil_incidents", "output/incidents/")
