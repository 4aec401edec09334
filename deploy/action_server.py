"""The action server, guarded by a bearer token and bound to the loopback interface.

    ACTION_SERVER_TOKEN=... python -m deploy.action_server [--actions actions] [-p 5055] [-i 127.0.0.1]

It is rasa-sdk's own Sanic application (``rasa_sdk.endpoint.create_app``) with three changes:

- every route except ``GET /health`` requires ``Authorization: Bearer <ACTION_SERVER_TOKEN>``
  (compared in constant time); anything else gets 401 with a French JSON message. Rasa sends
  the header from the ``headers:`` of ``action_endpoint`` in endpoints.yml;
- it listens on ``ACTIONS_HOST`` (default 127.0.0.1), not on every interface, and sends no
  CORS headers (only the Rasa server calls it);
- an unexpected error answers 500 without echoing the request body (rasa-sdk's handler puts
  the whole tracker, with the citizen's personal data, in the answer) and is logged without
  the exception's message, which may quote a slot value.

It starts only on a database at the latest migration (DATABASE_URL; deploy.launcher migrates
before starting it) and stops at once with a clear message otherwise.

Settings: ACTION_SERVER_TOKEN (required: the server refuses to start without it),
ACTIONS_HOST, ACTIONS_PORT (default 5055), ACTION_SERVER_WORKERS is rasa-sdk's
ACTION_SERVER_SANIC_WORKERS (default 1).
"""
from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
import traceback
import types
from typing import Optional, Union

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger("deploy.action_server")

TOKEN_ENV = "ACTION_SERVER_TOKEN"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5055
PUBLIC_ROUTES = {("GET", "/health"), ("HEAD", "/health")}

UNAUTHORIZED_MESSAGE = "Accès refusé : ce service est réservé au serveur de l'assistant de la mairie."
INTERNAL_ERROR_MESSAGE = "Une erreur interne est survenue. Veuillez réessayer plus tard."


class MissingTokenError(RuntimeError):
    """ACTION_SERVER_TOKEN is not set: the server must not start unguarded."""


def is_authorized(header: Optional[str], token: str) -> bool:
    """True when ``header`` is exactly ``Bearer <token>`` (constant-time comparison)."""
    if not header or not token:
        return False
    expected = f"Bearer {token}".encode("utf-8")
    given = header.encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given, expected)


def unauthorized() -> HTTPResponse:
    return response.json({"error": UNAUTHORIZED_MESSAGE}, status=401,
                         headers={"WWW-Authenticate": 'Bearer realm="actions"'}, ensure_ascii=False)


def create_app(
    token: str,
    action_package: Union[str, types.ModuleType] = "actions",
    auto_reload: bool = False,
) -> Sanic:
    """rasa-sdk's application for ``action_package``, with the token check in front of it."""
    if not token:
        raise MissingTokenError(f"{TOKEN_ENV} is not set: the action server does not start without it.")
    from rasa_sdk import endpoint

    # No CORS origin at all: browsers have no business calling the action server.
    app = endpoint.create_app(action_package, cors_origins=None, auto_reload=auto_reload)

    async def require_token(request: Request) -> Optional[HTTPResponse]:
        if (request.method, request.path) in PUBLIC_ROUTES:
            return None
        if not is_authorized(request.headers.get("authorization"), token):
            logger.warning("Action server: %s %s refused (missing or wrong token).", request.method, request.path)
            return unauthorized()
        return None

    # First of all request middleware, ahead of sanic-cors's own (which it puts first when the
    # server starts, and which would answer OPTIONS requests itself).
    app.request_middleware.appendleft(require_token)

    @app.listener("before_server_start")
    async def token_check_first(app_: Sanic, _loop) -> None:
        if app_.request_middleware and app_.request_middleware[0] is not require_token:
            app_.request_middleware.remove(require_token)
            app_.request_middleware.appendleft(require_token)

    @app.exception(Exception)
    async def internal_error(request: Request, exception: Exception) -> HTTPResponse:
        from sanic.exceptions import SanicException

        if isinstance(exception, SanicException) and getattr(exception, "status_code", 500) < 500:
            status = exception.status_code
            return response.json({"error": _client_error_message(status)}, status=status, ensure_ascii=False)
        # The class and the stack, never the message (it may quote a slot value).
        stack = "".join(traceback.format_tb(exception.__traceback__))
        logger.error("Action server: %s on %s %s\n%s", type(exception).__name__, request.method, request.path, stack)
        return response.json({"error": INTERNAL_ERROR_MESSAGE}, status=500, ensure_ascii=False)

    return app


def _client_error_message(status: int) -> str:
    return {
        400: "Requête invalide.",
        404: "Adresse inconnue.",
        405: "Méthode non autorisée.",
        413: "Requête trop volumineuse.",
    }.get(status, "Requête refusée.")


def _parser() -> argparse.ArgumentParser:
    from rasa_sdk import utils

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", default="actions", help="Python package of the actions")
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("ACTIONS_PORT") or DEFAULT_PORT))
    parser.add_argument("-i", "--host", default=os.environ.get("ACTIONS_HOST") or DEFAULT_HOST,
                        help="interface to listen on (default ACTIONS_HOST or 127.0.0.1)")
    parser.add_argument("--auto-reload", action="store_true")
    utils.add_logging_level_option_arguments(parser)
    return parser


def main(argv: Optional[list] = None) -> int:
    from rasa_sdk import utils
    from rasa_sdk.plugin import plugin_manager

    args = _parser().parse_args(argv)
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.update_sanic_log_level()
    try:
        app = create_app(os.environ.get(TOKEN_ENV, ""), args.actions, auto_reload=args.auto_reload)
    except MissingTokenError as error:
        print(f"ERROR: {error} (scripts/dev_secrets.sh writes a development token to var/).", file=sys.stderr)
        return 2
    from townhall import schema

    try:
        schema.check()  # migrated at start-up (deploy.launcher): an action never migrates
    except schema.SchemaNotAtHead as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    from townhall.incidents import emergency

    emergency.warm_up()  # the report form checks every answer for an emergency: fit its classifier now
    logger.info("Action server on http://%s:%s (token required except GET /health)", args.host, args.port)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
