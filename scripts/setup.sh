#!/usr/bin/env bash
# Installs what is missing, and nothing else: the Python 3.10 virtual environment with every
# package pinned (requirements/lock.txt), with --test the test tools (Debian's Chromium and
# nginx, axe-core from npm), with --production Debian's nginx. Safe to run again: it only does what is not done yet.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  local candidates=()
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv root)/versions/3.10.13/bin/python3.10")
    candidates+=($(ls -d "$(pyenv root)"/versions/3.10.*/bin/python3.10 2>/dev/null || true))
  fi
  candidates+=("${HOME}/.pyenv/versions/3.10.13/bin/python3.10" "$(command -v python3.10 || true)")
  for candidate in "${candidates[@]}"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    echo "Installing Python 3.10.13 with pyenv..." >&2
    pyenv install -s 3.10.13 >&2 && echo "$(pyenv root)/versions/3.10.13/bin/python3.10" && return 0
  fi
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then
  PYTHON=$(find_python310) || { echo "Python 3.10 is required (Rasa 3.6 needs Python < 3.11): install it with pyenv." >&2; exit 1; }
  rm -rf .venv
  "$PYTHON" -m venv .venv
fi

lock_hash=$(sha256sum requirements/lock.txt | cut -c1-16)
if [ ! -f ".venv/.installed-$lock_hash" ]; then
  echo "Installing the pinned Python packages (a few minutes the first time)..."
  .venv/bin/python -m pip install -q --disable-pip-version-check pip==24.0
  # --no-deps: the lock holds every package at its resolved version (spaCy 3.8 beside Rasa 3.6).
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -r requirements/lock.txt
  rm -f .venv/.installed-*
  touch ".venv/.installed-$lock_hash"
fi

apt_install() {
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null;
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; fi
}

if [ "${1:-}" = "--production" ] && [ ! -x /usr/sbin/nginx ]; then
  echo "Installing Debian's nginx (the load balancer of the production set-up)..."
  apt_install nginx-light
fi

if [ "${1:-}" = "--test" ]; then
  missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)   # browser tests
  [ -x /usr/sbin/nginx ] || missing+=(nginx-light)  # load-balancer tests
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing Debian's ${missing[*]} for the tests..."
    apt_install "${missing[@]}"
  fi
  for dir in tests/browser/axe; do
    if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" ]; then
      (cd "$dir" && npm ci --silent --no-audit --no-fund)
    fi
  done
fi
