#!/usr/bin/env bash
# Runs the whole assistant on the embedded default (SQLite, in-process locks) with the demo
# commune's data: Rasa server (5005), action server (5055) and back office (8000).
# Installs what is missing and trains a model when there is none or the training data changed.
# Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

mkdir -p var
if [ -z "${RASA_AUTH_TOKEN:-}" ]; then
  [ -s var/dev-rasa-token ] || .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))' > var/dev-rasa-token
  RASA_AUTH_TOKEN=$(cat var/dev-rasa-token)
  echo "RASA_AUTH_TOKEN not set: development token written to var/dev-rasa-token"
fi
export RASA_AUTH_TOKEN
export RASA_PORT=${RASA_PORT:-5005} ACTIONS_PORT=${ACTIONS_PORT:-5055} BACKOFFICE_PORT=${BACKOFFICE_PORT:-8000}
export SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2

.venv/bin/python -m townhall.demo
scripts/train.sh

ENDPOINTS=${RASA_ENDPOINTS:-endpoints.yml}
pids=()
stop() {
  trap - INT TERM EXIT
  echo "Arrêt des services..."
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

.venv/bin/rasa run actions --actions actions -p "$ACTIONS_PORT" &
pids+=($!)
.venv/bin/uvicorn --factory backoffice.app:create_app --host 127.0.0.1 --port "$BACKOFFICE_PORT" &
pids+=($!)
.venv/bin/rasa run --enable-api --auth-token "$RASA_AUTH_TOKEN" --cors "*" -p "$RASA_PORT" \
  --credentials credentials.yml --endpoints "$ENDPOINTS" -m models &
pids+=($!)

echo "Rasa : http://localhost:$RASA_PORT  actions : http://localhost:$ACTIONS_PORT/health  back office : http://localhost:$BACKOFFICE_PORT (démo : /demo). Ctrl-C pour tout arrêter."
wait -n "${pids[@]}"
