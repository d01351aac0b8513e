"""The MCP server: one decorated function per tool, whose docstring is what the model reads.

Each tool is a thin adapter: it takes the client's arguments (validated by the SDK from the type
hints, then coerced by `KenningService`), runs on a worker thread (the SDK runs sync tools there),
and returns Markdown for the model plus structured content for programs. A `KenningError` becomes
a tool error whose text tells the model what to do; anything else is a bug and the SDK hides its
details from the client.

The SDK is imported here and only here, so `kenning --help` and the stdio handshake never pay for
it (see `handshake.py`).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

from mcp.server.context import CallNext, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer, UserMessage
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from kenning import __version__
from kenning.errors import KenningError
from kenning.mcp.handshake import INSTRUCTIONS, SERVER_NAME, SERVER_TITLE
from kenning.mcp.service import KenningService, Reply
from kenning.memory import environ_source

F = TypeVar("F", bound=Callable[..., Any])

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
ADDITIVE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
DESTRUCTIVE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)

StrList = list[str] | str | None
KindName = Annotated[
    str,
    Field(description="decision, rule, preference, person, term, fact or note"),
]


def client_name(ctx: Context[Any, Any] | None) -> str:
    """The connected client's name from its `initialize` clientInfo, else KENNING_SOURCE/"mcp"."""
    name = ""
    try:
        params = ctx.request_context.session.client_params if ctx is not None else None
        if params is not None and params.client_info is not None:
            name = params.client_info.name or ""
    except (AttributeError, ValueError):
        name = ""
    name = re.sub(r"[^\w.@/+ -]", "", name).strip()[:60]
    return name or environ_source("mcp")


def _clean_doc(fn: F) -> F:
    """Dedent a tool's docstring: it is the description the model reads (3.11 keeps indents)."""
    fn.__doc__ = inspect.cleandoc(fn.__doc__ or "")
    return fn


def _result(reply: Reply) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=reply.text)], structured_content=reply.data
    )


def _call(action: Callable[[], Reply]) -> CallToolResult:
    try:
        return _result(action())
    except KenningError as exc:
        raise ToolError(str(exc)) from None


class WarmAfterFirstRequest:
    """Server middleware: warm the engine once the first request after `initialize` is answered.

    Clients send `tools/list` right after the handshake; warming before it would compete with
    it for the CPU and the GIL (about 0.2 s later on 2 cores), warming after it still finishes
    long before the model's first `get_context`.
    """

    def __init__(self, service: KenningService) -> None:
        self.service = service
        self.started = False

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> Any:
        result = await call_next(ctx)
        if not self.started and ctx.request_id is not None and ctx.method != "initialize":
            self.started = True
            self.service.warm_in_background()
        return result


def build_server(
    service: KenningService, *, warm_after_first_request: bool = False
) -> MCPServer[Any]:
    """An MCPServer whose tools, resources and prompt all act on `service`.

    With `warm_after_first_request`, the engine is warmed in the background after the first
    request that follows the handshake (stdio); otherwise the caller warms it when it likes.
    """

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[dict[str, Any]]:
        try:
            yield {}
        finally:
            service.close()

    server: MCPServer[Any] = MCPServer(
        SERVER_NAME,
        title=SERVER_TITLE,
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level="WARNING",
        middleware=[WarmAfterFirstRequest(service)] if warm_after_first_request else None,
    )

    @server.tool(title="Get context for a request", annotations=READ_ONLY)
    @_clean_doc
    def get_context(
        request: Annotated[str, Field(description="The user's request or task, in their words.")],
        files: Annotated[
            StrList, Field(description="Paths the task is about (open or mentioned files).")
        ] = None,
        budget: Annotated[
            int | None, Field(description="Token budget for the packet (default 2000).")
        ] = None,
    ) -> CallToolResult:
        """Call this first for any coding task in this project.

        Returns the few pieces that matter for the request: the rules that apply to the files
        involved, relevant code with paths and lines, past decisions (and any the request goes
        against, listed first as conflicts), preferences, people and terms, each with a line on
        why it is included, within a token budget. Call it again when the task changes.
        """
        return _call(lambda: service.get_context(request, files, budget)[0])

    @server.tool(title="Remember", annotations=ADDITIVE)
    @_clean_doc
    def remember(
        ctx: Context[Any, Any],
        text: Annotated[str, Field(description="What to remember, in one or a few sentences.")],
        kind: KindName,
        title: Annotated[
            str | None, Field(description="A short title (default: first line).")
        ] = None,
        scope: Annotated[
            StrList, Field(description="Path globs a rule or decision applies to, e.g. src/api/**")
        ] = None,
        tags: Annotated[StrList, Field(description="Tags.")] = None,
        aliases: Annotated[StrList, Field(description="Other names (people, terms).")] = None,
        supersedes: Annotated[
            str | None, Field(description="Id of the memory this one replaces.")
        ] = None,
        personal: Annotated[
            bool, Field(description="Store in the user's personal store (follows them).")
        ] = False,
        files: Annotated[
            StrList,
            Field(
                description="Files (or path::Symbol) it is about; kenning flags it when they change."
            ),
        ] = None,
    ) -> CallToolResult:
        """Record something the user established, so every tool sees it from now on.

        Call when the user states a rule ("never …", "always …"), a preference, a fact about the
        project, a person's role, a term's meaning, or a note worth keeping. For a choice between
        options prefer record_decision. Near-identical memories are not stored twice: the reply
        names the existing id; pass supersedes=<id> to replace an outdated memory.
        """
        source = client_name(ctx)
        return _call(
            lambda: service.remember(
                text,
                kind,
                title=title,
                scope=scope,
                tags=tags,
                aliases=aliases,
                supersedes=supersedes,
                personal=personal,
                files=files,
                source=source,
            )
        )

    @server.tool(title="Record a decision", annotations=ADDITIVE)
    @_clean_doc
    def record_decision(
        ctx: Context[Any, Any],
        title: Annotated[str, Field(description="The decision in a short line.")],
        decision: Annotated[str, Field(description="What was decided, and its context.")],
        reasons: Annotated[StrList, Field(description="Why it was decided.")] = None,
        alternatives_rejected: Annotated[
            StrList, Field(description="Options considered and ruled out.")
        ] = None,
        scope: Annotated[StrList, Field(description="Path globs the decision applies to.")] = None,
        supersedes: Annotated[
            str | None, Field(description="Id of an earlier decision this one replaces.")
        ] = None,
    ) -> CallToolResult:
        """Record a decision the user made, with its reasons and the alternatives ruled out.

        Call when the conversation settles a choice ("we'll use X", "let's not do Y"). Later
        requests that go against it are flagged as conflicts in get_context. Pass supersedes when
        the decision replaces an earlier one.
        """
        source = client_name(ctx)
        return _call(
            lambda: service.record_decision(
                title,
                decision,
                reasons=reasons,
                alternatives_rejected=alternatives_rejected,
                scope=scope,
                supersedes=supersedes,
                source=source,
            )
        )

    @server.tool(title="Search", annotations=READ_ONLY)
    @_clean_doc
    def search(
        query: Annotated[str, Field(description="Words to look for.")],
        kind: Annotated[
            str | None,
            Field(
                description="all (default), code, memory, file, symbol, doc, or a memory kind "
                "(decision, rule, preference, person, term, fact, note)"
            ),
        ] = None,
        limit: Annotated[int | None, Field(description="How many results, 1 to 25 (8).")] = None,
    ) -> CallToolResult:
        """Search code and memories when you need something specific that get_context left out.

        Returns ranked results with a short snippet each: memories with their id (expand one with
        get), code with its path and lines (open the file to read more).
        """
        return _call(lambda: service.search(query, kind, limit))

    @server.tool(title="Get a memory", annotations=READ_ONLY)
    @_clean_doc
    def get(
        id: Annotated[str, Field(description="A memory id from search or get_context.")],
    ) -> CallToolResult:
        """Read one memory in full: its text, kind, status, scope, dates and source."""
        return _call(lambda: service.get(id))

    @server.tool(title="Forget a memory", annotations=DESTRUCTIVE)
    @_clean_doc
    def forget(
        id: Annotated[str, Field(description="The id of the memory to retire.")],
    ) -> CallToolResult:
        """Retire a memory that is wrong or no longer true, only when the user asks for it.

        It leaves every packet at once; its file stays (status: retired) so history is kept. To
        correct a memory rather than drop it, call remember with supersedes=<id> instead.
        """
        return _call(lambda: service.forget(id))

    @server.tool(title="List rules", annotations=READ_ONLY)
    @_clean_doc
    def list_rules(
        path: Annotated[
            str | None, Field(description="A file path: only the rules that apply to it.")
        ] = None,
    ) -> CallToolResult:
        """List the project's rules, or those that apply to one file: call before editing it."""
        return _call(lambda: service.list_rules(path))

    @server.tool(title="Explain routing", annotations=READ_ONLY)
    @_clean_doc
    def route(
        request: Annotated[str, Field(description="The request to explain.")],
    ) -> CallToolResult:
        """Explain how kenning reads a request: its intent, the entities it links, the fetch plan.

        Use it to understand or debug why get_context returned what it did.
        """
        return _call(lambda: service.route(request))

    @server.tool(title="Propose memories from a conversation", annotations=READ_ONLY)
    @_clean_doc
    def capture(
        ctx: Context[Any, Any],
        text: Annotated[
            str, Field(description="The finished conversation, notes or document, as text.")
        ],
    ) -> CallToolResult:
        """Propose memories worth keeping from a finished conversation or document; stores nothing.

        Call at the end of a session (or on meeting notes, an ADR) when the user wants what was
        settled kept: it finds decisions, rules, preferences and facts by their wording ("we
        decided", "never", "always", "I prefer", ADR sections). Show the proposals to the user and
        record the accepted ones with remember or record_decision.
        """
        source = client_name(ctx)
        return _call(lambda: service.capture(text, source=source))

    @server.resource(
        "kenning://memories/{id}",
        name="memory",
        title="A kenning memory",
        description="One memory (decision, rule, preference, person, term, fact or note).",
        mime_type="text/markdown",
    )
    def memory_resource(id: str) -> str:
        try:
            return service.memory_markdown(id)
        except KenningError as exc:
            raise ResourceError(str(exc)) from None

    @server.resource(
        "kenning://rules",
        name="rules",
        title="Project rules",
        description="Every rule in force in this project, with its path scope.",
        mime_type="text/markdown",
    )
    def rules_resource() -> str:
        try:
            return service.rules_markdown()
        except KenningError as exc:
            raise ResourceError(str(exc)) from None

    @server.prompt(
        name="brief",
        title="Brief with kenning",
        description="Start a task with the project context kenning selects for it.",
    )
    def brief(
        request: Annotated[str, Field(description="The task, in your words.")],
        files: Annotated[str, Field(description="Comma-separated paths it is about.")] = "",
    ) -> list[UserMessage]:
        try:
            reply, _ = service.get_context(request, files or None)
        except KenningError as exc:
            raise ValueError(str(exc)) from None
        return [
            UserMessage(
                "Here is the project context kenning selected for this task. Follow the rules "
                "and decisions in it; if the task conflicts with one, say so before going on.\n\n"
                f"{reply.text}\n\nTask: {request}"
            )
        ]

    return server
