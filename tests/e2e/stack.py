"""Start the whole assistant (Rasa server, action server, back office) for end-to-end tests.

    with Stack(model=newest_model()) as stack:
        stack.rasa_url, stack.backoffice_url, stack.actions_url, stack.auth_token

``rasa_count=2`` starts two Rasa servers (``stack.rasa_urls``) over the same model, database and
tracker store, as nginx spreads webhooks over several in production.

Every process runs on a free port with a temporary SQLite database and tracker store, in a
temporary directory that is removed afterwards; health routes are awaited before the block
starts and every process is stopped (by its own process group) when it ends.

``fixture_model()`` trains (once, cached under ``var/test-models/``) a tiny deterministic bot
that needs neither NLU training data nor the action server: its intents are triggered by
payloads (``/greet``...) and its responses exercise everything a channel must render (buttons,
15 choices, links, an image, a file, HTML-looking text, a location request). Channel tests use
it so that they do not depend on the state of the real dialogue model.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import tempfile
import textwrap
from pathlib import Path
from typing import Dict, Optional

import httpx

from deploy import launcher
from deploy.launcher import free_port  # below the ephemeral range: no collision with outgoing connections
from townhall.config import PROJECT_ROOT

VENV_BIN = PROJECT_ROOT / ".venv" / "bin"


def newest_model() -> Optional[Path]:
    """``TEST_RASA_MODEL`` if set, else the newest ``models/*.tar.gz`` (``deploy.launcher``), else None."""
    if os.environ.get("TEST_RASA_MODEL"):
        return Path(os.environ["TEST_RASA_MODEL"])
    return launcher.newest_model()


def model_or_skip() -> Path:
    """``newest_model()``, else the calling test is skipped (failed when ``CI`` is set)."""
    import pytest

    model = newest_model()
    if model is None or not model.exists():
        if os.environ.get("CI"):
            pytest.fail("no trained model: scripts/test.sh trains one before pytest")
        pytest.skip("no trained model")
    return model


# --------------------------------------------------------------------------- fixture bot

FIXTURE_FILES: Dict[str, str] = {
    "config.yml": """
        recipe: default.v1
        language: fr
        assistant_id: channel-fixture
        pipeline:
          - name: WhitespaceTokenizer
          - name: KeywordIntentClassifier
        policies:
          - name: RulePolicy
    """,
    "domain.yml": """
        version: "3.1"
        intents: [greet, book, report, inform, many, links, xss, ask_location, image, restart_chat]
        entities: [day, incident_latitude, incident_longitude, incident_photo]
        session_config:
          session_expiration_time: 60
          carry_over_slots_to_new_session: false
        responses:
          utter_greet:
            - text: "Bonjour ! Je suis l'assistant de la mairie. Que souhaitez-vous faire ?"
              buttons:
                - title: "Prendre rendez-vous"
                  payload: "/book"
                - title: "Signaler un problème"
                  payload: "/report"
          utter_ask_day:
            - text: "Quel jour vous convient ?"
              buttons:
                - title: "Lundi"
                  payload: '/inform{"day": "lundi"}'
                - title: "Mardi"
                  payload: '/inform{"day": "mardi"}'
          utter_booked:
            - text: "Votre rendez-vous est confirmé. Votre référence : RDV-7K3F9Q."
              attachment:
                type: file
                payload:
                  url: "http://localhost/rendez-vous.ics"
                  title: "Ajouter à mon agenda (.ics)"
          utter_ask_location:
            - text: "Où se trouve le problème ? Donnez l'adresse ou partagez votre position."
              buttons:
                - title: "Partager ma position"
                  payload: "/share_location"
          utter_ask_where:
            - text: "Où se trouve le problème ? Donnez l'adresse ou partagez votre position."
              custom:
                data:
                  ask_location: true
          utter_located:
            - text: "Merci, votre position est bien reçue. Votre signalement : SIG-4HX2PL."
          utter_many:
            - text: "Choisissez un créneau."
              buttons:
                - {title: "Lundi 9 h", payload: "/inform{\\"day\\": \\"1\\"}"}
                - {title: "Lundi 10 h", payload: "/inform{\\"day\\": \\"2\\"}"}
                - {title: "Lundi 11 h", payload: "/inform{\\"day\\": \\"3\\"}"}
                - {title: "Mardi 9 h", payload: "/inform{\\"day\\": \\"4\\"}"}
                - {title: "Mardi 10 h", payload: "/inform{\\"day\\": \\"5\\"}"}
                - {title: "Mardi 11 h", payload: "/inform{\\"day\\": \\"6\\"}"}
                - {title: "Mercredi 9 h", payload: "/inform{\\"day\\": \\"7\\"}"}
                - {title: "Mercredi 10 h", payload: "/inform{\\"day\\": \\"8\\"}"}
                - {title: "Mercredi 11 h", payload: "/inform{\\"day\\": \\"9\\"}"}
                - {title: "Jeudi 9 h", payload: "/inform{\\"day\\": \\"10\\"}"}
                - {title: "Jeudi 10 h", payload: "/inform{\\"day\\": \\"11\\"}"}
                - {title: "Jeudi 11 h", payload: "/inform{\\"day\\": \\"12\\"}"}
                - {title: "Vendredi 9 h", payload: "/inform{\\"day\\": \\"13\\"}"}
                - {title: "Vendredi 10 h", payload: "/inform{\\"day\\": \\"14\\"}"}
                - {title: "Vendredi 11 h 30, salle du conseil", payload: "/inform{\\"day\\": \\"15\\"}"}
          utter_links:
            - text: "Voici les liens utiles."
              buttons:
                - {title: "Site de la mairie", url: "https://www.example.org/", type: web_url, payload: "https://www.example.org/"}
                - {title: "ANTS", url: "https://ants.gouv.fr/", type: web_url, payload: "https://ants.gouv.fr/"}
                - {title: "Service-Public", url: "https://www.service-public.fr/", type: web_url, payload: "https://www.service-public.fr/"}
                - {title: "Plan", url: "https://www.openstreetmap.org/", type: web_url, payload: "https://www.openstreetmap.org/"}
          utter_xss:
            - text: "<img src=x onerror=\\"window.__xss=1\\"><b>gras</b> <script>window.__xss=2</script> https://www.example.org/page?a=1 javascript:window.__xss=3"
              buttons:
                - title: "<img src=x onerror=\\"window.__xss=4\\">Bouton"
                  payload: "/greet"
          utter_image:
            - text: "Voici le plan."
              image: "http://localhost/plan.png"
        actions: []
    """,
    "data/nlu.yml": """
        version: "3.1"
        nlu:
          - intent: greet
            examples: |
              - bonjour
          - intent: book
            examples: |
              - rendez-vous
          - intent: report
            examples: |
              - signaler
          - intent: inform
            examples: |
              - lundi
          - intent: many
            examples: |
              - créneaux
          - intent: links
            examples: |
              - liens
          - intent: xss
            examples: |
              - piège
          - intent: ask_location
            examples: |
              - position
          - intent: image
            examples: |
              - plan
    """,
    "data/rules.yml": """
        version: "3.1"
        rules:
          - rule: greet
            steps: [{intent: greet}, {action: utter_greet}]
          - rule: book
            steps: [{intent: book}, {action: utter_ask_day}]
          - rule: report
            steps: [{intent: report}, {action: utter_ask_where}]
          - rule: ask location
            steps: [{intent: ask_location}, {action: utter_ask_location}]
          - rule: many
            steps: [{intent: many}, {action: utter_many}]
          - rule: links
            steps: [{intent: links}, {action: utter_links}]
          - rule: xss
            steps: [{intent: xss}, {action: utter_xss}]
          - rule: image
            steps: [{intent: image}, {action: utter_image}]
          - rule: located
            steps: [{intent: inform, entities: [incident_latitude, incident_longitude]}, {action: utter_located}]
          - rule: photo
            steps: [{intent: inform, entities: [incident_photo]}, {action: utter_located}]
          - rule: booked
            steps: [{intent: inform, entities: [day]}, {action: utter_booked}]
    """,
}


def fixture_model() -> Path:
    """The tiny channel-test bot's model, trained once and cached by content."""
    digest = hashlib.sha256(repr(sorted(FIXTURE_FILES.items())).encode()).hexdigest()[:16]
    cache = PROJECT_ROOT / "var" / "test-models"
    model = cache / f"channel-fixture-{digest}.tar.gz"
    if model.exists():
        return model
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="channel-fixture-") as tmp:
        root = Path(tmp)
        for name, text in FIXTURE_FILES.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
        subprocess.run(
            ["nice", "-n", "10", str(VENV_BIN / "rasa"), "train", "--domain", "domain.yml",
             "--data", "data", "--config", "config.yml", "--out", str(cache),
             "--fixed-model-name", model.name[: -len(".tar.gz")]],
            cwd=root, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"}, timeout=900,
        )
    return model


# --------------------------------------------------------------------------- the stack

SOCKETIO_CREDENTIALS = """
channels.rest.RestChannel:
channels.socketio.SocketIOChannel:
  user_message_evt: user_uttered
  bot_message_evt: bot_uttered
  session_persistence: true
channels.facebook.FacebookChannel:
"""


class Stack:
    """Starts the Rasa server, (optionally) the action server and the back office."""

    def __init__(
        self,
        model: Optional[Path] = None,
        *,
        rasa: bool = True,
        actions: bool = True,
        backoffice: bool = True,
        demo_data: bool = False,
        env: Optional[Dict[str, str]] = None,
        startup_timeout: float = 240.0,
        debug: bool = False,
        rasa_count: int = 1,
    ) -> None:
        self.model = model or newest_model()
        self.want_rasa, self.want_actions, self.want_backoffice = rasa, actions, backoffice
        self.demo_data = demo_data
        self.extra_env = env or {}
        self.startup_timeout = startup_timeout
        self.debug = debug  # every process at its debug log level
        self.auth_token = secrets.token_hex(16)
        self.action_server_token = secrets.token_hex(16)
        self.rasa_port = free_port()
        self.actions_port = free_port()
        self.backoffice_port = free_port()
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        # More than one Rasa server (as behind nginx): same model, database and tracker store.
        self.rasa_ports = [self.rasa_port] + [free_port() for _ in range(max(rasa_count, 1) - 1)]
        self.rasa_urls = [f"http://127.0.0.1:{port}" for port in self.rasa_ports]
        self.actions_url = f"http://127.0.0.1:{self.actions_port}"
        self.backoffice_url = f"http://127.0.0.1:{self.backoffice_port}"
        self._launcher: Optional[launcher.Launcher] = None
        self._tmp: Optional[Path] = None

    # -- lifecycle
    def __enter__(self) -> "Stack":
        self._tmp = Path(tempfile.mkdtemp(prefix="townhall-stack-"))
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def tmp(self) -> Path:
        assert self._tmp is not None
        return self._tmp

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.tmp / 'townhall.db'}"

    @property
    def tracker_database(self) -> Path:
        return self.tmp / "rasa_tracker.db"

    def environment(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "TRACKER_DATABASE_URL": f"sqlite:///{self.tracker_database}",
                "TOWNHALL_VAR_DIR": str(self.tmp / "var"),
                "TOWNHALL_OUTBOX": str(self.tmp / "outbox"),
                "RASA_AUTH_TOKEN": self.auth_token,
                "ACTION_SERVER_TOKEN": self.action_server_token,
                "ACTIONS_HOST": "127.0.0.1",
                "RASA_TELEMETRY_ENABLED": "false",
                "PYTHONPATH": str(PROJECT_ROOT),
                "PYTHONUNBUFFERED": "1",
                "RASA_PUBLIC_URL": self.rasa_url,
                "BACKOFFICE_PUBLIC_URL": self.backoffice_url,  # /demo's widget address
                # a short window, so that conversations of a few messages already go through
                # the tracker store's snapshots (deploy.tracker_window)
                "TRACKER_WINDOW_EVENTS": "24",
                "TRACKER_WINDOW_SLACK": "6",
            }
        )
        env.update(self.extra_env)
        return env

    def log(self, name: str) -> str:
        return self._launcher.log(name) if self._launcher else ""

    def _start(self) -> None:
        (self.tmp / "var").mkdir()
        # The start-up's one migration step: the processes only check the schema.
        launcher.prepare_database(self.database_url)
        if self.demo_data:
            launcher.load_demo_data(self.environment())  # the demo commune in the stack's own database
        processes = []
        if self.want_actions:
            processes.append(launcher.action_server("actions", self.actions_port, debug=self.debug))
        if self.want_backoffice:
            processes.append(launcher.backoffice("backoffice", self.backoffice_port, debug=self.debug))
        if self.want_rasa:
            if self.model is None or not Path(self.model).exists():
                raise RuntimeError("No Rasa model: set TEST_RASA_MODEL or train one into models/.")
            endpoints = self.tmp / "endpoints.yml"
            endpoints.write_text(
                f"action_endpoint:\n  url: \"{self.actions_url}/webhook\"\n  enable_selective_domain: true\n"
                f"  headers:\n    Authorization: Bearer ${{ACTION_SERVER_TOKEN}}\n"
                f"tracker_store:\n  type: deploy.tracker_store.ResilientSQLTrackerStore\n  dialect: sqlite\n"
                f"  db: \"{self.tracker_database}\"\n",
                encoding="utf-8",
            )
            credentials = self.tmp / "credentials.yml"
            credentials.write_text(SOCKETIO_CREDENTIALS.lstrip(), encoding="utf-8")
            for number, port in enumerate(self.rasa_ports, 1):
                processes.append(launcher.rasa("rasa" if number == 1 else f"rasa-{number}", port,
                                               auth_token=self.auth_token, model=self.model,
                                               credentials=credentials, endpoints=endpoints, debug=self.debug))
        self._launcher = launcher.Launcher(self.environment(), log_dir=self.tmp,
                                           startup_timeout=self.startup_timeout)
        try:
            self._launcher.start(processes)
        except launcher.StartError as error:
            raise RuntimeError(str(error)) from None

    def stop(self) -> None:
        if self._launcher is not None:
            self._launcher.stop(grace=15)
            self._launcher = None
        if self._tmp is not None and not os.environ.get("KEEP_STACK_TMP"):
            shutil.rmtree(self._tmp, ignore_errors=True)

    # -- helpers for tests
    def say(self, text: str, sender: str = "test") -> list:
        """Sends one message through the REST channel and returns the bot's answers."""
        answer = httpx.post(
            f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
        )
        answer.raise_for_status()
        return answer.json()
