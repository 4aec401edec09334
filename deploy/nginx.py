"""The nginx load balancer in front of several Rasa servers and action servers.

    python -m deploy.nginx --rasa 127.0.0.1:5101,127.0.0.1:5102 --actions 127.0.0.1:5201,127.0.0.1:5202 \
        --listen-rasa 5005 --listen-actions 5055 --dir var/nginx > var/nginx/nginx.conf

One front port for the citizens' channels (REST, socket.io, Facebook, HTTP API) spreads
messages over the Rasa processes; a Redis lock store keeps each conversation's messages in
order whichever process takes them. Socket.io sticks to one process per client (ip_hash), as
the engine.io handshake requires. A second front port spreads the Rasa servers' calls over
the action servers; when none of them answers (restart, crash), nginx itself answers the call
with a polite French message so that the citizen never meets silence.

The action servers' front port always listens on the loopback interface, whatever
``listen_host`` says for the citizens' port: only the Rasa servers call it, with the bearer
token that the action servers check (deploy/action_server.py); nginx passes the
``Authorization`` header on unchanged. A public reverse proxy must never route to it.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Optional, Sequence

import jinja2

from townhall import config, french

TEMPLATE = Path(__file__).resolve().parent / "nginx" / "townhall.conf.template"
_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE.parent),
    autoescape=False,  # nginx syntax, not HTML
    undefined=jinja2.StrictUndefined,  # a name missing from render() fails, never renders empty
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def unavailable_message() -> str:
    phone = french.phone(config.commune().main_phone)
    return (
        "Le service est momentanément indisponible. Merci de réessayer dans quelques minutes, "
        f"ou de joindre la mairie au {phone}."
    )


def action_server_down_body() -> str:
    """What an action server would answer: no events, one message for the citizen."""
    return json.dumps({"events": [], "responses": [{"text": unavailable_message()}]}, ensure_ascii=False)


def _single_quoted(text: str) -> str:
    """``text`` safe inside an nginx single-quoted string (a typographic apostrophe for ')."""
    return text.replace("\\", "\\\\").replace("'", "\u2019")


_ENVIRONMENT.filters["single_quoted"] = _single_quoted


def render(
    rasa: Sequence[str],
    actions: Sequence[str],
    *,
    listen_rasa: int = 5005,
    listen_actions: int = 5055,
    runtime_dir: Path,
    listen_host: str = "127.0.0.1",
    temp_dir: Optional[Path] = None,
) -> str:
    """The nginx.conf text, every runtime file (pid, logs) under ``runtime_dir``, the workers'
    temporary files under ``temp_dir`` (default ``runtime_dir/tmp``; it must be writable by
    nginx's unprivileged workers, so it may have to live outside a private var/)."""
    runtime = Path(runtime_dir).resolve()
    return _ENVIRONMENT.get_template(TEMPLATE.name).render(
        runtime_dir=runtime,
        temp_dir=Path(temp_dir).resolve() if temp_dir else runtime / "tmp",
        rasa_servers=list(rasa),
        action_servers=list(actions),
        listen_rasa=f"{listen_host}:{listen_rasa}",
        listen_actions=f"127.0.0.1:{listen_actions}",
        actions_down_body=action_server_down_body(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa", required=True, help="comma-separated host:port of the Rasa servers")
    parser.add_argument("--actions", required=True, help="comma-separated host:port of the action servers")
    parser.add_argument("--listen-rasa", type=int, default=5005)
    parser.add_argument("--listen-actions", type=int, default=5055)
    parser.add_argument("--dir", type=Path, default=config.VAR_DIR / "nginx")
    args = parser.parse_args()
    print(render(args.rasa.split(","), args.actions.split(","), listen_rasa=args.listen_rasa,
                 listen_actions=args.listen_actions, runtime_dir=args.dir))


if __name__ == "__main__":
    main()
