#!/usr/bin/env bash
# The production set-up on one server: several Rasa servers and action servers behind nginx,
# PostgreSQL (application database and Rasa's tracker store) and a Redis lock store.
#   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/townhall REDIS_URL=redis://127.0.0.1:6379/1 \
#   RASA_PROCESSES=2 ACTION_PROCESSES=2 scripts/run_production.sh
# Installs what is missing (the virtual environment, Debian's nginx), trains a model when
# needed, checks the services (a clear error within seconds when one is down), loads the demo
# commune, then runs everything until Ctrl-C. See docs/deployment.md.
# Every process (and nginx) listens on 127.0.0.1 only. The action servers answer only calls with
# ACTION_SERVER_TOKEN (a development one in var/ when unset); RASA_CORS_ORIGINS (space-separated,
# default "*") lists the sites that may open the chat widget.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --production
export DATABASE_URL=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/townhall}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/1}
source scripts/dev_secrets.sh
scripts/train.sh
exec .venv/bin/python -m deploy.cluster "$@"
