"""The enrichment: each alert x its pump's maintenance records, vendor columns alongside."""

from __future__ import annotations

from include.schemas import MAINT, SENSOR, VENDOR, spark_schema
from spark_jobs.enrich_alerts import enrich, main
from testsupport import oracle

ALERTS = [
    ("P1", "3/10/14", "1:01", 10.0, 1.7, 881.0, 1.5, 0.0, 1.9),
    ("P2", "3/10/14", "1:02", 10.0, 1.7, 881.0, 1.5, 0.2, 1.9),
    ("P3", "3/11/14", "2:02", 10.0, 1.7, 881.0, 1.5, 0.3, 1.9),
]
VENDORS = [
    ("P1", "HYDROPUMP", "11/27/10", "3/15/11", "HYDROCAM", 29.6, -91.1),
    ("P2", "HYDROPUMP", "5/25/08", "9/26/09", "GENPUMP", 29.6, -91.1),
]
MAINTENANCE = [
    ("P1", "3/15/11", "J.Thomas", "Install"),
    ("P1", "2/20/12", "J.Thomas", "Inspection"),
    ("P9", "1/1/12", "T.LaBou", "Install"),
]


def test_one_row_per_alert_and_maintenance_record_none_lost(spark):
    result = enrich(
        spark.createDataFrame(ALERTS, spark_schema(SENSOR)),
        spark.createDataFrame(VENDORS, spark_schema(VENDOR)),
        spark.createDataFrame(MAINTENANCE, spark_schema(MAINT)),
    )
    assert tuple(result.columns) == oracle.ENRICHED_COLUMNS
    p1_alert = ("P1", "3/10/14", "1:01", 0.0, "HYDROPUMP", "11/27/10", "3/15/11", "HYDROCAM")
    expected = [
        (*p1_alert, "3/15/11", "J.Thomas", "Install"),
        (*p1_alert, "2/20/12", "J.Thomas", "Inspection"),
        # no maintenance record: kept, with nulls
        ("P2", "3/10/14", "1:02", 0.2, "HYDROPUMP", "5/25/08", "9/26/09", "GENPUMP", None, None, None),
        # pump missing from the vendor file: kept, with nulls
        ("P3", "3/11/14", "2:02", 0.3, None, None, None, None, None, None, None),
    ]
    assert sorted(map(tuple, result.collect()), key=repr) == sorted(expected, key=repr)


def test_streamed_enrichment_of_real_alerts_equals_the_oracle(spark, tmp_path, data_dir):
    expected_alerts = oracle.alerts(oracle.readings(data_dir / "sensordata.csv"))
    spark.createDataFrame(expected_alerts, spark_schema(SENSOR)).write.format("delta").save(str(tmp_path / "alerts"))
    args = [
        "--alerts",
        str(tmp_path / "alerts"),
        "--vendor",
        str(data_dir / "sensorvendor.csv"),
        "--maint",
        str(data_dir / "sensormaint.csv"),
        "--output",
        str(tmp_path / "enriched"),
        "--checkpoint",
        str(tmp_path / "checkpoint"),
    ]
    assert main(args) == 0
    assert main(args) == 0  # a rerun with no new alert adds nothing
    got = sorted(
        map(
            tuple,
            spark.read.format("delta").load(str(tmp_path / "enriched")).select(*oracle.ENRICHED_COLUMNS).collect(),
        ),
        key=repr,
    )
    assert got == oracle.enriched(expected_alerts, data_dir / "sensorvendor.csv", data_dir / "sensormaint.csv")
