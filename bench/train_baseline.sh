#!/usr/bin/env bash
# Trains the benchmark's baseline (bench/baseline/config.yml: Rasa's defaults, as `rasa init`
# writes them) on the project's domain and data, into models/baseline/, when it is missing or
# older than the data.
set -euo pipefail
cd "$(dirname "$0")/.."
newest=$(ls -t models/baseline/*.tar.gz 2>/dev/null | head -n 1 || true)
if [ -z "$newest" ] || [ -n "$(find bench/baseline/config.yml domain data -newer "$newest" -type f 2>/dev/null | head -n 1)" ]; then
  echo "Training the baseline model (Rasa's default pipeline and policies)..."
  SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false \
    .venv/bin/rasa train --domain domain --data data --config bench/baseline/config.yml \
    --out models/baseline --fixed-model-name "baseline-$(date +%Y%m%d-%H%M%S)"
  ls -t models/baseline/*.tar.gz | tail -n +2 | xargs -r rm -f
fi
ls -t models/baseline/*.tar.gz | head -n 1
