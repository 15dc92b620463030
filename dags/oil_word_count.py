"""
### The lecture's first stream: running word counts of a TCP socket

Runs `spark_jobs/word_count.py`: reads the lines a TCP server sends, counts the words
(whitespace-separated) in `complete` mode, prints each micro-batch's table in the task log as the
console sink does, and keeps the latest counts in `<root>/output/word_counts/` (a Delta table: `value`,
`count`). The job stops after `duration` seconds, or earlier once lines have come and none has for
`idle` seconds (0: no idle limit).

Start the server first, on the machine the Spark driver runs on (or give its `host`):

- `nc -lk 9999`, then type lines; or
- `python scripts/socket_sender.py --port 9999 --interval 0.5 some.txt` (every line of the file,
  to each client that connects; without a file, what you type).

Then trigger the DAG (no schedule): `airflow dags test oil_word_count -c '{"duration": 60}'`.
A run that finds no server fails (connection refused). The socket source keeps no offsets: each
run counts only what is sent while it runs.
"""

from __future__ import annotations

from airflow.sdk import Param

from include import settings
from include.airflow.dag_defaults import pipeline_dag
from include.airflow.spark_task import spark_job

LAYOUT = settings.Layout()


@pipeline_dag(
    "oil_word_count",
    __doc__,
    tags=["streaming", "lecture"],
    schedule=None,
    max_active_runs=1,  # one listener on the port, one writer of the output
    params={
        "host": Param(
            "localhost",
            type="string",
            pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$",  # a host name or IPv4 address, never an option
            description="host of the line server",
        ),
        "port": Param(9999, type="integer", minimum=1, maximum=65535, description="its TCP port"),
        "duration": Param(60, type="integer", minimum=1, maximum=3600, description="seconds to run"),
        "idle": Param(
            0,
            type="integer",
            minimum=0,
            maximum=3600,
            description="stop after this many seconds without a line; 0: no limit",
        ),
    },
)
def oil_word_count():
    spark_job(
        "word_count",
        "word_count",
        [
            "--host",
            "{{ params.host }}",
            "--port",
            "{{ params.port }}",
            "--duration",
            "{{ params.duration }}",
            "--idle",
            "{{ params.idle }}",
            "--output",
            LAYOUT.output("word_counts"),
        ],
    )


oil_word_count()
