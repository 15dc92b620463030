"""A secrets backend that refuses every lookup: parsing the DAGs with it proves that no
connection or variable is looked up at parse time (AIRFLOW__SECRETS__BACKEND points here)."""

from __future__ import annotations

from airflow.secrets import BaseSecretsBackend


class NoLookupsAtParseTime(BaseSecretsBackend):
    def get_conn_value(self, conn_id: str) -> str | None:
        raise RuntimeError(f"connection {conn_id!r} looked up while parsing DAGs")

    def get_variable(self, key: str) -> str | None:
        raise RuntimeError(f"variable {key!r} looked up while parsing DAGs")
