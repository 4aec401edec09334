#!/usr/bin/env python3
"""Load and fault benchmark: simulated citizens hold whole conversations over the REST channel.

    .venv/bin/python bench/load.py all                  # every scenario below, on fresh clusters
    .venv/bin/python bench/load.py capacity --citizens 20 --seconds 60
    .venv/bin/python bench/load.py compare              # project vs baseline (rasa init defaults)
    .venv/bin/python bench/load.py realistic --citizens 200 --seconds 150
    .venv/bin/python bench/load.py long --messages 60
    .venv/bin/python bench/load.py faults

Each scenario starts the production set-up (deploy.cluster: 2 Rasa servers and 2 action
servers behind nginx, PostgreSQL, Redis lock store) on fresh databases, drives it, prints
throughput, p50/p95/p99 latency per message and the error count, then checks the databases:
every reference the bot confirmed exists, no appointment overlaps another on the same desk,
and every conversation's user messages are all in Rasa's tracker store, in the order sent.
``--url`` drives an assistant that is already running instead (no database checks unless
``--database-url`` and ``--tracker-url`` are given). Figures are printed, never asserted: this
is not a test. ``--json FILE`` also writes them to a file.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.citizens import Conversation, Reply, long_conversation_messages, pick_goal  # noqa: E402

UNAVAILABLE = "momentanément indisponible"
BENCH_DATABASE = "postgresql://postgres@127.0.0.1:5432/townhall_bench"


# --------------------------------------------------------------------------- records

@dataclass
class Message:
    sender: str
    index: int  # 1-based position in the conversation
    text: str
    sent_at: float  # seconds since the run started
    latency: float
    status: int  # HTTP status, 0 for a transport error or a timeout
    silent: bool = False  # HTTP 200 but no message at all
    unavailable: bool = False  # the polite "momentarily unavailable" answer
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.silent


@dataclass
class ConversationRecord:
    sender: str
    goal: str
    sent: List[str] = field(default_factory=list)
    answered: List[bool] = field(default_factory=list)
    references: List[str] = field(default_factory=list)
    finished: bool = False


@dataclass
class RunResult:
    name: str
    messages: List[Message]
    conversations: List[ConversationRecord]
    seconds: float
    run_id: str = ""

    def summary(self) -> Dict[str, object]:
        latencies = sorted(m.latency for m in self.messages if m.ok)
        errors = [m for m in self.messages if not m.ok]
        goals: Dict[str, int] = {}
        for c in self.conversations:
            goals[c.goal] = goals.get(c.goal, 0) + 1
        return {
            "scenario": self.name,
            "messages": len(self.messages),
            "conversations": len(self.conversations),
            "conversations_by_goal": goals,
            "seconds": round(self.seconds, 1),
            "throughput_msg_s": round(len(self.messages) / self.seconds, 2) if self.seconds else 0.0,
            "p50_ms": percentile_ms(latencies, 50),
            "p95_ms": percentile_ms(latencies, 95),
            "p99_ms": percentile_ms(latencies, 99),
            "max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
            "errors": len(errors),
            "silent_replies": sum(1 for m in self.messages if m.silent),
            "unavailable_replies": sum(1 for m in self.messages if m.unavailable),
            "error_kinds": sorted({m.error or f"HTTP {m.status}" for m in errors})[:8],
            "references_confirmed": sum(len(c.references) for c in self.conversations),
            "unfinished_conversations": sum(1 for c in self.conversations if not c.finished),
        }


def percentile_ms(sorted_values: Sequence[float], p: float) -> Optional[float]:
    if not sorted_values:
        return None
    k = (len(sorted_values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    value = sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)
    return round(value * 1000, 1)


# --------------------------------------------------------------------------- driving

class Driver:
    """Sends citizens' messages to the REST channel and records what happens."""

    def __init__(self, url: str, run_id: str, timeout: float = 60.0, connections: int = 400) -> None:
        self.url = url.rstrip("/") + "/webhooks/rest/webhook"
        self.run_id = run_id
        self.client = httpx.AsyncClient(
            timeout=timeout, limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        )
        self.messages: List[Message] = []
        self.conversations: List[ConversationRecord] = []
        self.started = time.monotonic()
        self.filed_reports: List[str] = []

    async def close(self) -> None:
        await self.client.aclose()

    def new_sender(self) -> str:
        return f"bench-{self.run_id}-{uuid.uuid4().hex[:12]}"

    async def send(self, record: ConversationRecord, text: str) -> Tuple[Message, Reply]:
        record.sent.append(text)
        sent_at = time.monotonic()
        status, error, payload = 0, "", []
        try:
            response = await self.client.post(self.url, json={"sender": record.sender, "message": text})
            status = response.status_code
            if status == 200:
                payload = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            error = type(exc).__name__
        latency = time.monotonic() - sent_at
        reply = Reply.from_rest(payload if isinstance(payload, list) else [])
        message = Message(
            record.sender, len(record.sent), text, sent_at - self.started, latency, status,
            silent=status == 200 and not payload, unavailable=reply.says(UNAVAILABLE), error=error,
        )
        record.answered.append(message.ok)
        self.messages.append(message)
        return message, reply

    async def conversation(self, goal: str, rng: random.Random, pause: Tuple[float, float], deadline: float) -> None:
        record = ConversationRecord(self.new_sender(), goal)
        self.conversations.append(record)
        citizen = Conversation(goal, rng, email=f"{record.sender[-8:]}@example.org",
                               known_reports=list(self.filed_reports[-50:]))
        record.goal = citizen.goal
        text: Optional[str] = citizen.first_message()
        while text is not None:
            _, reply = await self.send(record, text)
            text = citizen.next_message(reply)
            if text is not None and pause[1] > 0:
                await asyncio.sleep(rng.uniform(*pause))
            if time.monotonic() > deadline + 60:  # a stuck conversation does not hold the run
                break
        record.finished = citizen.done or citizen.sent >= citizen.max_messages or bool(citizen.references)
        record.references = list(citizen.references)
        self.filed_reports.extend(r for r in citizen.references if r.startswith("SIG-"))

    async def citizen(self, seed: int, seconds: float, pause: Tuple[float, float], stagger: float) -> None:
        rng = random.Random(seed)
        await asyncio.sleep(rng.uniform(0, stagger))
        deadline = self.started + seconds
        while time.monotonic() < deadline:
            goal = pick_goal(rng)
            await self.conversation(goal, rng, pause, deadline)


async def run_load(url: str, name: str, citizens: int, seconds: float, pause: Tuple[float, float] = (0.0, 0.0),
                   seed: int = 7, events: Optional[List[Tuple[float, object]]] = None) -> RunResult:
    """``citizens`` simulated citizens, each holding conversation after conversation."""
    driver = Driver(url, f"{name}-{uuid.uuid4().hex[:6]}", connections=citizens + 20)
    stagger = pause[1] if pause[1] > 0 else min(2.0, seconds / 10)
    tasks = [asyncio.create_task(driver.citizen(seed * 1000 + i, seconds, pause, stagger)) for i in range(citizens)]
    if events:
        tasks.append(asyncio.create_task(_timeline(driver.started, events)))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - driver.started
    await driver.close()
    return RunResult(name, driver.messages, driver.conversations, elapsed, driver.run_id)


async def _timeline(started: float, events: List[Tuple[float, object]]) -> None:
    for at, action in sorted(events, key=lambda e: e[0]):
        await asyncio.sleep(max(0.0, started + at - time.monotonic()))
        print(f"  [{time.monotonic() - started:6.1f} s] {getattr(action, '__doc__', '') or action}", flush=True)
        await asyncio.to_thread(action)  # type: ignore[arg-type]


async def run_long(url: str, messages: int, conversations: int, seed: int = 11) -> RunResult:
    """Few citizens, each sending ``messages`` questions in one conversation, one at a time."""
    driver = Driver(url, f"long-{uuid.uuid4().hex[:6]}")

    async def one(i: int) -> None:
        rng = random.Random(seed + i)
        record = ConversationRecord(driver.new_sender(), "long")
        driver.conversations.append(record)
        for text in long_conversation_messages(messages, rng):
            await driver.send(record, text)
        record.finished = True

    await asyncio.gather(*(one(i) for i in range(conversations)))
    elapsed = time.monotonic() - driver.started
    await driver.close()
    return RunResult("long", driver.messages, driver.conversations, elapsed, driver.run_id)


def band_latencies(result: RunResult, bands: Sequence[Tuple[int, int]]) -> Dict[str, Optional[float]]:
    """Median latency (ms) of the messages whose position lies in each band (first, last): the
    per-position medians rest on a handful of messages, the bands on dozens."""
    out = {}
    for first, last in bands:
        values = sorted(m.latency for m in result.messages if first <= m.index <= last and m.ok)
        out[f"{first}-{last}"] = percentile_ms(values, 50)
    return out


def position_latencies(result: RunResult, positions: Sequence[int]) -> Dict[int, Optional[float]]:
    """Median latency (ms) of the messages at each 1-based position in their conversation."""
    out = {}
    for p in positions:
        values = sorted(m.latency for m in result.messages if m.index == p and m.ok)
        out[p] = percentile_ms(values, 50)
    return out


# --------------------------------------------------------------------------- checks

def check_databases(result: RunResult, database_url: str, tracker_url: str) -> Dict[str, object]:
    """References exist, no overlapping appointments, user messages all stored and in order."""
    from sqlalchemy import bindparam, create_engine, text

    confirmed = sorted({r for c in result.conversations for r in c.references})
    app = create_engine(database_url, future=True)
    with app.connect() as connection:
        found = set()
        for table, prefix in (("booking_appointments", "RDV-"), ("incident_reports", "SIG-")):
            refs = [r for r in confirmed if r.startswith(prefix)]
            if refs:
                query = text(f"SELECT reference FROM {table} WHERE reference IN :refs").bindparams(
                    bindparam("refs", expanding=True))
                found.update(row[0] for row in connection.execute(query, {"refs": refs}))
        overlaps = connection.execute(text(
            "SELECT COUNT(*) FROM booking_appointments a JOIN booking_appointments b "
            "ON a.id < b.id AND a.place_id = b.place_id AND a.desk = b.desk "
            "AND a.start < b.\"end\" AND b.start < a.\"end\" "
            "WHERE a.status = 'booked' AND b.status = 'booked'")).scalar_one()
        booked = connection.execute(text("SELECT COUNT(*) FROM booking_appointments WHERE status = 'booked'")).scalar_one()
    app.dispose()

    tracker = create_engine(tracker_url, future=True)
    senders = {c.sender: c for c in result.conversations}
    stored: Dict[str, List[Tuple[str, float]]] = {s: [] for s in senders}
    disorder = 0
    with tracker.connect() as connection:
        rows = connection.execute(
            text("SELECT sender_id, type_name, timestamp, data FROM events WHERE sender_id LIKE :p ORDER BY id"),
            {"p": f"bench-{result.run_id}-%"},
        )
        last_ts: Dict[str, float] = {}
        for sender, type_name, timestamp, data in rows:
            if sender not in senders:
                continue
            if timestamp < last_ts.get(sender, float("-inf")) - 1e-6:
                disorder += 1
            last_ts[sender] = timestamp
            if type_name == "user":
                stored[sender].append(json.loads(data).get("text"))
    tracker.dispose()

    lost, reordered, extra = 0, 0, 0
    for sender, record in senders.items():
        texts = stored[sender]
        answered = [t for t, ok in zip(record.sent, record.answered) if ok]
        # Every answered message must be stored, in the order sent; a message that failed may
        # or may not have been stored (it is counted apart).
        position = 0
        for text_sent in answered:
            try:
                position = texts.index(text_sent, position) + 1
            except ValueError:
                if text_sent in texts:
                    reordered += 1
                else:
                    lost += 1
        extra += max(0, len(texts) - len(record.sent))
    return {
        "references_confirmed": len(confirmed),
        "references_missing": len(confirmed) - len(found & set(confirmed)),
        "appointments_booked": booked,
        "overlapping_appointments": overlaps,
        "conversations_checked": len(senders),
        "user_messages_lost": lost,
        "user_messages_out_of_order": reordered,
        "events_with_decreasing_timestamp": disorder,
        "user_messages_stored_twice": extra,
    }


# --------------------------------------------------------------------------- printing

def print_summary(summary: Dict[str, object], checks: Optional[Dict[str, object]] = None) -> None:
    s = summary
    print(f"\n== {s['scenario']}: {s['messages']} messages in {s['seconds']} s, {s['conversations']} conversations "
          f"{s['conversations_by_goal']}")
    print(f"   throughput {s['throughput_msg_s']} msg/s | latency p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms, "
          f"p99 {s['p99_ms']} ms, max {s['max_ms']} ms")
    print(f"   errors {s['errors']} (silent {s['silent_replies']}; kinds {s['error_kinds']}) | polite 'unavailable' "
          f"answers {s['unavailable_replies']} | references confirmed {s['references_confirmed']} | unfinished "
          f"conversations {s['unfinished_conversations']}")
    if checks:
        print("   database checks: " + ", ".join(f"{k} {v}" for k, v in checks.items()))
    sys.stdout.flush()


# --------------------------------------------------------------------------- clusters

def newest(path: Path) -> Path:
    from deploy.cluster import newest_model

    model = newest_model(path)
    if model is None:
        raise SystemExit(f"No model in {path}: run scripts/train.sh (and bench/train_baseline.sh for the baseline).")
    return model


def make_cluster(model: Path, args: argparse.Namespace, **kwargs):
    from deploy.cluster import Cluster, free_port

    return Cluster(
        model=model, database_url=args.database_url or BENCH_DATABASE, tracker_url=args.tracker_url,
        redis_url=args.redis_url, rasa_count=args.rasa, actions_count=args.actions,
        rasa_port=free_port(), actions_port=free_port(), backoffice_port=None,
        runtime_dir=ROOT / "var" / "bench-cluster", fresh_databases=True, **kwargs,
    )


def start_cluster(model: Path, args: argparse.Namespace):
    cluster = make_cluster(model, args)
    began = time.monotonic()
    print(f"Starting {args.rasa} Rasa + {args.actions} action servers behind nginx on {model.name}...", flush=True)
    cluster.start()
    print(f"   ready in {time.monotonic() - began:.1f} s", flush=True)
    return cluster


def memory_line(cluster) -> Dict[str, float]:
    sizes = {k: round(v) for k, v in cluster.resident_memory_mb().items()}
    print(f"   resident memory (MB): {sizes}", flush=True)
    return sizes


def evaluate_nlu(model: Path) -> Dict[str, object]:
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "scripts" / "evaluate_nlu.py"),
                          "--model", str(model), "--json"], capture_output=True, text=True, check=True, cwd=ROOT)
    data = json.loads(out.stdout)
    return {k: data.get(k) for k in ("intent_accuracy", "macro_f1", "oos_recall", "canonical_entity_f1")}


# --------------------------------------------------------------------------- scenarios

def scenario_capacity(args, model: Optional[Path] = None, label: str = "capacity") -> Dict[str, object]:
    model = model or newest(ROOT / "models")
    if args.url:
        result = asyncio.run(run_load(args.url, label, args.citizens, args.seconds))
        print_summary(result.summary())
        return {"summary": result.summary()}
    cluster = start_cluster(model, args)
    try:
        asyncio.run(run_load(cluster.rasa_url, "warm-up", 4, 8))  # loads TensorFlow graphs, fills pools
        result = asyncio.run(run_load(cluster.rasa_url, label, args.citizens, args.seconds))
        memory = memory_line(cluster)
        checks = check_databases(result, cluster.database_url, cluster.tracker_url)
        print_summary(result.summary(), checks)
        return {"model": model.name, "summary": result.summary(), "checks": checks, "memory_mb": memory}
    finally:
        cluster.stop()


def scenario_compare(args) -> Dict[str, object]:
    project = newest(ROOT / "models")
    baseline = newest(ROOT / "models" / "baseline")
    print("NLU on the held-out set (tests/nlu/heldout.yml)...", flush=True)
    nlu = {"project": evaluate_nlu(project), "baseline": evaluate_nlu(baseline)}
    print(f"   project  {nlu['project']}\n   baseline {nlu['baseline']}", flush=True)
    runs = {"project": scenario_capacity(args, project, "capacity-project"),
            "baseline": scenario_capacity(args, baseline, "capacity-baseline")}
    ratio = runs["project"]["summary"]["throughput_msg_s"] / max(runs["baseline"]["summary"]["throughput_msg_s"], 1e-9)
    print(f"\n== project / baseline throughput: {ratio:.2f}x "
          f"(intent accuracy {nlu['project']['intent_accuracy']} vs {nlu['baseline']['intent_accuracy']})")
    return {"nlu": nlu, "runs": runs, "throughput_ratio": round(ratio, 2)}


@contextlib.contextmanager
def target(args) -> Iterator[Tuple[str, object]]:
    """The URL to drive and the cluster started for it (None with --url), warmed up."""
    cluster = None if args.url else start_cluster(newest(ROOT / "models"), args)
    try:
        url = args.url or cluster.rasa_url
        if cluster:
            asyncio.run(run_load(url, "warm-up", 4, 8))
        yield url, cluster
    finally:
        if cluster:
            cluster.stop()


def scenario_realistic(args) -> Dict[str, object]:
    with target(args) as (url, cluster):
        result = asyncio.run(run_load(url, "realistic", args.citizens, args.seconds, pause=(5.0, 15.0)))
        checks = check_databases(result, cluster.database_url, cluster.tracker_url) if cluster else None
        memory = memory_line(cluster) if cluster else {}
        print_summary(result.summary(), checks)
        return {"summary": result.summary(), "checks": checks, "memory_mb": memory}


def scenario_long(args) -> Dict[str, object]:
    with target(args) as (url, cluster):
        result = asyncio.run(run_long(url, args.messages, args.conversations))
        positions = position_latencies(result, [p for p in (1, 5, 10, 20, 30, 40, 50, 60) if p <= args.messages])
        bands = band_latencies(result, [(b, min(b + 9, args.messages)) for b in range(1, args.messages + 1, 10)])
        memory = memory_line(cluster) if cluster else {}
        print_summary(result.summary())
        print(f"   median latency by position in the conversation (ms): {positions}")
        print(f"   median latency by ten messages (ms): {bands}")
        return {"summary": result.summary(), "median_ms_by_position": positions, "median_ms_by_band": bands,
                "memory_mb": memory}


def restart_postgresql() -> None:
    """PostgreSQL restarted (pg_ctlcluster restart)"""
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def scenario_faults(args) -> Dict[str, object]:
    cluster = start_cluster(newest(ROOT / "models"), args)
    phases: Dict[str, Tuple[float, float]] = {}
    marks: Dict[str, float] = {}

    def kill_rasa() -> None:
        """one Rasa process killed (SIGKILL)"""
        marks["kill"] = time.monotonic()
        cluster.kill("rasa-1")

    def restart_rasa() -> None:
        """the killed Rasa process is started again (it loads its model while the load goes on)"""
        cluster.spawn(cluster.process("rasa-1"))

        def ready() -> None:
            cluster.wait_ready(cluster.process("rasa-1"))
            marks["rasa_back"] = time.monotonic()
            print(f"  [rasa-1 answering again {marks['rasa_back'] - marks['kill']:.1f} s after the kill]", flush=True)

        threading.Thread(target=ready, daemon=True).start()

    def actions_down() -> None:
        """every action server stopped (restart begins)"""
        marks["actions_down"] = time.monotonic()
        for p in cluster.action_processes():
            cluster.kill(p.name, 15)

    def actions_up() -> None:
        """the action servers started again"""
        for p in cluster.action_processes():
            cluster.spawn(p)
        for p in cluster.action_processes():
            cluster.wait_ready(p)
        marks["actions_up"] = time.monotonic()

    def postgres() -> None:
        """PostgreSQL restarted (pg_ctlcluster restart)"""
        marks["pg"] = time.monotonic()
        restart_postgresql()
        marks["pg_back"] = time.monotonic()

    try:
        asyncio.run(run_load(cluster.rasa_url, "warm-up", 4, 8))
        t = args.seconds
        timeline = [(0.10 * t, kill_rasa), (0.20 * t, restart_rasa), (0.45 * t, actions_down),
                    (0.50 * t, actions_up), (0.70 * t, postgres)]
        result = asyncio.run(run_load(cluster.rasa_url, "faults", args.citizens, t, pause=(0.5, 1.5), events=timeline))
        started = time.monotonic() - result.seconds
        checks = check_databases(result, cluster.database_url, cluster.tracker_url)
        print_summary(result.summary(), checks)

        def window(name: str, a: float, b: float) -> Dict[str, object]:
            ms = [m for m in result.messages if a <= m.sent_at < b]
            out = {"messages": len(ms), "errors": sum(1 for m in ms if not m.ok),
                   "silent": sum(1 for m in ms if m.silent), "unavailable": sum(1 for m in ms if m.unavailable),
                   "p95_ms": percentile_ms(sorted(m.latency for m in ms if m.ok), 95)}
            print(f"   {name:<34} {out}")
            return out

        rel = {k: v - started for k, v in marks.items()}
        print("   by phase:")
        phases = {
            "before faults": window("before faults", 0, rel.get("kill", 0)),
            "one Rasa process down": window("one Rasa process down", rel.get("kill", 0),
                                            rel.get("rasa_back", rel.get("actions_down", 0))),
            "action servers restarting": window("action servers restarting", rel.get("actions_down", 0),
                                                rel.get("actions_up", 0)),
            "PostgreSQL restart + 10 s": window("PostgreSQL restart + 10 s", rel.get("pg", 0), rel.get("pg_back", 0) + 10),
            "after PostgreSQL recovered": window("after PostgreSQL recovered", rel.get("pg_back", 0) + 10, result.seconds + 60),
        }
        return {"summary": result.summary(), "checks": checks, "phases": phases,
                "fault_seconds": {k: round(v, 1) for k, v in rel.items()}}
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=["capacity", "compare", "realistic", "long", "faults", "all"])
    parser.add_argument("--citizens", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--messages", type=int, default=60, help="long: messages per conversation")
    parser.add_argument("--conversations", type=int, default=8, help="long: conversations held in parallel")
    parser.add_argument("--rasa", type=int, default=2, help="Rasa server processes")
    parser.add_argument("--actions", type=int, default=2, help="action server processes")
    parser.add_argument("--url", default=None, help="drive a running assistant instead of starting one")
    parser.add_argument("--database-url", default=None, help=f"default {BENCH_DATABASE} (dropped and created)")
    parser.add_argument("--tracker-url", default=None)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/2")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args()
    defaults = {"capacity": (20, 60), "compare": (20, 60), "realistic": (200, 150), "long": (8, 0), "faults": (20, 150)}
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    def with_defaults(name: str) -> argparse.Namespace:
        ns = argparse.Namespace(**vars(args))
        ns.citizens = args.citizens or defaults[name][0]
        ns.seconds = args.seconds or defaults[name][1]
        return ns

    scenarios = {"capacity": scenario_capacity, "compare": scenario_compare, "realistic": scenario_realistic,
                 "long": scenario_long, "faults": scenario_faults}
    names = ["compare", "realistic", "long", "faults"] if args.scenario == "all" else [args.scenario]
    figures = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count()}
    for name in names:
        figures[name] = scenarios[name](with_defaults(name))
        if args.json:  # after each scenario, so a later failure keeps the earlier figures
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
