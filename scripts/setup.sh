#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: Java 17+, the Kerberos headers that the
# HDFS provider's build needs, and a virtual environment with the pinned Python packages.
# Idempotent: a second run only checks (the venv is rebuilt when the pins change).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
STAMP="$VENV/.installed"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

source scripts/apt_install.sh  # after the cd above

record_class_archive_in_background() {
    mkdir -p var
    PYTHONPATH=. nohup "$VENV/bin/python" -m devstack.class_archive > var/class_archive.log 2>&1 &
    ARCHIVE_STARTED=1
    say "class-data archive: recording in the background (log: var/class_archive.log)"
}

java_major() {
    local java_bin=$1
    "$java_bin" -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'
}

find_java() {
    local candidate
    for candidate in "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java || true)"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ] && [ "$(java_major "$candidate")" -ge 17 ] 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if ! java_bin=$(find_java); then
    apt_install openjdk-17-jre-headless \
        || die "Java 17 or newer is needed (Spark 4). Install it (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME."
    java_bin=$(find_java) || die "Java was installed but no Java 17+ is on PATH; set JAVA_HOME."
fi
say "java: $java_bin (major $(java_major "$java_bin"))"

if ! command -v krb5-config >/dev/null || ! command -v gcc >/dev/null; then
    apt_install libkrb5-dev gcc \
        || die "The HDFS provider builds a Kerberos binding: install the Kerberos headers and a C compiler (Debian: apt-get install libkrb5-dev gcc)."
fi

# Maven fetches the pinned Hadoop jars of the local HDFS (make hdfs-up).
if ! command -v mvn >/dev/null; then
    apt_install maven || die "Maven is needed to fetch the Delta Lake and Hadoop jars (Debian: apt-get install maven)."
fi

# Maven fetches the pinned Delta Lake jars that every Spark job runs with (conf/delta/pom.xml), once:
# spark-submit ships them to the executors, so no task ever downloads a jar.
DELTA_LIB=var/delta/lib
delta_wanted=$(sha256sum conf/delta/pom.xml | cut -d' ' -f1)
if [ "$(cat "$DELTA_LIB/.pom.sha256" 2>/dev/null)" != "$delta_wanted" ]; then
    command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch the Delta Lake jars (Debian: apt-get install maven)."
    say "delta lake jars: fetching into $DELTA_LIB (conf/delta/pom.xml)"
    rm -rf "$DELTA_LIB.partial" && mkdir -p "$DELTA_LIB.partial"
    # Maven's output to a log, its tail on the terminal only on failure: Debian's Maven 3.8 prints colour
    # codes even with -B, and -Dstyle.color=never needs 3.9.
    mkdir -p var/delta
    mvn -q -B -f conf/delta/pom.xml dependency:copy-dependencies -DoutputDirectory="$PWD/$DELTA_LIB.partial" \
        > var/delta/maven.log 2>&1 \
        || { tail -n 25 var/delta/maven.log >&2
             die "fetching the Delta Lake jars from Maven Central failed (conf/delta/pom.xml); Maven's log: var/delta/maven.log"; }
    echo "$delta_wanted" > "$DELTA_LIB.partial/.pom.sha256"
    rm -rf "$DELTA_LIB" && mv "$DELTA_LIB.partial" "$DELTA_LIB"
fi
say "delta lake jars: $(ls "$DELTA_LIB"/*.jar | wc -l) in $DELTA_LIB"

"$PYTHON" - <<'PY' || die "Python 3.10 to 3.13 is needed (Airflow 3.3); set PYTHON=/path/to/python3.x."
import sys
sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 13) else 1)
PY

wanted=$(cat requirements.txt constraints.txt | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ]; then
    say "python packages: up to date in $VENV"
else
    say "python packages: installing into $VENV (a few minutes the first time)"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    if [ "${SETUP_CLASS_ARCHIVE:-now}" = background ]; then
        # The Spark jobs' own packages first (pinned by the constraints, so the full install below keeps
        # them): the class-data archive is recorded while pip installs the rest.
        "$VENV/bin/python" -m pip install --quiet pyspark delta-spark pandas pyarrow -c constraints.txt
        record_class_archive_in_background
    fi
    "$VENV/bin/python" -m pip install --quiet -r requirements.txt -c constraints.txt
    "$VENV/bin/python" -m pip check
    echo "$wanted" > "$STAMP"
    say "done"
fi

# The Spark drivers' class-data archive (devstack/class_archive.py): once per Java, Spark and Delta.
# SETUP_CLASS_ARCHIVE=background records it in the background (.ci/run: while pip installs, HDFS and the
# services start; `make test`'s setup then waits for it through its lock, or makes it if that one failed).
case "${SETUP_CLASS_ARCHIVE:-now}" in
    background) [ -n "${ARCHIVE_STARTED:-}" ] || record_class_archive_in_background ;;
    *) PYTHONPATH=. "$VENV/bin/python" -m devstack.class_archive ;;
esac
