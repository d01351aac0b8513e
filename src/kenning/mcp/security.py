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
3. A limit on requests served at once (`HttpLimits.max_in_flight`); one more gets HTTP 503 with
   `Retry-After`, at once, instead of a thread and a queue slot.
4. A body size limit and a body deadline: a larger body gets HTTP 413 before the SDK reads it,
   and one that does not arrive within `body_timeout` seconds (a client that trickles it) gets
   HTTP 408 and the connection is closed.

Refusals carry a JSON-RPC error object, so MCP clients show the message. Binding to a
non-loopback address is refused unless `--host` names it explicitly (`check_bind`). The limits
on connections and on the request head are uvicorn's business (`transports.py`).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import math
import os
import secrets
import stat
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio

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
BUSY = -32000
UNAUTHORIZED = -32001
FORBIDDEN = -32003
INVALID_REQUEST = -32600


@dataclass(frozen=True)
class HttpLimits:
    """What one HTTP server gives its clients: bytes, seconds and requests at once.

    Every field can be set under `[mcp.http]` in config.toml (user or project; `max_body_kb` for
    `max_body`) and most with a flag of `kenning mcp --http`; the defaults suit one developer's
    clients on loopback.
    """

    max_body: int = DEFAULT_MAX_BODY
    """Bytes in one request body; a larger one gets 413."""
    max_in_flight: int = 16
    """Requests (POSTs: the tool calls) served at once; one more gets 503 with Retry-After."""
    max_connections: int = 64
    """Open connections; a request on one more gets uvicorn's 503, and far more are dropped."""
    header_timeout: float = 10.0
    """Seconds for a request's line and headers to arrive, from the connection or its first byte."""
    body_timeout: float = 30.0
    """Seconds for a request's body to arrive once its headers have; a slower one gets 408."""
    keep_alive: int = 5
    """Seconds an idle kept-alive connection stays open."""
    request_timeout: float = 120.0
    """Seconds one request may be served (a tool call); past it, 504 or the connection closes."""

    @classmethod
    def from_settings(cls, table: Mapping[str, Any], **overrides: float | None) -> HttpLimits:
        """Limits from the `[mcp.http]` table, then `overrides` (None: not given).

        Raises:
            ConfigError: a value is not a positive number.
        """
        values: dict[str, float] = {}
        for key, value in table.items():
            name = "max_body" if key == "max_body_kb" else key
            if name not in _LIMIT_NAMES:
                raise ConfigError(
                    f"mcp.http.{key} is not a setting; known: max_body_kb, "
                    + ", ".join(sorted(_LIMIT_NAMES - {"max_body"}))
                )
            values[name] = _positive(f"mcp.http.{key}", value) * (
                1024 if key == "max_body_kb" else 1
            )
        for name, value in overrides.items():
            if value is not None:
                values[name] = _positive(f"--{name.replace('_', '-')}", value)
        limits = cls()
        kinds = {f.name: type(getattr(limits, f.name)) for f in fields(cls)}
        return replace(limits, **{k: kinds[k](v) for k, v in values.items()})


_LIMIT_NAMES = frozenset(f.name for f in fields(HttpLimits))


def _positive(name: str, value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigError(f"{name} must be a positive number, not {value!r}")
    return float(value)


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


def http_health(
    token_path: Path, http_settings: Any, *, fix: bool = False
) -> tuple[bool, list[str]]:
    """`kenning doctor`'s lines on the HTTP transport: its settings and its stored token.

    With `fix`, a token file others can read is taken back to 0600, and an empty or short one
    (which stops `kenning mcp --http` from starting) is replaced by a new token. Returns (ok,
    lines); a fixed problem counts as ok.
    """
    ok = True
    lines: list[str] = []
    try:
        if not isinstance(http_settings, dict):
            raise ConfigError("mcp.http in config.toml must be a table ([mcp.http])")
        HttpLimits.from_settings(http_settings)
    except ConfigError as exc:
        ok = False
        lines.append(f"mcp http settings: {exc}")
    if not token_path.exists():
        lines.append("mcp http token: none yet (`kenning mcp --http` creates it)")
        return ok, lines
    try:
        loose = token_path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)
        short = len(token_path.read_text(encoding="utf-8").strip()) < 16
    except OSError as exc:
        lines.append(f"mcp http token: cannot read {token_path} ({exc.strerror})")
        return False, lines
    if short:
        if fix:
            token_path.unlink()
            load_or_create_token(token_path)
            lines.append(
                f"fixed: the empty or short MCP token in {token_path} was replaced; clients set "
                "up with `kenning connect --url` need it again"
            )
        else:
            ok = False
            lines.append(
                f"mcp http token: {token_path} is empty or short, so `kenning mcp --http` "
                "will not start; `kenning doctor --fix` replaces it"
            )
    elif loose:
        if fix:
            token_path.chmod(0o600)
            lines.append(f"fixed: {token_path} is readable only by you again (0600)")
        else:
            ok = False
            lines.append(
                f"mcp http token: {token_path} is readable by others; `kenning doctor --fix` "
                "(or the next `kenning mcp --http`) takes it back to 0600"
            )
    else:
        lines.append("mcp http token: present, readable only by you")
    return ok, lines


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
    """ASGI middleware: Host/Origin, the bearer token, requests at once, body size and deadline."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str,
        bind_host: str,
        allowed_origins: Iterable[str] = (),
        limits: HttpLimits | None = None,
    ) -> None:
        self.app = app
        self._token = token.encode()
        self.loopback_only = is_loopback(bind_host)
        self.allowed_origins = {o.rstrip("/").lower() for o in allowed_origins}
        self.limits = limits or HttpLimits()
        self.max_body = self.limits.max_body
        self.in_flight = 0  # one event loop: no lock needed
        self.live_ids: set[tuple[str, str]] = set()  # (session, JSON-RPC id) being served

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
        await self._serve(scope, receive, send, headers)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        # Every method's body is read here, under the deadline: the SDK reads a GET's or a
        # DELETE's body too, and would wait for ever on a Content-Length that lies.
        declared = headers.get("content-length", "")
        first: Message | None = None
        with anyio.move_on_after(self.limits.body_timeout) as deadline:
            if declared.isdigit() and int(declared) > self.max_body:
                # Read (and drop) a moderately oversized body before refusing: a client still
                # writing it would otherwise get a broken pipe instead of the JSON-RPC error.
                if int(declared) <= DRAIN_LIMIT:
                    await _drain(receive)
                await _reply(send, *self._too_large())
                return
            first = await self._read_body(receive)
        if deadline.cancelled_caught:
            await _reply(
                send,
                408,
                INVALID_REQUEST,
                f"request body not received within {self.limits.body_timeout:g} s",
                {"connection": "close"},
            )
            return
        if first is None:
            await _reply(send, *self._too_large())
            return
        if scope.get("method") != "POST":  # GET holds an event stream open: not counted
            await self.app(scope, _replay([first], receive), send)
            return
        # Counted once the body is in: a slow client holds a connection, never a serving slot.
        if self.in_flight >= self.limits.max_in_flight:
            await _reply(
                send,
                503,
                BUSY,
                f"server busy: {self.limits.max_in_flight} requests are being served; "
                "retry in a moment",
                {"retry-after": "1"},
                request_id=_request_id(first.get("body", b"")),
            )
            return
        body = first.get("body", b"")
        session = headers.get("mcp-session-id", "")
        ids = {(session, json.dumps(i)) for i in _request_ids(body)} if session else set()
        if ids & self.live_ids:
            # Trigger: a request reuses the id of one still being served in the same session.
            # Why: the SDK routes answers by id, so one of the two would wait for ever.
            # Outcome: refused at once, the first one is answered.
            await _reply(
                send,
                409,
                INVALID_REQUEST,
                "a request with this id is still being served in this session; use a new id",
                {},
                request_id=_request_id(body),
            )
            return
        self.in_flight += 1
        self.live_ids |= ids
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            with anyio.move_on_after(self.limits.request_timeout) as served:
                await self.app(scope, _replay([first], receive), tracked)
        finally:
            self.in_flight -= 1
            self.live_ids -= ids
        if served.cancelled_caught and not started:
            await _reply(
                send,
                504,
                BUSY,
                f"the request was not answered within {self.limits.request_timeout:g} s",
                {"connection": "close"},
                request_id=_request_id(body),
            )

    async def _read_body(self, receive: Receive) -> Message | None:
        """The whole body as one message (or the first non-body message); None when too large."""
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return message
            body += message.get("body", b"")
            if len(body) > self.max_body:
                return None
            if not message.get("more_body", False):
                return {"type": "http.request", "body": bytes(body), "more_body": False}

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


def _request_ids(body: bytes) -> list[str | int]:
    """The JSON-RPC ids of the requests (not notifications or responses) in a body."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return []
    messages = parsed if isinstance(parsed, list) else [parsed]
    return [
        m["id"]
        for m in messages
        if isinstance(m, dict)
        and "method" in m
        and isinstance(m.get("id"), str | int)
        and not isinstance(m.get("id"), bool)
    ]


def _request_id(body: bytes) -> str | int | None:
    """The JSON-RPC id of a single request body, so a refusal answers that request; else None."""
    ids = _request_ids(body)
    return ids[0] if len(ids) == 1 else None


async def _reply(
    send: Send,
    status: int,
    code: int,
    message: str,
    extra: dict[str, str],
    *,
    request_id: str | int | None = None,
) -> None:
    body = json.dumps(
        {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.encode(), v.encode()) for k, v in extra.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
