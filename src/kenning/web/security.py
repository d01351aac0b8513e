"""Who may talk to the UI server: a per-run secret token, the loopback Host, the same Origin.

The rules are the MCP HTTP server's (`kenning.mcp.security`): bind to loopback, require a token
compared in constant time, validate `Host` and `Origin` against DNS rebinding. Its `HttpGuard` is
shaped for JSON-RPC clients (bearer header only, JSON-RPC refusals, any loopback origin), while a
browser page needs a cookie login and this server's exact origin, so the UI applies the same rules
here, a little stricter (Host and Origin must name this server's own port).

A browser cannot send an `Authorization` header on a page load, so the token travels once in the
URL that `kenning ui` opens (`/?token=…`). The server answers that with an HttpOnly,
SameSite=Strict cookie and a redirect to the bare URL, so the token leaves the address bar at once.
Every later request is accepted when it carries the cookie or `Authorization: Bearer <token>`.

Checks, in order, on every HTTP request:

1. `Host` must name the loopback address the server is bound to (127.0.0.1, localhost, [::1])
   with its port: a DNS-rebinding page on another name is refused (403).
2. `Origin`, when present, must be this server's own origin (403 otherwise).
3. A state-changing method (POST, PUT, PATCH, DELETE) authenticated by the cookie must carry a
   matching `Origin`: defence in depth against cross-site requests on top of SameSite=Strict.
4. The token must match (compared in constant time); otherwise 401, and a page load gets a short
   HTML page saying how to open the UI.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "kenning_ui"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Served with every answer: no framing, no referrer (the first URL holds the token), and scripts
# and styles only from this server (the UI has no inline script and loads nothing remote).
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)


def new_token() -> str:
    """A fresh 256-bit secret, URL-safe."""
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str) -> bool:
    """Constant-time comparison; an empty or missing token never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


@dataclass(frozen=True)
class Access:
    """The server's identity for the checks: its port and its token."""

    port: int
    token: str

    def allowed_hosts(self) -> set[str]:
        return {f"{name}:{self.port}" for name in LOOPBACK_NAMES}

    def allowed_origins(self) -> set[str]:
        return {f"http://{host}" for host in self.allowed_hosts()}

    def url(self, path: str = "/") -> str:
        """The address that logs a browser in (it carries the token once)."""
        return f"http://127.0.0.1:{self.port}{path}?{urlencode({'token': self.token})}"


@dataclass(frozen=True)
class Verdict:
    """The outcome of the checks: allowed, or the status and reason to answer with."""

    status: int
    reason: str = ""
    via_query: bool = False

    @property
    def ok(self) -> bool:
        return self.status == 200


def check(
    access: Access,
    method: str,
    headers: dict[str, str],
    query: str,
) -> Verdict:
    """Apply the rules of the module docstring to one request (a pure function)."""
    host = headers.get("host", "").lower()
    if host not in access.allowed_hosts():
        return Verdict(403, f"Host {host or '(none)'!r} is not this loopback server")
    origin = headers.get("origin")
    if origin is not None and origin.lower() not in access.allowed_origins():
        return Verdict(403, f"Origin {origin!r} may not call this server")
    bearer = None
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        bearer = auth[7:].strip()
    if same_token(bearer, access.token):
        return Verdict(200)
    cookie = _cookie(headers.get("cookie", ""))
    if same_token(cookie, access.token):
        if method.upper() in UNSAFE_METHODS and origin is None:
            return Verdict(403, "a change needs an Origin header from this page")
        return Verdict(200)
    in_query = parse_qs(query).get("token", [None])[0]
    if method.upper() == "GET" and same_token(in_query, access.token):
        return Verdict(200, via_query=True)
    return Verdict(401, "missing or wrong token; open the URL that `kenning ui` printed")


def _cookie(header: str) -> str | None:
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header is just no cookie
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None


class Guard:
    """ASGI middleware applying `check` to every HTTP request and adding the security headers."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        verdict = check(self.access, scope["method"], headers, query)
        if verdict.via_query:
            await self._login(scope, send)
            return
        if not verdict.ok:
            await self._refuse(scope, send, verdict)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _login(self, scope: Scope, send: Send) -> None:
        """Trade the token in the URL for a cookie and send the browser to the bare path."""
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        params.pop("token", None)
        rest = urlencode(params, doseq=True)
        location = scope.get("path", "/") + (f"?{rest}" if rest else "")
        cookie = f"{COOKIE}={self.access.token}; Path=/; HttpOnly; SameSite=Strict"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location.encode("latin-1")),
                    (b"set-cookie", cookie.encode("latin-1")),
                    (b"content-length", b"0"),
                    *SECURITY_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def _refuse(self, scope: Scope, send: Send, verdict: Verdict) -> None:
        wants_json = scope.get("path", "").startswith("/api/")
        if wants_json:
            body = json.dumps({"error": verdict.reason}).encode()
            content_type = b"application/json"
        else:
            body = (
                "<!doctype html><meta charset=utf-8><title>kenning</title>"
                "<p>"
                f"{_escape(verdict.reason)}.</p>"
            ).encode()
            content_type = b"text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": verdict.status,
                "headers": [
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                    *SECURITY_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("`", "")
