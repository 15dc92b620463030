"""devstack/local_airflow.py without Airflow: what a Spark job prints that nobody can act on is left out of
what is shown, and a local driver binds the loopback address (Spark's warning about the hostname)."""

from __future__ import annotations

import json

import pytest

from devstack import local_airflow, settings
from devstack.local_airflow import INCUBATOR_WARNING, AirflowCommandFailed, airflow_env, is_launcher_noise


def test_the_incubator_warning_is_noise_alone_or_inside_a_task_log_line():
    assert is_launcher_noise(INCUBATOR_WARNING + "\n")
    assert is_launcher_noise(f"[2026-12-02T10:00:00] {{spark_submit.py:644}} INFO - {INCUBATOR_WARNING}")
    assert not is_launcher_noise("WARN MemoryManager: Total allocation exceeds 95.00% of heap memory")
    assert not is_launcher_noise("readings: 27557 rows (file:///tmp/storage/output/readings)")


def test_a_local_driver_binds_the_loopback_address_unless_the_user_says_otherwise(monkeypatch, tmp_path):
    monkeypatch.delenv("SPARK_LOCAL_IP", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_SPARK_DEFAULT", raising=False)
    assert airflow_env(tmp_path)["SPARK_LOCAL_IP"] == settings.LOCAL_SPARK_IP == "127.0.0.1"
    monkeypatch.setenv("SPARK_LOCAL_IP", "10.1.2.3")
    assert airflow_env(tmp_path)["SPARK_LOCAL_IP"] == "10.1.2.3"


def test_a_cluster_driver_keeps_the_address_its_executors_reach(monkeypatch, tmp_path):
    monkeypatch.delenv("SPARK_LOCAL_IP", raising=False)
    cluster = json.dumps({"conn_type": "spark", "host": "spark://10.0.0.5", "port": 7077})
    assert "SPARK_LOCAL_IP" not in airflow_env(tmp_path, AIRFLOW_CONN_SPARK_DEFAULT=cluster)
    assert "SPARK_LOCAL_IP" not in airflow_env(tmp_path, AIRFLOW_CONN_SPARK_DEFAULT="spark://10.0.0.5:7077")


def test_a_failed_command_raises_with_its_output_tail_without_the_noise(monkeypatch, tmp_path):
    fake = tmp_path / "airflow"  # stands in for the venv's airflow: the JVM's line, an error, exit code 1
    fake.write_text(f"#!/bin/sh\necho '{INCUBATOR_WARNING}' >&2\necho 'task failed: no such table' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(local_airflow, "BIN_DIR", tmp_path)
    log = tmp_path / "demo.log"
    with pytest.raises(AirflowCommandFailed) as failure:
        local_airflow.airflow(["dags", "test", "oil_streaming"], {}, log)
    assert str(failure.value).splitlines()[0] == "airflow dags test oil_streaming failed with exit code 1:"
    assert failure.value.command == "airflow dags test oil_streaming"
    assert failure.value.tail == "task failed: no such table"
    assert INCUBATOR_WARNING in log.read_text()  # the log keeps everything
