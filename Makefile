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

.DEFAULT_GOAL := help
.PHONY: help setup demo test lint format sample report word-count sender output-modes hdfs-up hdfs-down hdfs-status hdfs-ls constraints clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup:  ## Java 17+, Kerberos headers, .venv with the pinned packages (idempotent)
	@bash scripts/setup.sh

demo: setup  ## the whole pipeline through airflow dags test on OIL_DATA_DIR (default: generated sample)
	$(PYTHON) scripts/demo.py

test: setup lint  ## lint, then the test suite (real Spark, real Airflow)
	$(PYTHON) -m pytest

lint: setup  ## ruff: lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup  ## ruff: fix what can be fixed, format
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

sample: setup  ## generate the sample data set into var/sample
	$(PYTHON) -m include.sample_data

report: setup  ## counts and first rows of every output under OIL_STORAGE_ROOT
	spark-submit spark_jobs/report.py

word-count: setup  ## the lecture's socket word count on localhost:PORT for DURATION s (feed it: nc -lk 9999, or make sender)
	spark-submit spark_jobs/word_count.py --host localhost --port $(PORT) --duration $(DURATION) --idle 10 \
	    --output $(STORAGE)/output/word_counts

sender: setup  ## serve FILE (or what you type) on PORT, like nc -lk
	$(PYTHON) scripts/socket_sender.py --port $(PORT) --interval 0.5 $(FILE)

output-modes: setup  ## MODE=complete|update|append over the landing directory, a batch_id=N folder per micro-batch
	spark-submit spark_jobs/output_modes.py --mode $(MODE) --source $(STORAGE)/stream \
	    --output $(STORAGE)/output/modes_$(MODE) --checkpoint $(STORAGE)/checkpoints/modes_$(MODE)

# scripts/hdfs.py needs only Python's standard library, so it works before `make setup`. Python is
# found by file path, not through PATH: `make hdfs-ls PATH=/x` replaces PATH.
HDFS := $(firstword $(wildcard $(PYTHON) /usr/bin/python3 /usr/local/bin/python3) python3) scripts/hdfs.py

hdfs-up:  ## start a one-node HDFS (hdfs://localhost:8020, WebHDFS localhost:9870); fetches the jars once
	$(HDFS) up

hdfs-down:  ## stop HDFS; nothing is left running
	$(HDFS) down

hdfs-status:  ## what runs, safe mode, live DataNodes
	$(HDFS) status

hdfs-ls:  ## list HDFS through WebHDFS, like hadoop fs -ls: make hdfs-ls PATH=/sparkdata/oil
	@$(HDFS) ls $(if $(filter command line,$(origin PATH)),$(PATH),/)

constraints: setup  ## re-pin every transitive package after a change of requirements.txt
	{ sed -n '1p' constraints.txt; $(PYTHON) -m pip freeze --exclude-editable | sort -f; } > constraints.new
	mv constraints.new constraints.txt

clean:  ## remove generated data, outputs and Airflow state (var/); keeps .venv
	rm -rf var spark-warehouse metastore_db derby.log
