"""Serving the MCP server: streamable HTTP behind `HttpGuard`, on a socket bound here.

Binding the socket ourselves (rather than letting uvicorn do it) gives a clear error when the port
is taken and lets `--port 0` pick a free port, whose URL is then printed. stdio lives in
`handshake.py`.

Slow and greedy clients are bounded by `HttpLimits`: uvicorn's own knobs cap open connections
(a request on one more gets 503) and idle keep-alive time; uvicorn has no deadline for a request
head, so `_head_deadline_protocol` adds one (a client that trickles its headers, slowloris, is
cut off after `header_timeout` seconds); the body deadline and the cap on requests served at
once are `HttpGuard`'s.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any

from kenning.errors import ConfigError
from kenning.mcp.security import HttpGuard, HttpLimits, is_loopback
from kenning.mcp.service import KenningService


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port).

    Raises:
        ConfigError: the address cannot be bound (in use, not local, no permission).
    """
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it, Nagle's algorithm and the client's delayed
    # ACK add about 40 ms to every response on a keep-alive connection (measured).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        hint = " (pick another with --port)" if exc.errno in (48, 98) else ""
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}{hint}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/mcp"


def http_app(
    service: KenningService,
    *,
    token: str,
    host: str,
    allowed_origins: Sequence[str] = (),
    limits: HttpLimits | None = None,
) -> Any:
    """The guarded ASGI app: HttpGuard in front of the SDK's streamable HTTP app at /mcp."""
    from mcp.server.transport_security import TransportSecuritySettings

    from kenning.mcp.server import build_server

    limits = limits or HttpLimits()
    server = build_server(service)
    service.warm_in_background()
    loopback = is_loopback(host)
    # The SDK's own Host/Origin check stays on as a second line on loopback binds.
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=loopback,
        allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
        allowed_origins=[
            "http://127.0.0.1:*",
            "http://localhost:*",
            "http://[::1]:*",
            *allowed_origins,
        ],
    )
    app = server.streamable_http_app(
        streamable_http_path="/mcp",
        transport_security=security,
        host=host,
        max_request_body_size=limits.max_body * 2,
    )
    return HttpGuard(
        app, token=token, bind_host=host, allowed_origins=allowed_origins, limits=limits
    )


def serve_http(
    app: Any,
    sock: socket.socket,
    *,
    limits: HttpLimits | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve `app` on the bound socket until interrupted."""
    import anyio
    import uvicorn

    limits = limits or HttpLimits()
    config = uvicorn.Config(
        app,
        http=_head_deadline_protocol(limits),
        log_level="warning",
        lifespan="on",
        limit_concurrency=limits.max_connections,
        timeout_keep_alive=limits.keep_alive,
        timeout_graceful_shutdown=3,
        # A request head larger than this is answered 400 instead of buffered (h11's default,
        # spelled out: the bearer token and MCP's headers need a few hundred bytes).
        h11_max_incomplete_event_size=16 * 1024,
    )
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready(url_of(sock))

    async def main() -> None:
        await server.serve(sockets=[sock])

    try:
        anyio.run(main)
    except KeyboardInterrupt:  # pragma: no cover - Ctrl-C ends the server quietly
        sys.stderr.write("kenning: MCP server stopped\n")


def _head_deadline_protocol(limits: HttpLimits) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with a deadline on each request head and a hard connection cap.

    The deadline runs from the connection (or, on a kept-alive one, from the next request's first
    byte) until the request line and headers are complete; bytes trickling in do not extend it.
    Connections beyond twice `max_connections` are closed at once: between the cap and that,
    uvicorn answers their requests with 503.
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeadDeadlineProtocol(H11Protocol):
        head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            if len(self.connections) > 2 * limits.max_connections:
                self.transport.close()
                return
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                if self.head_timer is None:
                    self._arm()
            else:
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self.head_timer = self.loop.call_later(limits.header_timeout, self._expire)

        def _disarm(self) -> None:
            if self.head_timer is not None:
                self.head_timer.cancel()
                self.head_timer = None

        def _expire(self) -> None:
            self.head_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return HeadDeadlineProtocol
