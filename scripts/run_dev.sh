#!/usr/bin/env bash
# Start the web server and a Celery worker (with beat) together; Ctrl-C stops both.
set -euo pipefail
host=${1:-127.0.0.1}
port=${2:-8000}
venv=.venv/bin
mkdir -p var/log

"$venv/celery" -A config worker --beat --loglevel=INFO --concurrency=2 \
  --schedule=var/celerybeat-schedule >var/log/worker.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM

cat <<MSG

  Portrait Studio is running at http://$host:$port/
  Celery worker log: var/log/worker.log
  Demo logins are listed above (seed_demo).

MSG
"$venv/python" manage.py runserver "$host:$port"
