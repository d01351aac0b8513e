"""The team server: MCP over streamable HTTP on a shared PostgreSQL store, one token per user.

    kenning serve --team --db postgresql://kenning@db.internal/kenning --host 0.0.0.0

The server holds memories only; code stays on each developer's machine, where the local
kenning indexes their checkout. Every HTTP request to `/mcp` passes `TeamAuth` first:

- `Authorization: Bearer <token>` names the user (tokens are stored hashed; see
  `TeamDatabase.issue_token`); a missing, unknown or revoked token gets 401;
- the project comes from the `Kenning-Project` header (a git remote URL or an identity key, see
  `identity.py`) or the token itself: a token issued for one project used for another gets 403.

Then each tool acts on `TeamDatabase.store(principal)`, whose every statement is limited to the
caller's spaces (team, the project, their own personal memories), so one user's personal
memories never reach another user.

The MCP SDK is imported at the top (its tools' annotations are evaluated against this module),
so import this module only to serve; `kenning.sync.commands` does so lazily.

The MCP app runs stateless (every request stands alone, JSON responses): nothing ties a session
to the token that opened it, and any number of server processes can share one database.
"""

from __future__ import annotations

import contextvars
import json
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from kenning import __version__
from kenning.errors import KenningError
from kenning.memory import Memory
from kenning.sync.identity import normalize_remote
from kenning.sync.pgstore import Principal, TeamDatabase
from kenning.tokens import count_tokens

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["TeamAuth", "TeamService", "build_team_app", "build_team_server", "project_key"]

PROJECT_HEADER = "kenning-project"
_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "kenning_team_principal", default=None
)
SCOPE_KEY = "kenning.principal"


def project_key(value: str | None) -> str | None:
    """The identity key of a project a client names: a remote URL or an identity key.

    `git@github.com:Acme/App.git`, `https://github.com/acme/app` and `github.com/Acme/App` are
    one key; `path:/srv/app` (a project without a remote) is taken as it is.

    Raises:
        ValueError: an empty host or an unreadable URL.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.startswith(("path:", "file:")):
        return text
    if "://" in text or _SCP.match(text):
        return normalize_remote(text)
    return normalize_remote("https://" + text)


_SCP = re.compile(r"^[^@/:]+@[^:/]+:")


# ---- the tools' logic (no MCP types here) ---------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """Markdown for the model and a JSON-ready dict for programs."""

    text: str
    data: dict[str, Any]


def _line(memory: Memory) -> str:
    who = memory.extra.get("author", "?")
    where = memory.extra.get("visibility", "?")
    return f"**{memory.title}** ({memory.kind}, `{memory.id}`, {where}, by {who})"


class TeamService:
    """What the team server's tools do, for the principal of the current request."""

    def __init__(self, db: TeamDatabase) -> None:
        self.db = db

    def principal(self) -> Principal:
        found = _principal.get()
        if found is None:
            raise KenningError("no authenticated user for this request")
        return found

    def get_context(self, request: str, budget: int | None = None, k: int = 8) -> Reply:
        """The team memories relevant to `request`, within `budget` tokens."""
        store = self.db.store(self.principal())
        budget = max(100, min(int(budget or 1500), 20_000))
        hits = store.search(request, k=max(1, min(int(k), 50)))
        lines = [f"# Team context for: {request.strip()[:200]}", ""]
        used = count_tokens("\n".join(lines))
        items: list[dict[str, Any]] = []
        for hit in hits:
            m = hit.memory
            body = f"\n  {m.body.strip()}" if m.body.strip() else ""
            entry = f"- {_line(m)}{body}\n  _why: matched {hit.why}_"
            cost = count_tokens(entry)
            if used + cost > budget:
                break
            used += cost
            lines.append(entry)
            items.append(
                {
                    "id": m.id,
                    "kind": m.kind,
                    "title": m.title,
                    "author": m.extra.get("author"),
                    "visibility": m.extra.get("visibility"),
                    "score": hit.score,
                    "why": hit.why,
                }
            )
        if not items:
            lines.append("_No team memory matches this request._")
        return Reply("\n".join(lines), {"items": items, "tokens": used})

    def remember(
        self,
        text: str,
        kind: str,
        *,
        title: str | None = None,
        scope: Sequence[str] = (),
        tags: Sequence[str] = (),
        aliases: Sequence[str] = (),
        supersedes: str | None = None,
        personal: bool = False,
        team: bool = False,
        source: str = "mcp",
    ) -> Reply:
        store = self.db.store(self.principal())
        memory = store.add(
            text,
            kind,
            title=title,
            scope=scope,
            tags=tags,
            aliases=aliases,
            supersedes=supersedes,
            personal=personal,
            team=team,
            source=source,
        )
        where = memory.extra.get("visibility")
        return Reply(
            f"Remembered `{memory.id}` ({memory.kind}, {where})",
            {"id": memory.id, "kind": memory.kind, "visibility": where},
        )

    def get(self, memory_id: str) -> Reply:
        m = self.db.store(self.principal()).get(memory_id)
        data = m.to_dict()
        data.pop("path", None)
        return Reply(f"{_line(m)} — {m.status}\n\n{m.body}".strip(), data)

    def search(self, query: str, kind: str | None = None, limit: int = 10) -> Reply:
        kinds = [kind] if kind else []
        hits = self.db.store(self.principal()).search(query, k=limit, kinds=kinds)
        lines = [f"- {_line(h.memory)} — {h.why}" for h in hits] or ["_No match._"]
        data = [{"id": h.memory.id, "title": h.memory.title, "score": h.score} for h in hits]
        return Reply("\n".join(lines), {"results": data})

    def forget(self, memory_id: str) -> Reply:
        m = self.db.store(self.principal()).retire(memory_id)
        return Reply(f"Retired `{m.id}` (kept, with status: retired)", {"id": m.id})


# ---- MCP ------------------------------------------------------------------------------------


def _list(value: list[str] | str | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def build_team_server(service: TeamService) -> MCPServer[Any]:
    """The team server's MCPServer: get_context, remember, search, get, forget."""
    read_only = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True)
    additive = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True)

    def call(action: Any) -> CallToolResult:
        try:
            reply: Reply = action()
        except KenningError as exc:
            raise ToolError(str(exc)) from None
        return CallToolResult(
            content=[TextContent(type="text", text=reply.text)], structured_content=reply.data
        )

    server: MCPServer[Any] = MCPServer(
        "kenning-team",
        title="kenning team memory",
        version=__version__,
        instructions=(
            "Shared memory of this team: decisions, rules, preferences, people and terms. "
            "Call get_context with the user's request before coding; call remember when the "
            "user establishes something the team should keep."
        ),
        log_level="WARNING",
    )

    @server.tool(title="Get team context for a request", annotations=read_only)
    def get_context(
        request: Annotated[str, Field(description="The user's request or task, in their words.")],
        budget: Annotated[int | None, Field(description="Token budget (default 1500).")] = None,
    ) -> CallToolResult:
        """Call this first for a coding task: the team's decisions, rules and other memories
        that bear on the request, each with its author and why it was chosen."""
        return call(lambda: service.get_context(request, budget))

    @server.tool(title="Remember for the team", annotations=additive)
    def remember(
        text: Annotated[str, Field(description="What to remember, in one or a few sentences.")],
        kind: Annotated[
            str, Field(description="decision, rule, preference, person, term, fact or note")
        ],
        title: Annotated[str | None, Field(description="A short title.")] = None,
        scope: Annotated[list[str] | str | None, Field(description="Path globs.")] = None,
        tags: Annotated[list[str] | str | None, Field(description="Tags.")] = None,
        supersedes: Annotated[str | None, Field(description="Id this replaces.")] = None,
        personal: Annotated[
            bool, Field(description="Only for you (follows you across projects).")
        ] = False,
        team: Annotated[bool, Field(description="For the whole team, every project.")] = False,
    ) -> CallToolResult:
        """Record something established: stored for this project (default), for the whole
        team (team=true) or only for you (personal=true); tagged with you as author."""
        return call(
            lambda: service.remember(
                text,
                kind,
                title=title,
                scope=_list(scope),
                tags=_list(tags),
                supersedes=supersedes,
                personal=personal,
                team=team,
            )
        )

    @server.tool(title="Search team memory", annotations=read_only)
    def search(
        query: Annotated[str, Field(description="Words or a question.")],
        kind: Annotated[str | None, Field(description="Only this kind.")] = None,
        limit: Annotated[int, Field(description="Most results (default 10).")] = 10,
    ) -> CallToolResult:
        """Find team memories by words and meaning."""
        return call(lambda: service.search(query, kind, limit))

    @server.tool(title="Get a memory", annotations=read_only)
    def get(id: Annotated[str, Field(description="The memory's id.")]) -> CallToolResult:
        """One memory in full, by id."""
        return call(lambda: service.get(id))

    @server.tool(title="Forget (retire) a memory", annotations=additive)
    def forget(id: Annotated[str, Field(description="The memory's id.")]) -> CallToolResult:
        """Retire an outdated memory; it is kept with status retired, never deleted."""
        return call(lambda: service.forget(id))

    return server


# ---- HTTP: tokens and projects --------------------------------------------------------------


class TeamAuth:
    """ASGI middleware: bearer token → user, project check, principal for the tools.

    Token look-ups are cached for `ttl` seconds (a revoked token stops working within `ttl`).
    """

    def __init__(self, app: ASGIApp, db: TeamDatabase, *, ttl: float = 10.0) -> None:
        self.app = app
        self.db = db
        self.ttl = ttl
        self._cache: dict[str, tuple[float, tuple[str, str | None] | None]] = {}
        self._lock = threading.Lock()

    def _lookup(self, token: str) -> tuple[str, str | None] | None:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(token)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = self.db.authenticate(token)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[token] = (now + self.ttl, found)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not token:
            await _refuse(send, 401, "missing bearer token: send Authorization: Bearer <token>")
            return
        import anyio.to_thread

        from kenning.sync.errors import StoreUnavailable

        try:
            found = await anyio.to_thread.run_sync(self._lookup, token)
        except StoreUnavailable as exc:
            await _refuse(send, 503, str(exc))
            return
        if found is None:
            await _refuse(send, 401, "unknown or revoked token")
            return
        user, token_project = found
        try:
            asked = project_key(headers.get(PROJECT_HEADER) or _query_project(scope))
        except ValueError:
            await _refuse(send, 400, f"bad {PROJECT_HEADER} header")
            return
        if token_project is not None and asked is not None and asked != token_project:
            await _refuse(send, 403, f"this token is for project {token_project}, not {asked}")
            return
        principal = Principal(user, asked or token_project)
        scope.setdefault("state", {})[SCOPE_KEY] = principal
        reset = _principal.set(principal)
        try:
            await self.app(scope, receive, send)
        finally:
            _principal.reset(reset)


def _query_project(scope: Scope) -> str | None:
    from urllib.parse import parse_qs

    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    values = query.get("project")
    return values[0] if values else None


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="kenning"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def build_team_app(
    db: TeamDatabase, *, host: str = "127.0.0.1", token_ttl: float = 10.0
) -> ASGIApp:
    """The ASGI app: `TeamAuth` in front of the stateless streamable HTTP MCP app at /mcp."""
    from mcp.server.transport_security import TransportSecuritySettings

    server = build_team_server(TeamService(db))
    loopback = host in ("127.0.0.1", "localhost", "::1")
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=loopback,
        allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
        allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
    )
    app = server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        transport_security=security,
        host=host,
    )
    return TeamAuth(app, db, ttl=token_ttl)


class BackgroundServer:
    """Serve an ASGI app with uvicorn on a thread (tests, benchmarks); `stop()` ends it."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        import socket

        import uvicorn

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(256)
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://{host}:{self.port}/mcp"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise KenningError("the team server did not start within 30 s")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._sock.close()
