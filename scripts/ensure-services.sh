#!/usr/bin/env bash
# Make sure the services `make test` / `make bench` need are installed and running:
# PostgreSQL on 127.0.0.1:5432 (user postgres / password postgres, database smartplus),
# Redis on 127.0.0.1:6379, and Debian's Chromium for the Playwright e2e tests.
#
# Idempotent: on the project machines and CI everything already runs and this only
# checks; on a bare Debian 12 box (as root, no systemd) it installs and starts what
# is missing. Safe to run any number of times.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

PG_HOST=127.0.0.1 PG_PORT=5432 PG_DB=smartplus
REDIS_HOST=127.0.0.1 REDIS_PORT=6379

log() { echo "ensure-services: $*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# apt may be busy (e.g. an unattended install in the background): wait for its lock
# instead of failing, and retry a few times for transient mirror errors.
apt_get() {
  local i
  for i in 1 2 3 4 5; do
    as_root apt-get -o DPkg::Lock::Timeout=300 "$@" && return 0
    log "apt-get $* failed (attempt $i), retrying in 15 s"; sleep 15
  done
  return 1
}

# --- 1. Packages (only what is missing, so the usual run never touches apt) ---
need=()
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt_get update -qq
  apt_get install -y -qq "${need[@]}" >/dev/null
fi

# --- 2. PostgreSQL ---
# No systemd in containers/CI, so start the newest installed cluster directly.
if ! pg_isready -h "$PG_HOST" -p "$PG_PORT" -q; then
  ver="$(ls /etc/postgresql | sort -V | tail -1)"
  log "starting PostgreSQL $ver"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  for _ in $(seq 30); do pg_isready -h "$PG_HOST" -p "$PG_PORT" -q && break; sleep 1; done
  pg_isready -h "$PG_HOST" -p "$PG_PORT" -q || { log "PostgreSQL did not come up"; exit 1; }
fi

# Debian's default pg_hba asks for a password on 127.0.0.1 (scram), so give the
# postgres role the password the test settings use. Skipped when it already works
# (also the trust-auth machines), which keeps this runnable without root there.
export PGPASSWORD=postgres
pg_tcp() { psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -XtAq "$@"; }
if ! pg_tcp -c 'SELECT 1' >/dev/null 2>&1; then
  log "setting the postgres role's password"
  as_root su postgres -c "psql -Xq -c \"ALTER USER postgres PASSWORD 'postgres'\""
fi
# pytest-django creates test_$PG_DB itself; the plain database is for manage.py
# commands (check, makemigrations' history check, bench) run with settings.test.
if [ "$(pg_tcp -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != 1 ]; then
  log "creating database $PG_DB"
  pg_tcp -c "CREATE DATABASE $PG_DB"
fi

# --- 3. Redis ---
if ! redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  log "starting redis-server"
  # No persistence: it only holds the test cache and broker, and /tmp is writable everywhere.
  redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" \
    --save "" --appendonly no --dir /tmp --logfile /tmp/redis-smartplus.log
  for _ in $(seq 20); do redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.5; done
  redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1 || { log "Redis did not come up"; exit 1; }
fi

log "PostgreSQL $PG_HOST:$PG_PORT, Redis $REDIS_HOST:$REDIS_PORT and /usr/bin/chromium are ready"
