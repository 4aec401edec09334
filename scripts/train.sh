#!/usr/bin/env bash
# Trains a model into models/ when there is none or when config, domain or data changed.
set -euo pipefail
cd "$(dirname "$0")/.."
newest=$(.venv/bin/python -m deploy.launcher newest-model)
if [ -z "$newest" ] || [ -n "$(find config.yml domain data -newer "$newest" -type f 2>/dev/null | head -n 1)" ] || [ "${FORCE_TRAIN:-}" = 1 ]; then
  echo "Training the model (a few minutes)..."
  SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/rasa train --domain domain --data data \
    --config config.yml --out models --fixed-model-name "mairie-$(date +%Y%m%d-%H%M%S)"
  ls -t models/*.tar.gz | tail -n +4 | xargs -r rm -f   # keep the three newest models
fi
