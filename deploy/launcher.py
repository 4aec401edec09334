"""Start, await and stop the assistant's processes: the one place that knows their command lines.

    python -m deploy.launcher prepare        # the start-up's migration step, then the demo commune
    python -m deploy.launcher run            # Rasa (5005), action server (5055), back office (8000)
    python -m deploy.launcher newest-model   # the newest models/*.tar.gz (empty when there is none)

scripts/run.sh (embedded default), deploy.cluster (production set-up behind nginx) and
tests/e2e/stack.py (end-to-end tests) all describe their processes with the functions below
(``rasa``, ``action_server``, ``backoffice``, ``nginx``) and run them with ``Launcher``: each
process in its own process group, awaited on its health route, and all stopped together
(SIGTERM, then SIGKILL after a grace period) on Ctrl-C, SIGTERM, or when one of them dies.

The database is migrated once, before any process starts (``prepare_database``); the processes
only check that it is at the latest revision (``townhall.schema.check``).
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence

import httpx

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")


class StartError(RuntimeError):
    """A service could not be reached or a process did not come up."""


# --------------------------------------------------------------------------- helpers

_GIVEN_PORTS: set = set()


def free_port() -> int:
    """A free port below Linux's ephemeral range (32768-60999), so that no outgoing
    connection (to PostgreSQL, Redis, another process) takes it before the process binds."""
    for _ in range(500):
        port = random.randint(20000, 32000)
        if port in _GIVEN_PORTS:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _GIVEN_PORTS.add(port)
        return port
    raise StartError("No free port between 20000 and 32000.")


def newest_model(folder: Optional[Path] = None) -> Optional[Path]:
    """The most recently written ``*.tar.gz`` in ``folder`` (default ``models/``), or None."""
    from townhall import trained_models

    return trained_models.newest(folder or ROOT / "models")


def prepare_database(url: str) -> None:
    """The start-up's one migration step: bring the database at ``url`` to the latest schema."""
    from townhall import db, schema

    schema.upgrade(url)
    engine = db._engines.pop(url, None)  # the processes open their own
    if engine is not None:
        engine.dispose()


def load_demo_data(env: Mapping[str, str], timeout: float = 300) -> None:
    """The demo commune in the database of ``env`` (already migrated), in a process of its own."""
    subprocess.run([PYTHON, "-m", "townhall.demo"], cwd=ROOT, env=dict(env), check=True, timeout=timeout,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


# --------------------------------------------------------------------------- the processes

@dataclass
class Process:
    """One process: its command line, extra environment and health route."""

    name: str
    command: List[str]
    port: int
    health: str
    env: Dict[str, str] = field(default_factory=dict)
    # True when the health route's answer (status 200) says the process is ready.
    ready: Callable[[httpx.Response], bool] = lambda answer: True
    popen: Optional[subprocess.Popen] = None

    @property
    def pid(self) -> Optional[int]:
        return self.popen.pid if self.popen else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


def _model_loaded(answer: httpx.Response) -> bool:
    return bool(answer.json().get("model_file"))


def rasa(name: str, port: int, *, auth_token: str, endpoints: Path, credentials: Path,
         model: Optional[Path] = None, host: str = "127.0.0.1", cors: Sequence[str] = ("*",),
         debug: bool = False, wait_for_model: bool = True) -> Process:
    """The Rasa server, started through ``deploy.rasa_entry`` (which applies the Rasa patches)."""
    command = [PYTHON, "-m", "deploy.rasa_entry", "run", "--enable-api", "--auth-token", auth_token,
               "--cors", *cors, "-i", host, "-p", str(port), "--model", str(model or ROOT / "models"),
               "--credentials", str(credentials), "--endpoints", str(endpoints), *(["--debug"] if debug else [])]
    if wait_for_model:
        return Process(name, command, port, f"http://127.0.0.1:{port}/status?token={auth_token}", ready=_model_loaded)
    return Process(name, command, port, f"http://127.0.0.1:{port}/")


def action_server(name: str, port: int, *, host: str = "127.0.0.1", debug: bool = False) -> Process:
    """The guarded action server (bearer token ACTION_SERVER_TOKEN, loopback by default)."""
    command = [PYTHON, "-m", "deploy.action_server", "--actions", "actions", "-i", host, "-p", str(port),
               *(["--debug"] if debug else [])]
    return Process(name, command, port, f"http://127.0.0.1:{port}/health")


def backoffice(name: str, port: int, *, debug: bool = False) -> Process:
    """The back office (always on 127.0.0.1; proxies' headers only from BACKOFFICE_TRUSTED_PROXIES)."""
    command = [str(VENV_BIN / "uvicorn"), "--factory", "backoffice.app:create_app", "--ws", "none",
               "--no-proxy-headers", "--host", "127.0.0.1", "--port", str(port),
               *(["--log-level", "debug"] if debug else [])]
    return Process(name, command, port, f"http://127.0.0.1:{port}/healthz")


def nginx(conf: Path, error_log: Path, port: int, health: str) -> Process:
    import shutil

    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    return Process("nginx", [binary, "-e", str(error_log), "-c", str(conf)], port, health)


# --------------------------------------------------------------------------- the launcher

@dataclass
class Launcher:
    """Runs processes, each in its own process group; logs go to ``log_dir`` (one private file
    per process) or, when it is None, to this process's own output."""

    env: Dict[str, str]
    log_dir: Optional[Path] = None
    startup_timeout: float = 300.0
    processes: List[Process] = field(default_factory=list)

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    def log(self, name: str) -> str:
        if self.log_dir is None:
            return ""
        path = self.log_dir / f"{name}.log"
        return path.read_text("utf-8", "replace") if path.exists() else ""

    def start(self, processes: Sequence[Process]) -> "Launcher":
        """Spawn every process, then await each health route; on any failure stop them all."""
        try:
            for process in processes:
                self.spawn(process)
            for process in processes:
                self.wait_ready(process)
        except BaseException:
            self.stop()
            raise
        return self

    def spawn(self, process: Process) -> None:
        """Start ``process`` (again, after ``kill``, for a process already known)."""
        if all(known is not process for known in self.processes):
            self.processes.append(process)
        output = None
        if self.log_dir is not None:
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND  # a restarted process writes on
            output = os.fdopen(os.open(self.log_dir / f"{process.name}.log", flags, 0o600), "ab")  # private
        try:
            process.popen = subprocess.Popen(
                process.command, cwd=ROOT, env={**self.env, **process.env}, stdout=output,
                stderr=subprocess.STDOUT if output is not None else None, start_new_session=True)
        finally:
            if output is not None:
                output.close()  # the child has its own copy

    def wait_ready(self, process: Process, timeout: Optional[float] = None) -> float:
        """Seconds until the process's health route answers."""
        timeout = timeout or self.startup_timeout
        started = time.monotonic()
        while time.monotonic() < started + timeout:
            if not process.alive():
                raise StartError(f"{process.name} exited ({process.popen.returncode if process.popen else '?'}):\n"
                                 f"{self.log(process.name)[-4000:]}")
            try:
                answer = httpx.get(process.health, timeout=2)
                if answer.status_code == 200 and process.ready(answer):
                    return time.monotonic() - started
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.5)
        raise StartError(f"{process.name} not ready after {timeout} s:\n{self.log(process.name)[-4000:]}")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.process(name)
        if process.alive():
            os.killpg(process.pid, sig)
            process.popen.wait(timeout=30)

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM to every process group (last started first), SIGKILL to those still up after ``grace``."""
        for process in reversed(self.processes):
            if process.alive():
                _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes:
            if process.popen is None:
                continue
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.popen.wait(timeout=5)

    def wait(self) -> Process:
        """Block until one process exits; returns it."""
        while True:
            for process in self.processes:
                if not process.alive():
                    return process
            time.sleep(0.5)


def _signal_group(process: Process, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run_until_interrupted(launcher: Launcher, banner: str) -> int:
    """Print ``banner``, then wait for Ctrl-C, SIGTERM or a process's death; stop everything."""
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    try:
        print(banner, flush=True)
        dead = launcher.wait()
        print(f"ERROR: {dead.name} stopped ({dead.popen.returncode}).", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        print("Arrêt des services...", flush=True)
        launcher.stop()
        signal.signal(signal.SIGTERM, previous)


# --------------------------------------------------------------------------- scripts/run.sh

def development_processes(env: Mapping[str, str]) -> List[Process]:
    """The three processes of the embedded default, from scripts/run.sh's environment."""
    return [
        action_server("actions", int(env.get("ACTIONS_PORT") or 5055), host=env.get("ACTIONS_HOST") or "127.0.0.1"),
        backoffice("backoffice", int(env.get("BACKOFFICE_PORT") or 8000)),
        rasa("rasa", int(env.get("RASA_PORT") or 5005), auth_token=env["RASA_AUTH_TOKEN"],
             host=env.get("RASA_HOST") or "127.0.0.1", cors=(env.get("RASA_CORS_ORIGINS") or "*").split(),
             credentials=ROOT / "credentials.yml", endpoints=ROOT / (env.get("RASA_ENDPOINTS") or "endpoints.yml"),
             model=ROOT / "models", wait_for_model=False),
    ]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.launcher", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare", help="migrate DATABASE_URL (the one migration step), then load the demo commune")
    run = sub.add_parser("run", help="start the Rasa server, the action server and the back office")
    run.add_argument("--without", action="append", default=[], choices=("rasa", "actions", "backoffice"),
                     help="leave this process out (repeatable)")
    sub.add_parser("newest-model", help="print the newest models/*.tar.gz")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    # Ctrl-C stops everything, even when a shell started this process with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.command == "newest-model":
        model = newest_model()
        if model is not None:
            print(model.relative_to(ROOT) if model.is_relative_to(ROOT) else model)
        return 0
    if args.command == "prepare":
        from townhall import config

        prepare_database(config.database_url())
        load_demo_data(env)
        return 0
    launcher = Launcher(env)
    processes = [p for p in development_processes(env) if p.name not in args.without]
    try:
        launcher.start(processes)
    except StartError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    port = {p.name: p.port for p in processes}
    return run_until_interrupted(launcher, (
        f"Back office : http://localhost:{port.get('backoffice', '-')}/login (identifiant admin, mot de passe dans "
        f"var/dev-admin-password)\nRasa : http://localhost:{port.get('rasa', '-')}  actions : "
        f"http://localhost:{port.get('actions', '-')}/health  back office : http://localhost:"
        f"{port.get('backoffice', '-')} (démo : /demo). Ctrl-C pour tout arrêter."))


if __name__ == "__main__":
    sys.exit(main())
