"""Hostile input: what a careless client, a scanner or an attacker sends to public endpoints.

``HOSTILE_TEXT`` are strings (sent inside JSON, forms, query strings, paths, headers);
``HOSTILE_BODIES`` are raw request bodies that are not even valid JSON or UTF-8.
"""
from __future__ import annotations

ONE_MB = 1_000_000

HOSTILE_TEXT: list[str] = [
    # size
    "x" * ONE_MB,
    "é" * (ONE_MB // 2),  # 1 MB once encoded
    "mot " * 50_000,
    "\n" * 10_000,
    "9" * 400,
    # empty and blank
    "",
    " ",
    "\t\r\n",
    # control characters, NUL
    "\x00",
    "bonjour\x00rendez-vous",
    "\x1b[31mrouge\x1b[0m",
    "\x07\x08\x0b\x0c\x7f",
    # lone surrogates (valid in JSON text, not in UTF-8)
    "\ud800",
    "a\udfffb",
    # bidirectional and invisible marks
    "\u202egnp.exe\u202c",
    "\u200f\u200e\u2066bonjour\u2069",
    "\u200b\ufeff\u2060",
    # emoji and combining sequences
    "😀😀😀🎉",
    "👨‍👩‍👧‍👦" * 200,
    "e\u0301" * 1000,
    "Z̵̡̛̖̗̭̤̓̈́̎͌a̸̧̛͙̻̗̠͐̀l̷̢̳̣͑g̶̨̪̈́o̵",
    # HTML / script
    "<script>alert('xss')</script>",
    "\"><img src=x onerror=alert(1)>",
    "<svg/onload=alert(document.cookie)>",
    "javascript:alert(1)",
    # SQL
    "' OR '1'='1' --",
    "'; DROP TABLE booking_appointments; --",
    "1; SELECT pg_sleep(10); --",
    "\\'; SELECT * FROM staff_users; --",
    # template and format syntax
    "{{7*7}}",
    "{{ config.__class__.__init__.__globals__ }}",
    "${7*7}",
    "#{7*7}",
    "<%= 7*7 %>",
    "{slot}",
    "{citizen_email}",
    "{0.__class__}",
    "%s%s%s%s%n",
    "%(name)s",
    "%",
    "{",
    "}",
    # path traversal
    "../../../../etc/passwd",
    "..%2f..%2f..%2fetc%2fpasswd",
    "/etc/passwd\x00.png",
    "....//....//....//etc/passwd",
    "C:\\Windows\\win.ini",
    # numbers and literals that parsers trip on
    "-1",
    "0",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "-Infinity",
    "null",
    "true",
    "[]",
    "{}",
    "2024-02-30",
    "0000-00-00T25:61:61Z",
    # Rasa payload syntax and references
    "/restart",
    "/session_start",
    '/inform{"citizen_email": "\' OR 1=1 --"}',
    '/book_appointment{"procedure": "../../etc"}',
    "/inform{" + "[" * 5000,
    "RDV-" + "A" * 10_000,
    "SIG-<script>",
    # header-ish
    "a\r\nSet-Cookie: pwned=1",
    "https://evil.example/\r\nLocation: https://evil.example/",
]

HOSTILE_BODIES: list[bytes] = [
    b"",
    b"\x00" * 1024,
    b"\xff\xfe\xfd\xfc",
    b'{"sender": "a", "message": "\xff\xfe"}',  # invalid UTF-8 inside JSON
    b"{",
    b'{"message": ' * 10_000,
    b"[" * 100_000,
    b"null",
    b"[]",
    b'"texte"',
    b"12345",
    b"\x1f\x8b\x08\x00\x00\x00\x00\x00",  # the start of a gzip stream
    b"x" * ONE_MB,
    b"a=1&b=%ZZ&c=%00&d=%C3%28",  # broken percent-encoding
    b"--boundary\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n",  # truncated multipart
]


def short(value: str, limit: int = 10_000) -> str:
    """A hostile value cut to fit in a URL or a header (servers refuse longer lines anyway)."""
    return value if len(value) <= limit else value[:limit]


def describe(value: object, limit: int = 120) -> str:
    """A printable, bounded description of a request part for the failure report."""
    text = repr(value)
    if len(text) > limit:
        text = f"{text[:limit]}... ({len(value) if hasattr(value, '__len__') else '?'} long)"
    return text


# Encoders that send hostile values as they are: lone surrogates become invalid UTF-8 bytes
# (percent-encoded) or JSON escapes, instead of an error in the test's own HTTP client.

def url_quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="", errors="surrogatepass") or "%20"


def query_string(params: dict | None) -> str:
    from urllib.parse import urlencode

    return urlencode(params or {}, encoding="utf-8", errors="surrogatepass")


def with_query(url: str, params: dict | None) -> str:
    query = query_string(params)
    return f"{url}?{query}" if query else url


def form_bytes(data: dict) -> bytes:
    return query_string(data).encode("ascii")


def json_bytes(value: object) -> bytes:
    import json

    return json.dumps(value).encode("ascii")  # ensure_ascii: surrogates travel as \\ud800 escapes


def header_value(value: str) -> bytes | None:
    """The value as header bytes, or None when no HTTP client could send it (control
    characters, leading or trailing blanks: h11 refuses them before they leave)."""
    raw = value.encode("utf-8", "surrogatepass")
    if any(c < 0x20 and c != 0x09 or c == 0x7F for c in raw) or raw != raw.strip(b" \t"):
        return None
    return raw
