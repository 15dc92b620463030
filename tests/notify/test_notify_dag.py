"""The notify task in real Airflow runs (`airflow dags test oil_streaming`), on a copy of the session's
whole-data-set run, its Spark tasks marked successful (their outputs are there): the mail server down, the
task fails with one line and is retried; once the server is back, each incident's message goes out once. A
second run of the DAG sends nothing again. The expected messages come from the oracle of the rule."""

from __future__ import annotations

import shutil

from devstack.local_airflow import airflow, airflow_env
from devstack.mail_server import MailServer
from devstack.process import wait_for
from include import settings
from tests.devstack.test_mail_server import free_port
from tests.reliability.conftest import dag_run, finish
from testsupport import oracle
from testsupport.mailbox import expected_ids, outbox_ids, received

SPARK_TASKS = "alerts|enrich_alerts|incidents"


def test_smtp_down_the_task_retries_then_sends_each_message_once_and_a_rerun_sends_none(
    local_pipeline, data_dir, tmp_path
):
    root = tmp_path / "storage"
    shutil.copytree(local_pipeline["root"], root)
    home = tmp_path / "airflow"
    mail = MailServer(tmp_path / "mail", free_port())
    env = airflow_env(
        home,
        OIL_DATA_DIR=str(data_dir),
        OIL_STORAGE_ROOT=root.as_uri(),
        **{f"AIRFLOW_CONN_{settings.SMTP_CONN_ID.upper()}": mail.airflow_connection()},
    )
    airflow(["db", "migrate"], env)
    expected = expected_ids(oracle.readings(data_dir / settings.SENSOR_FILE))
    refused = f"notify: SMTP server {mail.host}:{mail.port} (Airflow connection {settings.SMTP_CONN_ID}) failed"
    log = tmp_path / "first.log"
    try:
        with dag_run("oil_streaming", env, log, options=("--mark-success-pattern", SPARK_TASKS)) as run:
            # The server is down: notify's first try fails; the server comes back before the retry.
            def still_running() -> None:
                assert run.poll() is None, f"the run ended before notify failed: {log.read_text()[-3000:]}"

            wait_for("notify's first try to fail", lambda: refused in log.read_text(), 600, watch=still_running)
            assert received(mail) == [] and outbox_ids(root.as_uri()) == []
            mail.up()
            text = finish(run, log)
        assert "new_state=up_for_retry" in text
        assert [message["Message-ID"] for message in received(mail)] == expected
        assert outbox_ids(root.as_uri()) == sorted(expected)

        again = tmp_path / "again.log"
        with dag_run("oil_streaming", env, again, options=("--mark-success-pattern", SPARK_TASKS)) as run:
            text = finish(run, again)
        assert f"notify: 0 messages sent (0 opened, 0 resolved), {len(expected)} already sent earlier" in text
        assert [message["Message-ID"] for message in received(mail)] == expected
    finally:
        mail.down()
