"""spark-submit SIGKILLed in the middle of a micro-batch, then the task retried: the outputs equal a
clean run's (the oracle), nothing lost, nothing twice.

Through Airflow (`airflow dags test oil_streaming`, the DAG's own spark-submit command and retries):
when the alert query has committed some micro-batches and planned the next one (its checkpoint has
offsets/N and no commits/N), the spark-submit process tree is killed with SIGKILL. The task fails,
Airflow retries it, the retry takes over the dead run's checkpoint lock, re-runs batch N (the file
sink ignores what the killed attempt wrote: its metadata log has no entry for N) and goes on.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

from devstack.airflow_stack import wait_for
from devstack.local_airflow import airflow_env
from include.settings import Layout
from include.spark.checkpoint_lock import LOCK_FOLDER
from tests.reliability.conftest import (
    alive,
    assert_outputs_equal_the_oracle,
    batches,
    dag_run,
    finish,
    in_flight_batch,
    spark_submit_tree,
)


def test_a_run_killed_mid_batch_then_retried_equals_the_oracle(
    spark, fault_storage, fault_airflow_home, fault_expected, data_dir, tmp_path
):
    root = fault_storage
    env = airflow_env(fault_airflow_home, OIL_DATA_DIR=str(data_dir), OIL_STORAGE_ROOT=root.as_uri())
    checkpoint = root / "checkpoints" / "alerts"
    log = tmp_path / "streaming.log"
    started = time.monotonic()
    with dag_run("oil_streaming", env, log, '{"max_files_per_trigger": 1}') as run:

        def in_flight() -> int | None:
            assert run.poll() is None, f"the run ended before a batch was caught in flight: {log.read_text()[-3000:]}"
            return in_flight_batch(checkpoint)

        batch = wait_for("a micro-batch in flight", in_flight, timeout=600, interval=0.1)
        victims = spark_submit_tree(str(root))
        assert victims, "no spark-submit of this run found"
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):  # gone with its parent already
                os.kill(pid, signal.SIGKILL)
        wait_for("the killed processes to be gone", lambda: not any(alive(pid) for pid in victims), timeout=30)
        # killed with batch N planned and not committed (a later batch may have been planned meanwhile)
        assert batch not in batches(checkpoint, "commits")
        text = finish(run, log)
    elapsed = time.monotonic() - started
    assert "new_state=up_for_retry" in text  # the killed try failed, and was retried
    # the killed try took the lock; the retry found its holder dead and took the next generation
    assert f"checkpoint lock {checkpoint.as_uri()}/{LOCK_FOLDER}/000000000001 taken" in text
    assert f"checkpoint lock {checkpoint.as_uri()}/{LOCK_FOLDER}/000000000002 taken" in text
    assert_outputs_equal_the_oracle(spark, Layout(root.as_uri()), fault_expected)
    # every batch committed once, none skipped; the lock is free again
    committed = sorted(batches(checkpoint, "commits"))
    assert committed == list(range(len(committed)))
    (lock,) = (checkpoint / LOCK_FOLDER).iterdir()
    assert lock.read_text() == '{"free": true}'
    print(f"killed in batch {batch}; {len(committed)} batches; {elapsed:.0f} s")
