"""Serving the MCP server: streamable HTTP behind `HttpGuard`, on a socket bound here.

Binding the socket ourselves (rather than letting uvicorn do it) gives a clear error when the port
is taken and lets `--port 0` pick a free port, whose URL is then printed. stdio lives in
`handshake.py`.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any

from kenning.errors import ConfigError
from kenning.mcp.security import DEFAULT_MAX_BODY, HttpGuard, is_loopback
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
    max_body: int = DEFAULT_MAX_BODY,
) -> Any:
    """The guarded ASGI app: HttpGuard in front of the SDK's streamable HTTP app at /mcp."""
    from mcp.server.transport_security import TransportSecuritySettings

    from kenning.mcp.server import build_server

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
        max_request_body_size=max_body * 2,
    )
    return HttpGuard(
        app, token=token, bind_host=host, allowed_origins=allowed_origins, max_body=max_body
    )


def serve_http(
    app: Any, sock: socket.socket, *, on_ready: Callable[[str], None] | None = None
) -> None:
    """Serve `app` on the bound socket until interrupted."""
    import anyio
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        limit_concurrency=64,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=3,
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
