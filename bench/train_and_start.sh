#!/usr/bin/env bash
# Measures a full `rasa train` (NLU + dialogue, from scratch) and the time until a Rasa server
# answers on GET / with that model. Prints the figures; asserts nothing.
#   bench/train_and_start.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2
out=$(mktemp -d)
start=$(date +%s.%N)
RASA_CACHE_DIRECTORY="$out/cache" .venv/bin/rasa train --domain domain --data data --config config.yml --out "$out" --fixed-model-name bench --force >/dev/null 2>&1
train=$(echo "$(date +%s.%N) - $start" | bc)
port=5099
start=$(date +%s.%N)
.venv/bin/rasa run -m "$out/bench.tar.gz" -p $port --endpoints /dev/null >/dev/null 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$port/" >/dev/null; do sleep 0.2; done
up=$(echo "$(date +%s.%N) - $start" | bc)
kill $pid; wait $pid 2>/dev/null || true
rss=$(du -sh "$out/bench.tar.gz" | cut -f1)
rm -rf "$out"
printf 'full rasa train: %.1f s\nRasa server up (GET / answers): %.1f s\nmodel size: %s\ncores: %s\n' "$train" "$up" "$rss" "$(nproc)"
