"""The HTTP transport's guard: who may call the server, from where, and with how much.

Streamable HTTP on loopback is still reachable by every local process and, through DNS
rebinding, by web pages in the user's browser. So every request must pass, in this order:

1. `Host` and `Origin` checks (DNS rebinding): on a loopback bind the Host must name a loopback
   address, and an Origin, when a browser sends one, must be a loopback origin (or one allowed
   with `--allow-origin`); otherwise 403.
2. A bearer token (`Authorization: Bearer …`), compared in constant time; otherwise 401. The
   token is generated on first use and kept in the user's kenning dir with 0600 rights. Clients
   that cannot set a header (the MCP Inspector 0.15 CLI) may put it in the URL as
   `?access_token=…` (RFC 6750 §2.3); the header is preferred, as URLs end up in logs.
3. A body size limit; a larger body gets a JSON-RPC error (HTTP 413) before the SDK reads it.

Refusals carry a JSON-RPC error object, so MCP clients show the message. Binding to a
non-loopback address is refused unless `--host` names it explicitly (`check_bind`).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import secrets
import stat
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kenning.errors import ConfigError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_FILE = "mcp-token"
DEFAULT_MAX_BODY = 1_048_576
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

# JSON-RPC error codes for transport refusals (the -32000..-32099 range is the server's own).
UNAUTHORIZED = -32001
FORBIDDEN = -32003
INVALID_REQUEST = -32600


def is_loopback(host: str) -> bool:
    """True for localhost and loopback IP addresses (127.0.0.0/8, ::1)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, host_given: bool) -> None:
    """Refuse a non-loopback bind unless the user named the address with `--host`.

    Raises:
        ConfigError: the address is not loopback and came from a default, not from the user.
    """
    if not is_loopback(host) and not host_given:
        raise ConfigError(
            f"refusing to listen on {host}: only loopback is served unless you pass --host "
            "explicitly (clients then need the bearer token)"
        )


def load_or_create_token(path: Path) -> tuple[str, bool]:
    """The bearer token stored at `path`, created (0600) when missing; (token, created).

    Raises:
        ConfigError: the file exists but is empty or unreadable.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        try:
            mode = path.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                path.chmod(0o600)  # a copied or restored file: take the rights back to the user
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the MCP token at {path}: {exc.strerror}") from None
        if len(token) < 16:
            raise ConfigError(
                f"the MCP token at {path} is empty or short; delete the file"
            ) from None
        return token, False
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    return token, True


def _hostname(value: str) -> str:
    """The host part of a Host header value (`[::1]:8765` → `::1`)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _origin_host(origin: str) -> str | None:
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname.lower()


class HttpGuard:
    """ASGI middleware that enforces Host/Origin, the bearer token and the body limit."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str,
        bind_host: str,
        allowed_origins: Iterable[str] = (),
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.app = app
        self._token = token.encode()
        self.loopback_only = is_loopback(bind_host)
        self.allowed_origins = {o.rstrip("/").lower() for o in allowed_origins}
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        refusal = self.refusal(headers, (query.get("access_token") or [""])[0])
        if refusal is not None:
            await _reply(send, *refusal)
            return
        if scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            # Read (and drop) a moderately oversized body before refusing: a client still
            # writing it would otherwise get a broken pipe instead of the JSON-RPC error.
            if int(declared) <= DRAIN_LIMIT:
                await _drain(receive)
            await _reply(send, *self._too_large())
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            body += message.get("body", b"")
            if len(body) > self.max_body:
                await _reply(send, *self._too_large())
                return
            if not message.get("more_body", False):
                break
        first = {"type": "http.request", "body": bytes(body), "more_body": False}
        await self.app(scope, _replay([first], receive), send)

    def refusal(
        self, headers: dict[str, str], query_token: str = ""
    ) -> tuple[int, int, str, dict[str, str]] | None:
        """(HTTP status, JSON-RPC code, message, extra headers) when the request is refused."""
        host = _hostname(headers.get("host", ""))
        if self.loopback_only and not is_loopback(host):
            return 403, FORBIDDEN, f"Host {host!r} is not a loopback name (DNS rebinding?)", {}
        origin = headers.get("origin")
        if origin is not None and not self.origin_allowed(origin, host):
            return 403, FORBIDDEN, f"Origin {origin!r} is not allowed", {}
        scheme, _, presented = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            presented = query_token
        if not hmac.compare_digest(presented.strip().encode(), self._token):
            return (
                401,
                UNAUTHORIZED,
                "missing or wrong bearer token: send 'Authorization: Bearer <token>' with the "
                "token kenning stored in its user dir (file mcp-token)",
                {"www-authenticate": 'Bearer realm="kenning"'},
            )
        return None

    def origin_allowed(self, origin: str, host: str) -> bool:
        if origin.rstrip("/").lower() in self.allowed_origins:
            return True
        origin_host = _origin_host(origin)
        if origin_host is None:
            return False
        if is_loopback(origin_host):
            return True
        # Off loopback, a page served by this same host may call it; nothing else may.
        return not self.loopback_only and origin_host == host

    def _too_large(self) -> tuple[int, int, str, dict[str, str]]:
        return 413, INVALID_REQUEST, f"request body over {self.max_body:,} bytes", {}


DRAIN_LIMIT = 16 * 1024 * 1024


async def _drain(receive: Receive) -> None:
    """Consume the rest of a request body without keeping it."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replay() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return replay


async def _reply(send: Send, status: int, code: int, message: str, extra: dict[str, str]) -> None:
    body = json.dumps(
        {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.encode(), v.encode()) for k, v in extra.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
