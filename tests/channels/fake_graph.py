"""A local fake of the Graph API's Send API that records what the bot sends.

    with FakeGraph() as graph:
        os.environ["FACEBOOK_GRAPH_URL"] = graph.url      # e.g. http://127.0.0.1:PORT/v19.0
        ...
        graph.wait_for(lambda sent: any(m.get("text") for m in graph.messages()))

Every request is answered like the real API (``{"recipient_id": ..., "message_id": ...}``).
The page access token is accepted where the real API takes it: an ``Authorization: Bearer``
header (what the channel sends) or an ``access_token`` query parameter; each recorded request
says which (``token``, ``token_in_url``). A request with neither gets the Graph API's 400
``OAuthException``, as the real one does.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List
from urllib.parse import parse_qs, urlsplit


class FakeGraph:
    def __init__(self, version: str = "v19.0") -> None:
        self.version = version
        self.requests: List[Dict[str, Any]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                authorization = self.headers.get("Authorization") or ""
                bearer = authorization[len("Bearer "):].strip() if authorization.startswith("Bearer ") else ""
                token = bearer or query.get("access_token") or ""
                with fake._lock:
                    fake.requests.append(
                        {
                            "method": self.command,
                            "path": url.path,
                            "query": query,
                            "headers": dict(self.headers.items()),
                            "token": token,
                            "token_in_url": "access_token" in query,
                            "body": body,
                        }
                    )
                    count = len(fake.requests)
                if token:
                    status = 200
                    answer = json.dumps(
                        {"recipient_id": ((body or {}).get("recipient") or {}).get("id") if isinstance(body, dict) else None,
                         "message_id": f"m_{count}"}
                    ).encode()
                else:
                    status = 400
                    answer = json.dumps({"error": {
                        "message": "An active access token must be used to query information about the current user.",
                        "type": "OAuthException", "code": 2500}}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_POST = _record
            do_GET = _record
            do_DELETE = _record

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/{self.version}"

    def __enter__(self) -> "FakeGraph":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def sent(self, recipient: str | None = None) -> List[Dict[str, Any]]:
        """Bodies POSTed to /me/messages, optionally for one recipient."""
        with self._lock:
            bodies = [
                r["body"] for r in self.requests
                if r["method"] == "POST" and r["path"].endswith("/me/messages") and isinstance(r["body"], dict)
            ]
        if recipient is not None:
            bodies = [b for b in bodies if (b.get("recipient") or {}).get("id") == recipient]
        return bodies

    def messages(self, recipient: str | None = None) -> List[Dict[str, Any]]:
        """The ``message`` objects sent (sender actions left out)."""
        return [b["message"] for b in self.sent(recipient) if "message" in b]

    def actions(self, recipient: str | None = None) -> List[str]:
        return [b["sender_action"] for b in self.sent(recipient) if "sender_action" in b]

    def wait_for(self, condition: Callable[["FakeGraph"], bool], timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition(self):
                return True
            time.sleep(0.1)
        return condition(self)
