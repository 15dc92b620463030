"""No secret in the repository or in the logs of a run; passwords and connections come only from the
environment or git-ignored files; the web UI and API ask for a login; no command goes through a shell."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest

from devstack.airflow_stack import Api, Stack, wait_for
from devstack.local_airflow import BIN_DIR
from include import settings
from tests.airflow.conftest import free_port

# Credentials written out: a URL with a password, a password assigned a literal, a private key.
CREDENTIAL = re.compile(
    r"""\w+://[^/\s:@'"]+:[^/\s@'"{}$]+@|password\s*[:=]\s*["'][^"'{}$]+["']|-----BEGIN [A-Z ]*PRIVATE KEY-----""",
    re.IGNORECASE,
)
NO_SHELL = re.compile(r"shell\s*=\s*True|os\.system\(|os\.popen\(|BashOperator|commands\.getoutput")


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=settings.PROJECT_DIR, capture_output=True, text=True, check=False)


def tracked_files() -> dict[str, str]:
    names = git("ls-files", "-z").stdout.split("\0")
    return {
        name: (settings.PROJECT_DIR / name).read_text(errors="replace")
        for name in names
        if name and (settings.PROJECT_DIR / name).is_file()
    }


def secrets_on_this_machine() -> set[str]:
    """The passwords the project generated here: PostgreSQL's, and the web UI's admin password."""
    found = set()
    postgres = settings.VAR_DIR / "postgres"
    if (postgres / "password").is_file():
        found.add((postgres / "password").read_text().strip())
    if (postgres / "url").is_file():
        found.add(urlparse((postgres / "url").read_text().strip()).password or "")
    for passwords in (settings.VAR_DIR / "airflow").glob("**/*passwords.json.generated"):
        found.update(json.loads(passwords.read_text()).values())
    return {value for value in found if len(value) >= 8}


def test_no_secret_and_no_written_out_credential_in_the_repository(tmp_path):
    generated = Stack(tmp_path / "airflow").password()  # the way the project makes the admin password
    known = secrets_on_this_machine() | {generated}
    files = tracked_files()
    assert len(files) > 50
    for name, text in files.items():
        assert not CREDENTIAL.search(text), f"{name}: {CREDENTIAL.search(text).group(0)[:12]}..."
        assert not any(secret in text for secret in known), f"{name} holds a generated password"


def test_secrets_live_only_in_git_ignored_files(tmp_path):
    stack = Stack(tmp_path / "airflow")
    stack.password()
    assert stack.password_file.stat().st_mode & 0o777 == 0o600  # readable by its owner only
    places = [
        ".env",
        "var/postgres/url",
        "var/postgres/password",
        Stack().password_file.relative_to(settings.PROJECT_DIR),
        "var/airflow/airflow.cfg",
    ]
    for place in places:
        assert git("check-ignore", "-q", str(place)).returncode == 0, f"{place} is not git-ignored"
    # the settings template documents variables, it holds no value
    template = (settings.PROJECT_DIR / ".env.example").read_text().splitlines()
    assert all(line.startswith("#") or not line.strip() for line in template)


def test_the_stack_is_configured_to_ask_for_a_login(tmp_path):
    env = Stack(tmp_path / "airflow").env()
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("SimpleAuthManager")
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"  # True would skip the login
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin"
    for name, text in tracked_files().items():
        assert not re.search(r"ALL_ADMINS\W+True", text, re.IGNORECASE), name


def test_no_command_is_built_through_a_shell():
    this_file = Path(__file__).resolve().relative_to(settings.PROJECT_DIR).as_posix()  # it names them
    for name, text in tracked_files().items():
        if name.endswith(".py") and name != this_file:
            assert not NO_SHELL.search(text), f"{name}: {NO_SHELL.search(text).group(0)}"


@pytest.fixture(scope="module")
def api_server(tmp_path_factory) -> Stack:
    """The api-server (web UI and REST API) of a stack of its own, on SQLite; stopped at the end."""
    home = tmp_path_factory.mktemp("secured") / "airflow"
    stack = Stack(home, port=free_port(), AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db")
    stack.run_dir.mkdir(parents=True)
    stack.password()
    stack.airflow("db", "migrate")
    with stack.log_file("api-server").open("ab") as log:
        server = subprocess.Popen(
            [str(BIN_DIR / "airflow"), "api-server", "--port", str(stack.port), "--host", "127.0.0.1"],
            env=stack.env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with its workers
        )
    try:
        wait_for("the api-server", stack.api().health, timeout=240)
        yield stack
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_the_rest_api_answers_only_with_a_login(api_server):
    anonymous = Api(api_server.url, password="")
    for path in ("/api/v2/dags", "/api/v2/connections", "/api/v2/config"):
        status, _ = anonymous._send("GET", path, None, None)
        assert status == 401, f"GET {path} without a token: HTTP {status}"
    status, _ = anonymous._send("POST", "/auth/token", {"username": "admin", "password": "wrong"}, None)
    assert status == 401
    assert "dags" in api_server.api().get("/api/v2/dags")  # with the generated password: in


def resolved_connection(env: dict[str, str], conn_id: str) -> list:
    """host, port, login and password of a connection as a task in env resolves it (through its hook)."""
    code = (
        "import json, sys; from airflow.providers.apache.hdfs.hooks.webhdfs import WebHDFSHook; "
        "c = WebHDFSHook.get_connection(sys.argv[1]); print(json.dumps([c.host, c.port, c.login, c.password]))"
    )
    result = subprocess.run([str(BIN_DIR / "python"), "-c", code, conn_id], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_no_secret_in_the_logs_of_a_run(api_server, tmp_path):
    """A run whose connections and Airflow keys hold passwords: none of them, nor the admin password,
    shows in its output or task logs. The planted Spark connection is the one the run used (its master in
    the spark-submit command); the planted WebHDFS one resolves, in the run's environment, to its password
    (this run, on a local root, does not open WebHDFS)."""
    planted = {name: secrets.token_urlsafe(16) for name in ("spark", "webhdfs", "jwt", "api")}
    planted["admin"] = api_server.password()
    # An empty root: the table maintenance starts Spark with the planted connection, finds no table and says so.
    root = tmp_path / "storage"
    env = {
        **api_server.env(),
        "OIL_STORAGE_ROOT": root.as_uri(),
        "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps(
            {"conn_type": "spark", "host": "local[1]", "login": "oil", "password": planted["spark"]}  # not the default
        ),
        "AIRFLOW_CONN_WEBHDFS_DEFAULT": json.dumps(
            {"conn_type": "webhdfs", "host": "localhost", "port": 9870, "login": "oil", "password": planted["webhdfs"]}
        ),
        "AIRFLOW__API_AUTH__JWT_SECRET": planted["jwt"],
        "AIRFLOW__API__SECRET_KEY": planted["api"],
    }
    result = subprocess.run(
        [str(BIN_DIR / "airflow"), "dags", "test", "oil_table_maintenance", "2014-03-10"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    logs = [path for path in (api_server.home / "logs").rglob("*") if path.is_file()]
    texts = [result.stdout, result.stderr, *(path.read_text(errors="replace") for path in logs)]
    assert any("table_maintenance summary: 0 tables" in text for text in texts)  # Spark ran
    assert any(re.search(r"Spark-Submit cmd: \S*spark-submit --master local\[1\] ", text) for text in texts)
    assert resolved_connection(env, "webhdfs_default") == ["localhost", 9870, "oil", planted["webhdfs"]]
    for name, secret in planted.items():
        assert not any(secret in text for text in texts), f"the {name} secret shows in the output of a run"
