#!/usr/bin/env bash
# What the Airflow stack tests (tests/airflow/) need besides the venv, from Debian packages:
#   postgres  PostgreSQL (package postgresql), started, with a role `oil_airflow` (LOGIN CREATEDB) and a
#             database `oil_airflow`; its URL, with a password generated on first use, goes to the
#             git-ignored var/postgres/url. The tests use it when that file is there (on CI they
#             require it), each session in a database of its own.
#   browser   Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver) for the
#             web UI test. No browser is downloaded.
# Usage: bash scripts/ci_services.sh [all|postgres|browser|postgres-stop]   (default: all; idempotent)
set -euo pipefail
cd "$(dirname "$0")/.."

STATE=var/postgres
ROLE=oil_airflow
say() { printf '[services] %s\n' "$*"; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

source scripts/apt_install.sh  # after the cd above

# Runs a command as the postgres system user.
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        sudo -n -u postgres "$@"
    fi
}

# First cluster of pg_lsclusters: "version name port status".
cluster() { pg_lsclusters --no-header 2>/dev/null | awk 'NR == 1 {print $1, $2, $3, $4}'; }

postgres_up() {
    if ! command -v pg_lsclusters >/dev/null || ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
        apt_install postgresql || die "PostgreSQL is needed: apt-get install postgresql (as root)"
    fi
    if [ -z "$(cluster)" ]; then
        local version
        version=$(ls /usr/lib/postgresql | sort -n | tail -1)
        say "creating cluster $version/main"
        pg_createcluster "$version" main >/dev/null
    fi
    local version name port status
    read -r version name port status <<<"$(cluster)"
    if [ "$status" != "online" ]; then
        say "starting PostgreSQL $version/$name on port $port"
        pg_ctlcluster "$version" "$name" start
    fi
    local waited=0
    until pg_isready -q -h 127.0.0.1 -p "$port"; do
        [ "$waited" -lt 30 ] || die "PostgreSQL $version/$name does not accept connections on port $port after 30 s"
        sleep 1
        waited=$((waited + 1))
    done
    mkdir -p "$STATE"
    chmod 700 "$STATE"
    if [ ! -s "$STATE/password" ]; then
        (umask 077 && od -An -N18 -tx1 /dev/urandom | tr -d ' \n' > "$STATE/password")
    fi
    local password
    password=$(cat "$STATE/password")
    as_postgres psql -q -v ON_ERROR_STOP=1 -p "$port" -d postgres <<SQL >/dev/null
SELECT format('CREATE ROLE %I LOGIN CREATEDB', '$ROLE')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') \gexec
ALTER ROLE $ROLE LOGIN CREATEDB PASSWORD '$password';
SELECT format('CREATE DATABASE %I OWNER %I', '$ROLE', '$ROLE')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$ROLE') \gexec
SQL
    (umask 077 && echo "postgresql://$ROLE:$password@127.0.0.1:$port/$ROLE" > "$STATE/url")
    say "PostgreSQL $version/$name on 127.0.0.1:$port: role and database $ROLE; URL in $STATE/url"
}

postgres_stop() {
    local version name port status
    read -r version name port status <<<"$(cluster)"
    if [ "${status:-}" = "online" ]; then
        pg_ctlcluster "$version" "$name" stop
        say "stopped PostgreSQL $version/$name"
    fi
}

browser() {
    if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
        apt_install chromium chromium-driver || die "Debian's chromium and chromium-driver are needed (apt-get install)"
    fi
    say "$(/usr/bin/chromium --version 2>/dev/null | head -1); $(/usr/bin/chromedriver --version | cut -d' ' -f1-2)"
}

case "${1:-all}" in
    all) postgres_up; browser ;;
    postgres) postgres_up ;;
    postgres-stop) postgres_stop ;;
    browser) browser ;;
    *) die "usage: $0 [all|postgres|browser|postgres-stop]" ;;
esac
