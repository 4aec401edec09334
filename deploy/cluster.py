"""The production set-up on one machine: several Rasa servers and action servers behind nginx,
PostgreSQL for the application database and Rasa's tracker store, Redis for the lock store.

    python -m deploy.cluster [--rasa 2] [--actions 2] [--model models/x.tar.gz]   # Ctrl-C stops it all

What a town's IT team runs on one server (scripts/run_production.sh calls this); the load
benchmark (bench/load.py) starts the same cluster and kills or restarts its processes.

Settings come from the environment: DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/townhall), TRACKER_DATABASE_URL (default: the same
database, Rasa's own tables beside the application's), REDIS_URL (default redis://127.0.0.1:6379/1),
RASA_AUTH_TOKEN, ACTION_SERVER_TOKEN (the bearer token Rasa sends to the action servers; a
random one when unset), RASA_CORS_ORIGINS (space-separated origins allowed to open the chat
widget, default "*"), RASA_PORT / ACTIONS_PORT / BACKOFFICE_PORT (the front ports, 5005 / 5055 /
8000). Every process and both nginx front ports listen on 127.0.0.1: a public reverse proxy
publishes the citizens' channels and never the action servers. The services are checked first
(deploy.preflight): one that is down stops the start within seconds with a clear message.
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import urlsplit

from deploy import launcher, nginx, preflight, production_env
from deploy.launcher import Process, StartError, free_port, newest_model  # noqa: F401  (bench and tests import them here)

ROOT = launcher.ROOT
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/townhall"


def _admin_engine(url: str):
    """An AUTOCOMMIT connection to the server's ``postgres`` database, and the name in ``url``."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    parts = urlsplit(url)
    engine = create_engine(parts._replace(path="/postgres").geturl(), future=True, poolclass=NullPool,
                           isolation_level="AUTOCOMMIT")
    return engine, parts.path.lstrip("/")


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` when it does not exist yet."""
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import text

    admin, name = _admin_engine(url)
    try:
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def drop_database(url: str) -> None:
    """Drop the PostgreSQL database of ``url`` (the benchmark starts from empty databases)."""
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import text

    admin, name = _admin_engine(url)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@dataclass
class Cluster:
    """Start, inspect, kill and restart the processes of the production set-up."""

    model: Path
    database_url: str = DEFAULT_DATABASE_URL
    tracker_url: Optional[str] = None  # default: database_url
    redis_url: str = "redis://127.0.0.1:6379/1"
    rasa_count: int = 2
    actions_count: int = 2
    rasa_port: int = 5005
    actions_port: int = 5055
    backoffice_port: Optional[int] = 8000
    runtime_dir: Path = ROOT / "var" / "cluster"
    auth_token: str = field(default_factory=lambda: os.environ.get("RASA_AUTH_TOKEN") or secrets.token_urlsafe(24))
    action_server_token: str = field(
        default_factory=lambda: os.environ.get("ACTION_SERVER_TOKEN") or secrets.token_urlsafe(32))
    cors_origins: List[str] = field(default_factory=lambda: (os.environ.get("RASA_CORS_ORIGINS") or "*").split())
    demo_data: bool = True
    fresh_databases: bool = False
    startup_timeout: float = 300.0
    extra_env: Dict[str, str] = field(default_factory=dict)
    nginx_temp_dir: Optional[Path] = None
    supervisor: Optional[launcher.Launcher] = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.tracker_url = self.tracker_url or self.database_url
        self.runtime_dir = Path(self.runtime_dir)

    @property
    def processes(self) -> List[Process]:
        return self.supervisor.processes if self.supervisor else []

    # ------------------------------------------------------------------ URLs
    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    def rasa_processes(self) -> List[Process]:
        return [p for p in self.processes if p.name.startswith("rasa-")]

    def action_processes(self) -> List[Process]:
        return [p for p in self.processes if p.name.startswith("actions-")]

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    # ------------------------------------------------------------------ environment
    def environment(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": self.database_url,
            "TRACKER_DATABASE_URL": self.tracker_url,
            "REDIS_URL": self.redis_url,
            "ACTIONS_PORT": str(self.actions_port),
            "ACTION_ENDPOINT_URL": f"{self.actions_url}/webhook",
            "RASA_AUTH_TOKEN": self.auth_token,
            "ACTION_SERVER_TOKEN": self.action_server_token,
            "ACTIONS_HOST": "127.0.0.1",
            "RASA_TELEMETRY_ENABLED": "false",
            # A conversation's lock outlives a killed Rasa process by this many seconds only
            # (Rasa's default is 60 s), so its next message goes on elsewhere quickly.
            "TICKET_LOCK_LIFETIME": os.environ.get("TICKET_LOCK_LIFETIME", "15"),
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        })
        env.update(production_env.exports(env))
        env.update(self.extra_env)
        return env

    # ------------------------------------------------------------------ start
    def check_services(self) -> None:
        # The server, not the database: prepare() creates the databases that are missing.
        server = urlsplit(self.database_url)._replace(path="/postgres").geturl()
        problems = preflight.check_environment({"DATABASE_URL": server, "REDIS_URL": self.redis_url})
        if problems:
            raise StartError("\n".join(str(p) for p in problems))

    def prepare(self) -> None:
        self.check_services()
        if self.fresh_databases:
            for url in {self.database_url, self.tracker_url}:
                drop_database(url)
        for url in {self.database_url, self.tracker_url}:
            ensure_database(url)
        launcher.prepare_database(self.database_url)  # the one migration step: the processes only check
        if self.demo_data:
            launcher.load_demo_data(self.environment())
        if self.runtime_dir.exists():
            shutil.rmtree(self.runtime_dir)
        self.runtime_dir.mkdir(parents=True, mode=0o700)  # logs: private, like var/
        # nginx's workers run as an unprivileged user and cannot enter a private var/: their
        # temporary files (request bodies over 1 MB) go to a directory of their own.
        self.nginx_temp_dir = Path(tempfile.mkdtemp(prefix="townhall-nginx-"))
        self.nginx_temp_dir.chmod(0o1777)

    def _plan(self) -> List[Process]:
        processes = [launcher.action_server(f"actions-{i + 1}", free_port()) for i in range(self.actions_count)]
        processes += [
            launcher.rasa(f"rasa-{i + 1}", free_port(), auth_token=self.auth_token, cors=self.cors_origins,
                          model=self.model, credentials=ROOT / "credentials.yml",
                          endpoints=ROOT / "endpoints.production.yml")
            for i in range(self.rasa_count)]
        if self.backoffice_port:
            processes.append(launcher.backoffice("backoffice", self.backoffice_port))
        conf = nginx.render(
            [f"127.0.0.1:{p.port}" for p in processes if p.name.startswith("rasa-")],
            [f"127.0.0.1:{p.port}" for p in processes if p.name.startswith("actions-")],
            listen_rasa=self.rasa_port, listen_actions=self.actions_port, runtime_dir=self.runtime_dir,
            temp_dir=self.nginx_temp_dir,
        )
        (self.runtime_dir / "nginx.conf").write_text(conf, encoding="utf-8")
        processes.append(launcher.nginx(self.runtime_dir / "nginx.conf", self.runtime_dir / "error.log",
                                        self.rasa_port, f"{self.actions_url}/health"))
        return processes

    def start(self) -> "Cluster":
        if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
            raise StartError("nginx is not installed (Debian: apt-get install nginx-light).")
        self.prepare()
        self.supervisor = launcher.Launcher(self.environment(), log_dir=self.runtime_dir,
                                          startup_timeout=self.startup_timeout)
        try:
            self.supervisor.start(self._plan())
        except BaseException:
            self.stop()
            raise
        return self

    def spawn(self, process: Process) -> None:
        self.supervisor.spawn(process)

    def wait_ready(self, process: Process, timeout: Optional[float] = None) -> float:
        """Seconds until the process's health route answers."""
        return self.supervisor.wait_ready(process, timeout)

    def log(self, name: str) -> str:
        return self.supervisor.log(name) if self.supervisor else ""

    # ------------------------------------------------------------------ faults
    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        self.supervisor.kill(name, sig)

    def resident_memory_mb(self) -> Dict[str, float]:
        """VmRSS of each running process, in MB."""
        sizes = {}
        for process in self.processes:
            if not process.alive():
                continue
            try:
                status = Path(f"/proc/{process.pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    sizes[process.name] = int(line.split()[1]) / 1024
        return sizes

    # ------------------------------------------------------------------ stop
    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
        if self.nginx_temp_dir is not None and not any(p.alive() for p in self.processes):
            shutil.rmtree(self.nginx_temp_dir, ignore_errors=True)
            self.nginx_temp_dir = None

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa", type=int, default=int(os.environ.get("RASA_PROCESSES", "2")))
    parser.add_argument("--actions", type=int, default=int(os.environ.get("ACTION_PROCESSES", "2")))
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    model = args.model or newest_model()
    if model is None:
        print("No model in models/: run scripts/train.sh first.", file=sys.stderr)
        return 1
    database = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not database.startswith("postgresql"):
        print("The production set-up needs DATABASE_URL on PostgreSQL (postgresql://...).", file=sys.stderr)
        return 1
    cluster = Cluster(
        model=model, database_url=database, tracker_url=os.environ.get("TRACKER_DATABASE_URL") or None,
        redis_url=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/1",
        rasa_count=args.rasa, actions_count=args.actions,
        rasa_port=int(os.environ.get("RASA_PORT", "5005")), actions_port=int(os.environ.get("ACTIONS_PORT", "5055")),
        backoffice_port=int(os.environ.get("BACKOFFICE_PORT", "8000")),
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        cluster.start()
    except StartError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    try:
        return launcher.run_until_interrupted(cluster.supervisor, (
            f"{args.rasa} Rasa servers and {args.actions} action servers behind nginx: {cluster.rasa_url} "
            f"(actions {cluster.actions_url}), back office http://127.0.0.1:{cluster.backoffice_port}. "
            f"Logs in {cluster.runtime_dir}. Ctrl-C stops everything."))
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
