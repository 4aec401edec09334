"""Fuzz the real servers with hostile input: not a single answer >= 500, no dead connection.

Targets: the Rasa REST webhook, the Messenger webhook (signed and unsigned), the Open311 API
(GET and POST) and every back-office route (discovered from the FastAPI application's routes),
anonymously and as a logged-in administrator with and without the CSRF token. Each target is
sent the fixed list in ``tests/security/hostile.py`` and Hypothesis-generated input. The counts
per target are printed at the end of the session (``tests/security/conftest.py``).

And a liveness bound: the Rasa server answers ``GET /`` while 1 MB messages are being refused.

Needs a trained model (``TEST_RASA_MODEL`` or the newest ``models/*.tar.gz``), like tests/e2e.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.conftest import FACEBOOK_SECRET, FACEBOOK_VERIFY, OPEN311_KEY, StaffSession, login
from tests.security.hostile import (HOSTILE_BODIES, HOSTILE_TEXT, ONE_MB, describe, form_bytes, header_value,
                                    json_bytes, short, url_quote, with_query)

pytestmark = pytest.mark.rasa

FUZZ = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))
JSON_HEADERS = {"Content-Type": "application/json"}
TIMEOUT = httpx.Timeout(120, connect=10)

# JSON values of any shape, for the places where a channel expects a given structure.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=200),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5),
    max_leaves=20,
)
hostile = st.sampled_from(HOSTILE_TEXT)
texts = st.text(max_size=3000) | hostile


def sender() -> str:
    return f"fuzz-{uuid.uuid4().hex[:12]}"


# --------------------------------------------------------------------------- Rasa REST


REST = "Rasa REST webhook"


def rest_post(stack, tally, *, json_body=None, content: bytes | None = None, headers=None, label: str = ""):
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    request = f"POST /webhooks/rest/webhook {label or describe(json_body if content is None else content)}"
    body = content if content is not None else json_bytes(json_body)
    return tally.send(REST, request, lambda: httpx.post(url, content=body, headers=headers or JSON_HEADERS,
                                                        timeout=TIMEOUT))


def test_rest_webhook(fuzz_stack, tally):
    for value in HOSTILE_TEXT:
        rest_post(fuzz_stack, tally, json_body={"sender": sender(), "message": value})
        rest_post(fuzz_stack, tally, json_body={"sender": short(value, 5000), "message": "bonjour"},
                  label=f"sender={describe(value)}")
        rest_post(fuzz_stack, tally, json_body={"sender": sender(), "message": "bonjour", "metadata": {"x": value}},
                  label=f"metadata={describe(value)}")
    for body in HOSTILE_BODIES:
        rest_post(fuzz_stack, tally, content=body)
        rest_post(fuzz_stack, tally, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    for body in [{}, {"message": None}, {"message": 12}, {"message": ["a"]}, {"message": {"text": "a"}},
                 {"sender": None, "message": "a"}, {"sender": 12, "message": "a"}, {"sender": {}, "message": "a"},
                 {"sender": "", "message": "a"}, {"sender": "a", "message": "a", "metadata": "x"},
                 {"sender": "a", "message": "a", "metadata": [1]}, [{"sender": "a", "message": "a"}]]:
        rest_post(fuzz_stack, tally, json_body=body)

    @FUZZ
    @given(message=texts, metadata=json_values)
    def fuzz_message(message, metadata):
        rest_post(fuzz_stack, tally, json_body={"sender": sender(), "message": message, "metadata": metadata})

    @FUZZ
    @given(body=json_values)
    def fuzz_shape(body):
        rest_post(fuzz_stack, tally, json_body=body)

    @FUZZ
    @given(body=st.binary(max_size=2000))
    def fuzz_bytes(body):
        rest_post(fuzz_stack, tally, content=body)

    fuzz_message()
    fuzz_shape()
    fuzz_bytes()
    tally.assert_clean(REST)


def test_rasa_answers_while_a_huge_message_is_refused(fuzz_stack, tally):
    """A liveness bound, not a benchmark: GET / stays quick while 1 MB messages come in."""
    def flood():
        for _ in range(10):
            rest_post(fuzz_stack, tally, json_body={"sender": sender(), "message": "x" * ONE_MB},
                      label="1 MB message (during the liveness probe)")

    senders = [threading.Thread(target=flood) for _ in range(3)]
    for thread in senders:
        thread.start()
    time.sleep(0.05)
    delays = []
    while any(thread.is_alive() for thread in senders) or not delays:
        started = time.monotonic()
        answer = httpx.get(f"{fuzz_stack.rasa_url}/", timeout=30)
        delays.append(time.monotonic() - started)
        assert answer.status_code == 200
        time.sleep(0.1)
    for thread in senders:
        thread.join(timeout=600)
    note = (f"liveness: GET / answered {len(delays)} times while 1 MB messages were sent; "
            f"slowest {max(delays) * 1000:.0f} ms, median {sorted(delays)[len(delays) // 2] * 1000:.0f} ms")
    tally.notes.append(note)
    print("\n" + note)
    assert max(delays) < 5.0, note


# --------------------------------------------------------------------------- Messenger


MESSENGER_SIGNED = "Messenger webhook (signed)"
MESSENGER_UNSIGNED = "Messenger webhook (unsigned or badly signed)"


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(FACEBOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


def messenger_post(stack, tally, body: bytes, signature: str | None = "valid", label: str = ""):
    headers = {"Content-Type": "application/json"}
    if signature == "valid":
        headers["X-Hub-Signature-256"] = sign(body)
        target = MESSENGER_SIGNED
    else:
        if signature is not None:
            raw = header_value(signature)
            if raw is None:
                return None
            headers["X-Hub-Signature-256"] = raw
        target = MESSENGER_UNSIGNED
    url = f"{stack.rasa_url}/webhooks/facebook/webhook"
    return tally.send(target, f"POST /webhooks/facebook/webhook {label or describe(body)}",
                      lambda: httpx.post(url, content=body, headers=headers, timeout=TIMEOUT))


def page_event(messaging: object) -> bytes:
    return json.dumps({"object": "page", "entry": [{"id": "PAGE", "time": int(time.time() * 1000),
                                                     "messaging": [messaging]}]}).encode()


def message_events(value: str) -> list[dict]:
    user = {"id": sender()}
    now = int(time.time() * 1000)
    return [
        {"sender": user, "recipient": {"id": "PAGE"}, "timestamp": now, "message": {"mid": uuid.uuid4().hex, "text": value}},
        {"sender": user, "recipient": {"id": "PAGE"}, "timestamp": now, "postback": {"title": value, "payload": value}},
        {"sender": user, "recipient": {"id": "PAGE"}, "timestamp": now,
         "message": {"mid": uuid.uuid4().hex, "text": "oui", "quick_reply": {"payload": value}}},
        {"sender": user, "recipient": {"id": "PAGE"}, "timestamp": now,
         "message": {"mid": uuid.uuid4().hex, "attachments": [{"type": "image", "payload": {"url": value}}]}},
        {"sender": user, "recipient": {"id": "PAGE"}, "timestamp": now,
         "message": {"mid": uuid.uuid4().hex, "attachments": [{"type": "location", "payload": {"coordinates": {
             "lat": value, "long": value}}}]}},
        {"sender": {"id": short(value, 5000)}, "recipient": {"id": "PAGE"}, "timestamp": now,
         "message": {"mid": short(value, 5000), "text": "bonjour"}},
    ]


def test_messenger_webhook(fuzz_stack, tally):
    for value in HOSTILE_TEXT:
        for event in message_events(value):
            body = page_event(event)
            label = f"{next(k for k in ('postback', 'message') if k in event)} {describe(value)}"
            messenger_post(fuzz_stack, tally, body, label=label)
        body = page_event(message_events(value)[0])
        messenger_post(fuzz_stack, tally, body, signature=None, label=f"unsigned {describe(value)}")
        messenger_post(fuzz_stack, tally, body, signature=short(value, 5000), label=f"signature={describe(value)}")
    broken = [{}, {"object": "page"}, {"object": "page", "entry": None}, {"object": "page", "entry": "x"},
              {"object": "page", "entry": [None]}, {"object": "page", "entry": [{"messaging": None}]},
              {"object": "page", "entry": [{"messaging": [None]}]}, {"object": "page", "entry": [{"messaging": [{}]}]},
              {"object": "page", "entry": [{"messaging": [{"sender": None, "message": {"text": "a"}}]}]},
              {"object": "page", "entry": [{"messaging": [{"sender": {"id": None}, "message": None}]}]},
              {"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "message": {"text": None}}]}]},
              {"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "message": {"text": 5}}]}]},
              {"object": "instagram", "entry": []}, []]
    for payload in broken:
        body = json.dumps(payload).encode()
        messenger_post(fuzz_stack, tally, body)
        messenger_post(fuzz_stack, tally, body, signature=None)
    for body in HOSTILE_BODIES:
        messenger_post(fuzz_stack, tally, body)
        messenger_post(fuzz_stack, tally, body, signature=None)
    for signature in ["", "sha256=", "sha1=abc", "sha256=" + "0" * 64, "sha256=zz", "sha256=" + "é" * 64]:
        messenger_post(fuzz_stack, tally, page_event(message_events("bonjour")[0]), signature=signature,
                       label=f"signature={signature!r}")
    # the verification challenge
    url = f"{fuzz_stack.rasa_url}/webhooks/facebook/webhook"
    for value in HOSTILE_TEXT:
        for params in [{"hub.mode": "subscribe", "hub.verify_token": short(value, 2000), "hub.challenge": "1"},
                       {"hub.mode": "subscribe", "hub.verify_token": FACEBOOK_VERIFY, "hub.challenge": short(value, 2000)},
                       {"hub.mode": short(value, 2000)}]:
            tally.send(MESSENGER_UNSIGNED, f"GET /webhooks/facebook/webhook {describe(params)}",
                       lambda: httpx.get(with_query(url, params), timeout=TIMEOUT))

    @FUZZ
    @given(payload=json_values)
    def fuzz_structure(payload):
        messenger_post(fuzz_stack, tally, json.dumps(payload).encode())

    @FUZZ
    @given(messaging=st.dictionaries(st.sampled_from(["sender", "recipient", "timestamp", "message", "postback",
                                                      "delivery", "read", "referral"]), json_values, max_size=5))
    def fuzz_messaging(messaging):
        messenger_post(fuzz_stack, tally, page_event(messaging))

    @FUZZ
    @given(text=texts)
    def fuzz_text(text):
        messenger_post(fuzz_stack, tally, page_event(message_events(text)[0]))

    fuzz_structure()
    fuzz_messaging()
    fuzz_text()
    tally.assert_clean(MESSENGER_SIGNED)
    tally.assert_clean(MESSENGER_UNSIGNED)


# --------------------------------------------------------------------------- Open311


OPEN311 = "Open311 API"
OPEN311_QUERY = ["service_request_id", "service_code", "start_date", "end_date", "status", "page", "page_size",
                 "jurisdiction_id", "lat", "long"]
OPEN311_FIELDS = ["api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id",
                  "email", "device_id", "account_id", "first_name", "last_name", "phone", "description", "media_url",
                  "attribute[x]"]


def test_open311(fuzz_stack, tally):
    base = f"{fuzz_stack.backoffice_url}/open311/v2"

    def get(path: str, params=None):
        tally.send(OPEN311, f"GET {path} {describe(params)}",
                   lambda: httpx.get(with_query(base + path, params), timeout=TIMEOUT))

    def post(label: str, data=None, json=None, content=None, headers=None):
        if data is not None:
            content, headers = form_bytes(data), {"Content-Type": "application/x-www-form-urlencoded"}
        elif json is not None:
            content, headers = json_bytes(json), JSON_HEADERS
        tally.send(OPEN311, f"POST /requests.json {label}",
                   lambda: httpx.post(base + "/requests.json", content=content, headers=headers, timeout=TIMEOUT))

    get("/services.json")
    for value in HOSTILE_TEXT:
        url_value = short(value, 2000)
        get("/services.json", {"jurisdiction_id": url_value})
        get(f"/services/{url_quote(url_value)}.json")
        get(f"/requests/{url_quote(url_value)}.json")
        get("/requests.json", {name: short(value, 500) for name in OPEN311_QUERY})
        for name in OPEN311_QUERY:
            get("/requests.json", {name: url_value})
        form = {name: value for name in OPEN311_FIELDS}
        post(f"every field={describe(value)} (hostile key)", data=form)
        post(f"every field={describe(value)} (valid key)", data={**form, "api_key": OPEN311_KEY})
        post(f"JSON every field={describe(value)}", json={**form, "api_key": OPEN311_KEY})
        for name in OPEN311_FIELDS:
            valid = {"api_key": OPEN311_KEY, "service_code": "voirie", "description": "Nid de poule",
                     "address_string": "12 rue Pasteur"}
            post(f"{name}={describe(value)}", data={**valid, name: value})
    for body in HOSTILE_BODIES:
        for content_type in ["application/x-www-form-urlencoded", "application/json",
                             "multipart/form-data; boundary=boundary", "text/plain"]:
            post(f"raw {describe(body)} as {content_type}", content=body, headers={"Content-Type": content_type})

    @FUZZ
    @given(form=st.dictionaries(st.sampled_from(OPEN311_FIELDS), texts, max_size=8), key=st.booleans())
    def fuzz_post(form, key):
        if key:
            form = {**form, "api_key": OPEN311_KEY}
        post(describe(form), data=form)

    @FUZZ
    @given(params=st.dictionaries(st.sampled_from(OPEN311_QUERY),
                                  st.text(max_size=200) | hostile.map(lambda v: short(v, 1000)), max_size=6))
    def fuzz_get(params):
        get("/requests.json", params)

    @FUZZ
    @given(body=json_values)
    def fuzz_json(body):
        post(f"JSON {describe(body)}", json=body)

    fuzz_post()
    fuzz_get()
    fuzz_json()
    tally.assert_clean(OPEN311)


# --------------------------------------------------------------------------- back office


BACKOFFICE_ANON = "back office (anonymous)"
BACKOFFICE_ADMIN = "back office (admin, with CSRF token)"
BACKOFFICE_NO_CSRF = "back office (admin, without CSRF token)"
TEMPLATES = Path(__file__).resolve().parents[2] / "backoffice" / "templates"
# Left out for the logged-in administrator: logging out would end the session the suite uses,
# and a retraining request would start `rasa train` on the test machine. Both are still sent
# anonymously and without the CSRF token.
ADMIN_SKIPPED = {("POST", "/logout"), ("POST", "/review/retrain")}


def backoffice_routes(tmp_path_factory):
    """(method, path, path params, query params, body fields) of every back-office route."""
    from fastapi.routing import APIRoute

    from backoffice.app import create_app

    from townhall import schema

    url = f"sqlite:///{tmp_path_factory.mktemp('routes') / 'routes.db'}"
    schema.upgrade(url)  # the start-up's migration step: the back office only checks it
    app = create_app(url)
    form_fields = sorted(set(re.findall(r'name="([A-Za-z_][\w\[\]]*)"', " ".join(
        p.read_text(encoding="utf-8") for p in TEMPLATES.rglob("*.html")))) - {"csrf_token"})
    routes = []
    for prefix, route in _api_routes(app.routes):
        if not isinstance(route, APIRoute):
            continue
        params = _params(route.dependant)
        path_params, query = sorted(params["path"]), sorted(params["query"])
        body = sorted(params["body"] | (set(form_fields) if "POST" in route.methods else set()))
        for method in sorted(route.methods - {"HEAD"}):
            routes.append((method, prefix + route.path, path_params, query, body))
    assert len(routes) > 20, routes
    return routes


def _api_routes(routes, prefix: str = ""):
    """(prefix, route) for every route, through included routers (listed lazily by recent
    FastAPI versions, as ``_IncludedRouter`` entries)."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            context = getattr(route, "include_context", None)
            yield from _api_routes(original.routes, prefix + (getattr(context, "prefix", "") or ""))
        else:
            yield prefix, route


def _params(dependant, found=None) -> dict[str, set]:
    """Path, query and body parameter names of a route, its dependencies included."""
    found = found or {"path": set(), "query": set(), "body": set()}
    for kind, fields in (("path", dependant.path_params), ("query", dependant.query_params),
                         ("body", dependant.body_params)):
        found[kind] |= {f.alias for f in fields}
    for sub in dependant.dependencies:
        _params(sub, found)
    return found


def fill_path(path: str, params: list[str], value: str) -> str:
    for name in params:
        path = path.replace("{" + name + "}", url_quote(short(value, 2000)))
    return re.sub(r"\{[^}]+\}", "x", path)


def anonymous_client(base_url: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base_url, timeout=TIMEOUT, follow_redirects=False)
    page = client.get("/login", headers={"Accept": "text/html"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    return client, token.group(1) if token else ""


def test_backoffice_routes(fuzz_stack, tally, admin: StaffSession, tmp_path_factory):
    routes = backoffice_routes(tmp_path_factory)
    anonymous, anonymous_csrf = anonymous_client(fuzz_stack.backoffice_url)
    state = {"admin": admin}

    def still_logged_in() -> None:
        probe = state["admin"].client.get("/users", headers={"Accept": "text/html"})
        if probe.status_code != 200:
            state["admin"] = login(fuzz_stack.backoffice_url, admin.username, admin.password)

    def send(target: str, client: httpx.Client, method: str, path: str, query: dict, body: dict | None,
             csrf: str | None, accept: str) -> None:
        headers = {"Accept": accept}
        data = dict(body or {})
        if csrf:
            headers["X-CSRF-Token"] = csrf
            data["csrf_token"] = csrf
        kwargs = {"headers": headers}
        if method != "GET":
            kwargs["content"] = form_bytes(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        tally.send(target, f"{method} {path} query={describe(query)} form={describe(body)} accept={accept}",
                   lambda: client.request(method, with_query(path, query), **kwargs))

    for method, path, path_params, query_params, body_fields in routes:
        for number, value in enumerate(HOSTILE_TEXT):
            url = fill_path(path, path_params, value)
            query = {name: short(value, 500) for name in query_params}
            # every field gets the value (cut to 20 kB), the first two get it whole (up to 1 MB)
            body = ({name: value if i < 2 else short(value, 20_000) for i, name in enumerate(body_fields)}
                    if method != "GET" else None)
            accept = "text/html" if number % 2 else "application/json"
            send(BACKOFFICE_ANON, anonymous, method, url, query, body, anonymous_csrf, accept)
            if (method, path) not in ADMIN_SKIPPED:
                send(BACKOFFICE_ADMIN, state["admin"].client, method, url, query, body, state["admin"].csrf, accept)
            if method != "GET":
                send(BACKOFFICE_NO_CSRF, state["admin"].client, method, url, query, body, None, accept)
        if method != "GET" and (method, path) not in ADMIN_SKIPPED:
            url = fill_path(path, path_params, "x")
            for raw in HOSTILE_BODIES:
                for content_type in ["application/x-www-form-urlencoded", "multipart/form-data; boundary=boundary"]:
                    tally.send(BACKOFFICE_ADMIN, f"{method} {path} raw {describe(raw)} as {content_type}",
                               lambda: state["admin"].client.request(method, url, content=raw, headers={
                                   "Content-Type": content_type, "X-CSRF-Token": state["admin"].csrf}))
        still_logged_in()

    safe_routes = [r for r in routes if (r[0], r[1]) not in ADMIN_SKIPPED]

    @settings(max_examples=150, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(route=st.sampled_from(safe_routes), path_value=st.text(max_size=100) | hostile.map(lambda v: short(v, 500)),
           values=st.dictionaries(st.text(max_size=30), texts, max_size=4), fill=texts, html=st.booleans())
    def fuzz_route(route, path_value, values, fill, html):
        method, path, path_params, query_params, body_fields = route
        if path_value.strip().isdigit():
            path_value = f"x{path_value}"  # never an existing id: keeps the administrator's own account as is
        url = fill_path(path, path_params, path_value)
        query = {name: short(fill, 500) for name in query_params}
        body = {**{name: fill for name in body_fields}, **values} if method != "GET" else None
        send(BACKOFFICE_ADMIN, state["admin"].client, method, url, query, body, state["admin"].csrf,
             "text/html" if html else "application/json")

    fuzz_route()
    still_logged_in()
    # hostile cookies and headers on a staff page and a public one
    for value in HOSTILE_TEXT:
        raw_value = short(value, 4000)
        for path in ["/staff/appointments", "/login", "/healthz"]:
            for headers in [{"Cookie": f"townhall_staff={raw_value}"}, {"X-Forwarded-For": raw_value},
                            {"User-Agent": raw_value}, {"Accept-Language": raw_value}, {"Accept": raw_value}]:
                prepared = {k: header_value(v) for k, v in headers.items()}
                if None in prepared.values():
                    continue  # not sendable as a header
                tally.send(BACKOFFICE_ANON, f"GET {path} headers={describe(headers)}",
                           lambda: httpx.get(fuzz_stack.backoffice_url + path, headers=prepared, timeout=TIMEOUT))
    anonymous.close()
    tally.assert_clean(BACKOFFICE_ANON)
    tally.assert_clean(BACKOFFICE_ADMIN)
    tally.assert_clean(BACKOFFICE_NO_CSRF)
