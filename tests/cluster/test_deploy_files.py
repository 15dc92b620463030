"""The Dockerfile and docker-compose.yaml, checked statically (no Docker engine runs on our machines).

What can be wrong without building anything: a service missing, an image not pinned, the Airflow
image not the pinned Airflow, a COPY of a path that does not exist, a port that is not the one the
README gives, the compose's connections not the README's, or connections that the Spark provider
turns into another master URL than the one the Spark services listen on.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from devstack.settings import SPARK_MASTER_URL
from include import settings
from tests.cluster.conftest import CLUSTER_SPARK_CONN

DOCKERFILE = (settings.PROJECT_DIR / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((settings.PROJECT_DIR / "docker-compose.yaml").read_text())
README = (settings.PROJECT_DIR / "README.md").read_text()
SERVICES = COMPOSE["services"]
AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)
CONNECTIONS = ("AIRFLOW_CONN_SPARK_DEFAULT", "AIRFLOW_CONN_WEBHDFS_DEFAULT", "OIL_STORAGE_ROOT")


def pinned(name: str) -> str:
    return re.search(rf"^{re.escape(name)}==(\S+)", (settings.PROJECT_DIR / "requirements.txt").read_text(), re.M)[1]


def spark_master(connection_json: str, monkeypatch) -> str:
    """The master URL the Spark provider builds from a connection (its own code, not ours)."""
    from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook

    monkeypatch.setenv("AIRFLOW_CONN_OIL_CHECK", connection_json)
    return SparkSubmitHook(conn_id="oil_check")._connection["master"]


def test_the_image_is_the_official_airflow_image_of_the_pinned_version():
    base = re.search(r"^FROM (\S+)", DOCKERFILE, re.M)[1]
    assert base == f"apache/airflow:{pinned('apache-airflow')}-python3.11"
    for source in re.findall(r"^COPY (?:--\S+ )*(.+) \S+$", DOCKERFILE, re.M):
        for path in source.split():
            assert (settings.PROJECT_DIR / path).exists(), f"COPY {path}: no such path in the project"
    assert "openjdk-17" in DOCKERFILE  # Spark 4 needs Java 17+


def test_the_compose_file_runs_the_whole_stack_on_pinned_images():
    assert set(SERVICES) == {*AIRFLOW_SERVICES, "postgres", "namenode", "datanode", "spark-master", "spark-worker"}
    for name, service in SERVICES.items():
        image = service.get("image", "")
        assert re.fullmatch(r"[\w./-]+:\d[\w.-]*", image), f"{name}: image {image!r} is not pinned to a version"
    # Airflow and Spark on the Dockerfile's image: the tasks' drivers and the executors run the same Spark
    for name in (*AIRFLOW_SERVICES, "spark-master", "spark-worker"):
        assert (SERVICES[name]["build"], SERVICES[name]["image"]) == (".", "oil-pump-pipeline:0.1.0"), name


def test_ports_are_the_ones_the_readme_gives():
    assert SERVICES["airflow-apiserver"]["ports"] == ["8080:8080"]
    assert SERVICES["spark-master"]["ports"] == ["8081:8081"]  # off Airflow's 8080, as make spark-up
    assert SERVICES["namenode"]["ports"] == ["9870:9870"]
    for port in ("http://localhost:8080", "http://localhost:8081"):
        assert port in README


def test_every_airflow_service_has_the_readme_connections(monkeypatch):
    environments = [SERVICES[name]["environment"] for name in AIRFLOW_SERVICES]
    values = {key: environments[0][key] for key in CONNECTIONS}
    assert all({key: env[key] for key in CONNECTIONS} == values for env in environments)
    for key, value in values.items():
        assert f"{key}={value}" in README, f"README does not show {key}={value}"
    # The master the provider builds from the connection is where the Spark services listen.
    master = spark_master(values["AIRFLOW_CONN_SPARK_DEFAULT"], monkeypatch)
    assert master == "spark://spark-master:7077"
    assert "--host spark-master --port 7077 --webui-port 8081" in SERVICES["spark-master"]["command"][-1]
    assert SERVICES["spark-worker"]["command"][-1].endswith(master)
    storage = values["OIL_STORAGE_ROOT"]
    assert storage.startswith("hdfs://namenode:8020/")
    assert SERVICES["namenode"]["environment"]["CORE-SITE.XML_fs.defaultFS"] == "hdfs://namenode:8020"
    assert json.loads(values["AIRFLOW_CONN_WEBHDFS_DEFAULT"])["host"] == "namenode"


def readme_spark_connections() -> list[str]:
    return re.findall(r"^export AIRFLOW_CONN_SPARK_DEFAULT='(.+)'$", README, re.M)


@pytest.mark.parametrize(("index", "master", "deploy_mode"), [(0, SPARK_MASTER_URL, None), (1, "yarn", "client")])
def test_the_readme_connections_give_the_masters_it_names(monkeypatch, index, master, deploy_mode):
    connection = readme_spark_connections()[index]
    assert spark_master(connection, monkeypatch) == master
    assert json.loads(connection).get("extra", {}).get("deploy-mode") == deploy_mode


def test_the_readme_standalone_connection_is_the_one_the_cluster_tests_use():
    standalone, _yarn, kubernetes = readme_spark_connections()
    assert json.loads(standalone) == json.loads(CLUSTER_SPARK_CONN)
    # The Kubernetes provider is not installed here: check the URL the Spark provider would compose.
    conn = json.loads(kubernetes)
    assert f"{conn['host']}:{conn['port']}" == "k8s://https://kubernetes.default.svc:443"
