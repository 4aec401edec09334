#!/usr/bin/env python3
"""Where a message's time goes: NLU components, policies, actions, tracker store.

    .venv/bin/python bench/profile_message.py [--model models/x.tar.gz] [--conversations 30]
        [--database postgresql|sqlite] [--cprofile 25]

Loads the model in this process (as `rasa run` does) with a SQL tracker store, starts one
action server on the demo commune's data, then plays the load benchmark's simulated
citizens one message at a time. Every node of Rasa's graph (tokenizer, featurizers, DIET,
each policy...), every call to the action server and every tracker-store read and write is
timed; the table gives milliseconds per message and the share of the total. --cprofile N
also prints the N most expensive functions (cumulative) from Python's profiler.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # as `rasa run` (INFO), not the DEBUG an in-process agent gets

from bench.citizens import Conversation, Reply, pick_goal  # noqa: E402
from bench.load import newest  # noqa: E402
from deploy.cluster import drop_database, ensure_database, free_port  # noqa: E402

STORE = "deploy.tracker_store.ResilientSQLTrackerStore"  # the tracker store of endpoints*.yml
TIMES: Dict[str, float] = defaultdict(float)
COUNTS: Dict[str, int] = defaultdict(int)
ACTIONS: Dict[str, list] = defaultdict(lambda: [0.0, 0])


def _label(node_name: str) -> str:
    """run_DIETClassifier7 -> NLU DIETClassifier; run_TEDPolicy2 -> policy TEDPolicy."""
    name = node_name
    for prefix in ("run_", "train_"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    name = name.rstrip("0123456789")
    if "Policy" in name or name == "select_prediction":
        return f"policy   {name}"
    if name in ("nlu_message_converter", "domain_provider", "domain_for_core_training_provider", "end_to_end_features_provider"):
        return f"graph    {name}"
    return f"NLU      {name}"


ACTION_CALLS = "actions  action server calls (HTTP + action code + app DB)"


def _add(label: str, started: float) -> float:
    elapsed = time.perf_counter() - started
    TIMES[label] += elapsed
    COUNTS[label] += 1
    return elapsed


def _timed(function, label_of):
    """``function`` (sync or async), timed under the label ``label_of(*args)`` returns."""
    if asyncio.iscoroutinefunction(function):
        async def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                _add(label_of(*args), started)
    else:
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                _add(label_of(*args), started)
    return timed


def instrument(agent) -> None:
    from rasa.core.actions import action as actions
    from rasa.engine import graph
    from rasa.utils import endpoints

    graph.GraphNode.__call__ = _timed(graph.GraphNode.__call__, lambda node, *_: _label(node._node_name))
    actions.RemoteAction._action_call_format = _timed(
        actions.RemoteAction._action_call_format, lambda *_: "actions    of which: tracker serialised for the call")
    endpoints.EndpointConfig.request = _timed(
        endpoints.EndpointConfig.request, lambda *_: "actions    of which: HTTP round trip (action server's own time)")

    original_run = actions.RemoteAction.run

    async def timed_run(self, *args, **kwargs):  # also per action name
        started = time.perf_counter()
        try:
            return await original_run(self, *args, **kwargs)
        finally:
            elapsed = _add(ACTION_CALLS, started)
            ACTIONS[self.name()][0] += elapsed
            ACTIONS[self.name()][1] += 1

    actions.RemoteAction.run = timed_run
    store = agent.tracker_store
    for method in ("retrieve", "save"):
        setattr(store, method, _timed(getattr(store, method), lambda *_, m=method: f"tracker  {m}"))


async def play(agent, conversations: int, seed: int, profiler: cProfile.Profile | None) -> tuple[int, float, list]:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    rng = random.Random(seed)
    messages, total, per_message = 0, 0.0, []
    reports: list = []
    for i in range(conversations):
        goal = pick_goal(rng)
        citizen = Conversation(goal, rng, email=f"profil{i}@example.org", known_reports=reports[-20:])
        sender = f"profile-{i}-{rng.getrandbits(32):08x}"
        text = citizen.first_message()
        while text is not None:
            channel = CollectingOutputChannel()
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            await agent.handle_message(UserMessage(text, channel, sender))
            if profiler:
                profiler.disable()
            elapsed = time.perf_counter() - started
            total += elapsed
            per_message.append(elapsed)
            messages += 1
            text = citizen.next_message(Reply.from_rest(channel.messages))
        reports.extend(r for r in citizen.references if r.startswith("SIG-"))
    return messages, total, per_message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--conversations", type=int, default=30)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    model = args.model or newest(ROOT / "models")

    tmp = Path(tempfile.mkdtemp(prefix="townhall-profile-"))
    if args.database == "postgresql":
        app_url = "postgresql://postgres@127.0.0.1:5432/townhall_profile"
        tracker_url = "postgresql://postgres@127.0.0.1:5432/townhall_profile_tracker"
        for url in (app_url, tracker_url):
            drop_database(url)
            ensure_database(url)
    else:
        app_url, tracker_url = f"sqlite:///{tmp / 'townhall.db'}", f"sqlite:///{tmp / 'tracker.db'}"
    token = secrets.token_urlsafe(24)  # the action server answers only calls that carry it
    env = {**os.environ, "DATABASE_URL": app_url, "TOWNHALL_VAR_DIR": str(tmp), "PYTHONPATH": str(ROOT),
           "ACTION_SERVER_TOKEN": token}
    from deploy.launcher import prepare_database

    prepare_database(app_url)  # the start-up's one migration step
    subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "townhall.demo"], env=env, check=True,
                   stdout=subprocess.DEVNULL, cwd=ROOT)
    port = free_port()
    actions = subprocess.Popen([str(ROOT / ".venv/bin/python"), "-m", "deploy.action_server", "--actions", "actions",
                                "-i", "127.0.0.1", "-p", str(port)], env=env, cwd=ROOT,
                               stdout=open(tmp / "actions.log", "wb"), stderr=subprocess.STDOUT)
    try:
        import httpx

        for _ in range(240):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        asyncio.run(profile(model, port, tracker_url, args, token))
    finally:
        actions.terminate()
        actions.wait(timeout=20)


async def profile(model: Path, port: int, tracker_url: str, args, token: str) -> None:
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig
    from sqlalchemy.engine import make_url

    parts = make_url(tracker_url)
    if parts.get_backend_name() == "postgresql":
        store = EndpointConfig(type=STORE, dialect="postgresql", url=parts.host, port=parts.port or 5432,
                               db=parts.database, username=parts.username or "postgres", password=parts.password)
    else:
        store = EndpointConfig(type=STORE, dialect="sqlite", db=parts.database)  # absolute path
    import logging

    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    started = time.perf_counter()
    endpoints = AvailableEndpoints(action=EndpointConfig(f"http://127.0.0.1:{port}/webhook", enable_selective_domain=True,
                                                         headers={"Authorization": f"Bearer {token}"}), tracker_store=store)
    from nlu_components import patches

    patches.apply()  # as deploy.rasa_entry does in `rasa run`
    agent = await load_agent(model_path=str(model), endpoints=endpoints)
    print(f"Model {model.name} loaded in {time.perf_counter() - started:.1f} s")
    await play(agent, 3, args.seed + 100, None)  # warm-up: TensorFlow traces its graphs on first use
    instrument(agent)
    profiler = cProfile.Profile() if args.cprofile else None
    messages, total, per_message = await play(agent, args.conversations, args.seed, profiler)
    per_message.sort()
    print(f"\n{messages} messages, {total / messages * 1000:.1f} ms per message on average "
          f"(p50 {per_message[len(per_message) // 2] * 1000:.1f} ms, p95 {per_message[int(len(per_message) * 0.95)] * 1000:.1f} ms), "
          f"one at a time, {args.database} tracker store\n")
    print(f"{'where':<66} {'ms/message':>10} {'share':>6} {'calls/msg':>9}")
    for label, seconds in sorted(TIMES.items(), key=lambda kv: -kv[1]):
        print(f"{label:<66} {seconds / messages * 1000:>10.2f} {seconds / total * 100:>5.1f}% {COUNTS[label] / messages:>9.2f}")
    print(f"\n{'custom action':<48} {'calls':>6} {'ms/call':>8}")
    for name, (seconds, calls) in sorted(ACTIONS.items(), key=lambda kv: -kv[1][0])[:12]:
        print(f"{name:<48} {calls:>6} {seconds / calls * 1000:>8.1f}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.cprofile)
        print(out.getvalue())


if __name__ == "__main__":
    main()
