#!/usr/bin/env bash
# Installs what is missing and runs every check: training data validation, a model trained
# when needed, test stories (rules and stories, failing on any prediction error), the NLU
# evaluation on the held-out set (figures printed), and pytest (core, actions, back office,
# channels, browser), on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
export SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2 PYTHONHASHSEED=0

# PostgreSQL is started by this kind of machine; start it if it is installed but down.
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
fi

echo "== rasa data validate"
.venv/bin/rasa data validate --domain domain --data data --config config.yml

echo "== model"
scripts/train.sh
MODEL=$(.venv/bin/python -m deploy.launcher newest-model)
export TEST_RASA_MODEL="$PWD/$MODEL"

echo "== test stories ($MODEL)"
# endpoints.yml sends the action server's token; story tests call no action server.
export ACTION_SERVER_TOKEN=${ACTION_SERVER_TOKEN:-unused-by-story-tests}
.venv/bin/rasa test core --model "$MODEL" --stories tests/stories --endpoints endpoints.yml \
  --fail-on-prediction-errors --out results/stories

echo "== NLU evaluation on the held-out set"
.venv/bin/python scripts/evaluate_nlu.py --model "$MODEL"

echo "== pytest"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
