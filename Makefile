# The project's commands. `make demo` runs the whole pipeline, `make test` the test suite;
# both install what is missing first (scripts/setup.sh).
VENV ?= .venv
PYTHON := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)
# spark-submit finds its PySpark through the python on PATH: the venv's.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
STORAGE = $${OIL_STORAGE_ROOT:-var/storage}
PORT ?= 9999
DURATION ?= 60
MODE ?= complete
# A setting, read where it is defined: $(call setting,MODULE,NAME).
setting = $(shell $(PYTHON) -c "import $(1) as settings; print(settings.$(2))")
# spark-submit of a job by hand, set up as make demo's jobs: Delta's jars (make setup) on the driver's class
# path; the jobs' logging (warnings only, not Spark's INFO lines); a local driver on the loopback address
# (else Spark warns when the hostname resolves to one; a SPARK_LOCAL_IP of yours wins).
SPARK_SUBMIT = SPARK_CONF_DIR=$(call setting,include.settings,SPARK_CONF_DIR) \
    SPARK_LOCAL_IP=$${SPARK_LOCAL_IP:-$(call setting,devstack.settings,LOCAL_SPARK_IP)} \
    spark-submit --jars $(call setting,include.settings,DELTA_JARS)

.DEFAULT_GOAL := help
.PHONY: help setup demo test check lint format sample report word-count sender output-modes hdfs-up hdfs-down hdfs-status hdfs-ls mail-up mail-down mail-ls constraints clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

setup:  ## Java 17+, Kerberos headers, .venv with the pinned packages (idempotent)
	@bash scripts/setup.sh

demo: setup  ## the whole pipeline through airflow dags test on OIL_DATA_DIR (default: generated sample)
	$(PYTHON) scripts/demo.py

test: setup lint  ## lint, then the whole test suite (real Spark, HDFS, Airflow, cluster); what CI runs
	$(PYTHON) -m pytest -n 2

# The inner loop: the tests that need no server (unit tests, DAG integrity, the monitor's data on one
# in-process run of the whole data set), about 2 minutes on 2 cores.
CHECK_TESTS = tests/dags tests/replay tests/plugins tests/devstack tests/testsupport tests/notify/test_notify.py tests/notify/test_incident_mail.py tests/cluster/test_job_package.py tests/cluster/test_deploy_files.py
check: setup lint  ## lint, then the tests that need no server (unit, DAG integrity): the inner loop
	$(PYTHON) -m pytest $(CHECK_TESTS)

lint: setup  ## ruff: lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup  ## ruff: fix what can be fixed, format
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

sample: setup  ## generate the sample data set into var/sample
	$(PYTHON) -m include.replay.sample_data

report: setup  ## counts and first rows of every output under OIL_STORAGE_ROOT
	$(SPARK_SUBMIT) spark_jobs/report.py

word-count: setup  ## the lecture's socket word count on localhost:PORT for DURATION s (feed it: nc -lk 9999, or make sender)
	$(SPARK_SUBMIT) spark_jobs/word_count.py --host localhost --port $(PORT) --duration $(DURATION) --idle 10 \
	    --output $(STORAGE)/output/word_counts

sender: setup  ## serve FILE (or what you type) on PORT, like nc -lk
	$(PYTHON) scripts/socket_sender.py --port $(PORT) --interval 0.5 $(FILE)

output-modes: setup  ## MODE=complete|update|append over the landing directory, one Delta table by batch_id
	$(SPARK_SUBMIT) spark_jobs/output_modes.py --mode $(MODE) --source $(STORAGE)/stream \
	    --output $(STORAGE)/output/modes_$(MODE) --checkpoint $(STORAGE)/checkpoints/modes_$(MODE)

# devstack/hdfs.py (with devstack/process.py and the settings modules it imports) needs only Python's
# standard library, so it works before `make setup`. Python is found by file path, not through PATH:
# `make hdfs-ls PATH=/x` replaces PATH.
HDFS := $(firstword $(wildcard $(PYTHON) /usr/bin/python3 /usr/local/bin/python3) python3) -m devstack.hdfs

hdfs-up:  ## start a one-node HDFS (hdfs://localhost:8020, WebHDFS localhost:9870); fetches the jars once
	$(HDFS) up

hdfs-down:  ## stop HDFS; nothing is left running
	$(HDFS) down

hdfs-status:  ## what runs, safe mode, live DataNodes
	$(HDFS) status

hdfs-ls:  ## list HDFS through WebHDFS, like hadoop fs -ls: make hdfs-ls PATH=/sparkdata/oil
	@$(HDFS) ls $(if $(filter command line,$(origin PATH)),$(PATH),/)

# devstack/mail_server.py: the server needs aiosmtpd (make setup); mail-down and mail-ls only the standard library.
MAIL := $(PYTHON) -m devstack.mail_server

mail-up: setup  ## local SMTP server on 127.0.0.1:8025 (OIL_MAIL_PORT) keeping each message in var/mail (idempotent)
	$(MAIL) up

mail-down:  ## stop the SMTP server; nothing is left running
	$(MAIL) down

mail-ls:  ## the kept messages: time, From, To, Subject, Message-ID, and a count
	@$(MAIL) ls

constraints: setup  ## re-pin every transitive package after a change of requirements.txt
	{ sed -n '1p' constraints.txt; $(PYTHON) -m pip freeze --exclude-editable | sort -f; } > constraints.new
	mv constraints.new constraints.txt

clean:  ## remove generated data, outputs and Airflow state (var/); keeps .venv
	rm -rf var spark-warehouse metastore_db derby.log

# ---- Airflow for real: web UI, scheduler, backfills (devstack/airflow_stack.py) -----------------------
# The stack runs in OIL_AIRFLOW_HOME (default var/airflow) on SQLite, or on the PostgreSQL that
# AIRFLOW__DATABASE__SQL_ALCHEMY_CONN names (make airflow-postgres; export ...=$$(cat var/postgres/url)).
# AIRFLOW_PORT=8090 picks another port than 8080 (later targets find it in <home>/stack/state.json, or
# from another home by the port). REPLAY=fast: a day of sensor time a minute (first alerts within 5 minutes).
AIRFLOW_STACK = $(if $(AIRFLOW_PORT),OIL_AIRFLOW_PORT=$(AIRFLOW_PORT)) $(if $(REPLAY),OIL_REPLAY=$(REPLAY)) \
    $(PYTHON) -m devstack.airflow_stack
.PHONY: airflow-up airflow-down airflow-status airflow-trigger airflow-backfill airflow-postgres airflow-test

airflow-up: setup  ## start api-server (web UI), scheduler, dag-processor, triggerer; prints URL and login (REPLAY=fast)
	$(AIRFLOW_STACK) up

airflow-down:  ## stop the Airflow stack and every process it started
	$(AIRFLOW_STACK) down

airflow-status:  ## which Airflow components run, and their health
	$(AIRFLOW_STACK) status

airflow-trigger: setup  ## stage the inputs, then start the replay: scheduled drops, each streamed (REPLAY=fast: minutes)
	$(AIRFLOW_STACK) trigger

airflow-backfill: setup  ## backfill oil_daily_stats 2014-03-10..14 and wait (REPROCESS=completed re-runs done days)
	$(AIRFLOW_STACK) backfill $(if $(REPROCESS),--reprocess-behavior $(REPROCESS))

airflow-postgres:  ## install (Debian package) and start a local PostgreSQL for Airflow; URL in var/postgres/url
	bash scripts/ci_services.sh postgres

airflow-test: setup  ## only the Airflow stack tests: web UI (chromium), scheduled micro-batches, backfills
	$(PYTHON) -m pytest tests/airflow
# ---- end of Airflow for real -------------------------------------------------------------------------

# ---- Spark standalone cluster (devstack/spark_cluster.py) --------------------------------------------
# Point the DAGs at it: AIRFLOW_CONN_SPARK_DEFAULT='{"conn_type": "spark", "host": "spark://127.0.0.1", "port": 7077}'
.PHONY: spark-up spark-down spark-status

spark-up: setup  ## Spark standalone master spark://127.0.0.1:7077 (UI and /json/ on :8081) and its workers; waits
	$(PYTHON) -m devstack.spark_cluster up

spark-down:  ## stop the Spark cluster, its workers and executors; nothing is left running
	$(PYTHON) -m devstack.spark_cluster down

spark-status:  ## master state, ALIVE workers, running applications
	$(PYTHON) -m devstack.spark_cluster status

# ---- Benchmarks (scripts/bench.py; not part of the tests) --------------------------------------------
.PHONY: bench
BENCH_ARGS ?=
# The distinct 100x alert run's MERGE needs more than the jobs' default 2g driver (local mode: all in it).
bench: export OIL_SPARK_DRIVER_MEMORY ?= 6g

bench: setup  ## benchmarks: Spark vs DuckDB at 1x/10x/100x, a 200-drop stream, latency through Airflow, DAG parse; writes BENCHMARKS.md (BENCH_ARGS="--only growth")
	$(PYTHON) scripts/bench.py $(BENCH_ARGS)
