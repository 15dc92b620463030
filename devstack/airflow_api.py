"""Airflow's REST API v2 as the admin user of the stack (devstack/airflow_stack.py): DAGs, runs, backfills."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from devstack.process import wait_for

USER = "admin"


class Api:
    """The REST API v2 as the admin user: a JWT from POST /auth/token, renewed when it expires."""

    def __init__(self, url: str, password: str, user: str = USER) -> None:
        self.url = url.rstrip("/")
        self.user = user
        self.password = password
        self._token: str | None = None

    def _send(self, method: str, path: str, body: dict | None, token: str | None) -> tuple[int, object]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
                return response.status, json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            try:
                return error.code, json.loads(text)
            except ValueError:
                return error.code, text

    def token(self) -> str:
        status, body = self._send("POST", "/auth/token", {"username": self.user, "password": self.password}, None)
        if status not in (200, 201) or not isinstance(body, dict):
            raise RuntimeError(f"POST /auth/token: HTTP {status}: {body}")
        return body["access_token"]

    def call(self, method: str, path: str, body: dict | None = None, expect: tuple[int, ...] = (200,)) -> object:
        if self._token is None:
            self._token = self.token()
        status, answer = self._send(method, path, body, self._token)
        if status == 401:  # expired token
            self._token = self.token()
            status, answer = self._send(method, path, body, self._token)
        if status not in expect:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {answer}")
        return answer

    def get(self, path: str) -> dict:
        return self.call("GET", path)

    def health(self) -> dict:
        """GET /api/v2/monitor/health (no login needed)."""
        status, body = self._send("GET", "/api/v2/monitor/health", None, None)
        if status != 200 or not isinstance(body, dict):
            raise OSError(f"health: HTTP {status}")
        return body

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.call("PATCH", f"/api/v2/dags/{dag_id}?update_mask=is_paused", {"is_paused": paused})

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        body = self.call(
            "POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}}, expect=(200, 201)
        )
        return body["dag_run_id"]

    def set_variable(self, key: str, value: str) -> None:
        """Create or replace an Airflow Variable."""
        body = {"key": key, "value": value}
        status = self.call("PATCH", f"/api/v2/variables/{key}", body, expect=(200, 404))
        if isinstance(status, dict) and status.get("key") == key:
            return
        self.call("POST", "/api/v2/variables", body, expect=(200, 201))

    def dag_runs(self, dag_id: str) -> list[dict]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns?limit=1000&order_by=run_after")["dag_runs"]

    def dag_run(self, dag_id: str, run_id: str) -> dict:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.request.quote(run_id, safe='')}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        run = urllib.request.quote(run_id, safe="")
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run}/taskInstances")["task_instances"]

    def wait_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        """Wait until the run is finished; its final state."""
        state = wait_for(
            f"{dag_id} run {run_id} finished",
            lambda: (s := self.dag_run(dag_id, run_id)["state"]) in ("success", "failed") and s,
            timeout,
            interval=2,
        )
        return state

    def backfills(self, dag_id: str) -> list[dict]:
        return self.get(f"/api/v2/backfills?dag_id={dag_id}&limit=100")["backfills"]
