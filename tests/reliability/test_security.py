"""No secret in the repository or in the logs of a run; passwords and connections come only from the
environment or git-ignored files; the web UI and API ask for a login; no command goes through a shell."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from pathlib import Path
from urllib.parse import urlparse

from include import settings
from include.local_airflow import airflow, airflow_env
from scripts.airflow_stack import Stack

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


def test_the_web_ui_and_the_api_ask_for_a_login(tmp_path):
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


def test_no_secret_in_the_logs_of_a_run(tmp_path, data_dir):
    """A run whose connections and Airflow keys hold passwords: none of them shows in its output or task logs."""
    planted = {name: secrets.token_urlsafe(16) for name in ("spark", "webhdfs", "jwt", "api")}
    root = tmp_path / "storage"
    (root / "stream").mkdir(parents=True)
    first_day = (data_dir / settings.SENSOR_FILE).read_text().splitlines()[:50]
    (root / "stream" / "sensor_20140310T0000_1440m.csv").write_text("\n".join(first_day) + "\n")
    env = airflow_env(
        tmp_path / "airflow",
        OIL_STORAGE_ROOT=root.as_uri(),
        AIRFLOW_CONN_SPARK_DEFAULT=json.dumps(
            {"conn_type": "spark", "host": "local[2]", "login": "oil", "password": planted["spark"]}
        ),
        AIRFLOW_CONN_WEBHDFS_DEFAULT=json.dumps(
            {"conn_type": "webhdfs", "host": "localhost", "port": 9870, "login": "oil", "password": planted["webhdfs"]}
        ),
        AIRFLOW__API_AUTH__JWT_SECRET=planted["jwt"],
        AIRFLOW__API__SECRET_KEY=planted["api"],
    )
    airflow(["db", "migrate"], env)
    result = airflow(["dags", "test", "oil_daily_stats", "2014-03-10"], env)
    logs = [path for path in (tmp_path / "airflow" / "logs").rglob("*") if path.is_file()]
    texts = [result.stdout, result.stderr, *(path.read_text(errors="replace") for path in logs)]
    assert any("daily_stats: 2014-03-10: 1 (pump, day) rows written" in text for text in texts)  # Spark ran
    for name, secret in planted.items():
        assert not any(secret in text for text in texts), f"the {name} secret shows in the output of a run"
