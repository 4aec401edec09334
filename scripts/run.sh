#!/usr/bin/env bash
# Runs the whole assistant on the embedded default (SQLite, in-process locks) with the demo
# commune's data: Rasa server (5005), action server (5055) and back office (8000).
# Installs what is missing and trains a model when there is none or the training data changed.
# Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

source scripts/dev_secrets.sh
export RASA_PORT=${RASA_PORT:-5005} ACTIONS_PORT=${ACTIONS_PORT:-5055} BACKOFFICE_PORT=${BACKOFFICE_PORT:-8000}
# Every process listens on the loopback interface only; a reverse proxy publishes what citizens
# need. RASA_HOST=0.0.0.0 exposes the Rasa server (its HTTP API stays behind RASA_AUTH_TOKEN);
# the action server (ACTIONS_HOST) only ever needs to be reached by the Rasa server.
export RASA_HOST=${RASA_HOST:-127.0.0.1} ACTIONS_HOST=${ACTIONS_HOST:-127.0.0.1}
# Origins allowed to open the chat widget's socket.io connection (space-separated), e.g.
# "https://www.ville-exemple.fr http://localhost:8000". Default "*": any site may embed the widget.
export RASA_CORS_ORIGINS=${RASA_CORS_ORIGINS:-*}
export SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2

# DATABASE_URL on PostgreSQL (and REDIS_URL) switch to the production set-up.
eval "$(.venv/bin/python -m deploy.production_env)"
# Services that are down stop the start within seconds, with a clear message.
.venv/bin/python -m deploy.preflight >/dev/null

# The one migration step (every process only checks the schema), then the demo commune.
.venv/bin/python -m deploy.launcher prepare
# A first administrator for the back office, created once; its password is kept in var/.
if [ ! -s var/dev-admin-password ]; then
  .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))' > var/dev-admin-password
fi
.venv/bin/python -m backoffice.users create --username admin --role admin --password-stdin --if-missing < var/dev-admin-password
scripts/train.sh

# Rasa's SQLite tracker store (embedded default) is created private (0600), like var/ itself.
if [ "${RASA_ENDPOINTS:-endpoints.yml}" = endpoints.yml ] && [ ! -e var/rasa_tracker.db ]; then
  (umask 077 && : > var/rasa_tracker.db)
fi
# deploy/launcher.py starts the action server (deploy.action_server: bearer token
# ACTION_SERVER_TOKEN, ACTIONS_HOST), the back office (127.0.0.1) and the Rasa server
# (RASA_HOST, --cors RASA_CORS_ORIGINS, endpoints RASA_ENDPOINTS), awaits their health routes
# and stops them all on Ctrl-C or when one of them stops.
exec .venv/bin/python -m deploy.launcher run
