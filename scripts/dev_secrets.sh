# Sourced by scripts/run.sh and scripts/run_production.sh: development values for the secrets
# that are not set (kept under var/, never committed), exported for every process.
mkdir -p var
if [ -z "${RASA_AUTH_TOKEN:-}" ]; then
  [ -s var/dev-rasa-token ] || .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))' > var/dev-rasa-token
  RASA_AUTH_TOKEN=$(cat var/dev-rasa-token)
  echo "RASA_AUTH_TOKEN not set: development token written to var/dev-rasa-token"
fi
export RASA_AUTH_TOKEN
if [ -z "${BACKOFFICE_SECRET_KEY:-}" ]; then
  [ -s var/dev-backoffice-secret ] || .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))' > var/dev-backoffice-secret
  BACKOFFICE_SECRET_KEY=$(cat var/dev-backoffice-secret)
fi
export BACKOFFICE_SECRET_KEY
