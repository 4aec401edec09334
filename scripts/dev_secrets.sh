# Sourced by scripts/run.sh and scripts/run_production.sh: development values for the secrets
# that are not set (kept under var/, never committed), exported for every process.
# var/ is private to the user running the assistant (0700); every file created under it from
# here on (secrets, SQLite databases, logs) is 0600 (umask 077, kept for the processes started
# afterwards).
umask 077
mkdir -p var
chmod 700 var
# Files written by earlier versions, before the umask: private too.
for _secret_file in var/dev-* var/*.db var/*.db-wal var/*.db-shm; do
  if [ -e "$_secret_file" ]; then chmod 600 "$_secret_file"; fi
done
unset _secret_file

# dev_secret FILE: prints the development secret kept in FILE, creating it (0600) when missing.
dev_secret() {
  if [ ! -s "$1" ]; then
    (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))' > "$1")
  fi
  chmod 600 "$1"
  cat "$1"
}

if [ -z "${RASA_AUTH_TOKEN:-}" ]; then
  RASA_AUTH_TOKEN=$(dev_secret var/dev-rasa-token)
  echo "RASA_AUTH_TOKEN not set: development token written to var/dev-rasa-token"
fi
export RASA_AUTH_TOKEN
if [ -z "${BACKOFFICE_SECRET_KEY:-}" ]; then
  BACKOFFICE_SECRET_KEY=$(dev_secret var/dev-backoffice-secret)
fi
export BACKOFFICE_SECRET_KEY
# Rasa calls the action server with this bearer token (endpoints.yml, action_endpoint.headers).
if [ -z "${ACTION_SERVER_TOKEN:-}" ]; then
  ACTION_SERVER_TOKEN=$(dev_secret var/dev-action-server-token)
fi
export ACTION_SERVER_TOKEN
