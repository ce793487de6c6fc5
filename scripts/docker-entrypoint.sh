#!/bin/sh
# Container entrypoint. Only the web service sets RUN_MIGRATIONS=1, so one container
# applies migrations before serving and the worker/beat never race it.
set -eu

if [ "${RUN_MIGRATIONS:-0}" = "1" ]; then
  python manage.py migrate --noinput
fi

exec "$@"
