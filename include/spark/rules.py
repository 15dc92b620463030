"""The lecture's alert rule, in one place for every job that applies it (alerts, output modes)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


def low_pressure(threshold: float) -> Column:
    """True for a reading whose psi is below the threshold: a low-pressure alert."""
    return F.col("psi") < threshold


def low_pressure_alerts(readings: DataFrame, threshold: float) -> DataFrame:
    """The lecture's alert rule: readings with psi below the threshold."""
    return readings.where(low_pressure(threshold))
