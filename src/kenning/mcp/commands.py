"""`kenning mcp` (serve a project over MCP) and `kenning connect` (register it with a client).

Both are thin: they parse options and call `handshake`/`transports` or `connect`. Nothing heavy
is imported at module level, so `kenning --help` stays fast.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from kenning.errors import KenningError

if TYPE_CHECKING:
    from kenning.mcp.security import HttpLimits
    from kenning.mcp.service import KenningService


def _project_dir(ctx: click.Context) -> str:
    obj = ctx.find_root().obj or {}
    return str(obj.get("dir", "."))


@click.command()
@click.option("--http", "use_http", is_flag=True, help="Serve streamable HTTP instead of stdio.")
@click.option(
    "--host",
    default=None,
    metavar="ADDR",
    help="Address to listen on with --http (default 127.0.0.1; non-loopback only when given).",
)
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port with --http (0 picks a free one).",
)
@click.option(
    "--allow-origin",
    multiple=True,
    metavar="ORIGIN",
    help="An extra browser Origin allowed with --http, e.g. http://127.0.0.1:6274.",
)
@click.option(
    "--max-in-flight",
    type=click.IntRange(1),
    default=None,
    metavar="N",
    help="With --http: requests served at once; more get 503 (default 16, or mcp.http.*).",
)
@click.option(
    "--max-connections",
    type=click.IntRange(1),
    default=None,
    metavar="N",
    help="With --http: open connections; requests on more get 503 (default 64).",
)
@click.option(
    "--client-timeout",
    type=click.FloatRange(0.1),
    default=None,
    metavar="SECONDS",
    help="With --http: seconds a request's headers, and then its body, may take to arrive "
    "(default 10 and 30).",
)
@click.option(
    "--no-vectors",
    is_flag=True,
    help="Compute no vectors and rank with BM25 + graph only (the duplicate check of "
    "remember may still load the embedding model).",
)
@click.option(
    "--fresh-after",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0.0),
    metavar="SECONDS",
    help="Re-check the repo for changes before a request when the last check is older.",
)
@click.pass_context
def mcp(
    ctx: click.Context,
    use_http: bool,
    host: str | None,
    port: int,
    allow_origin: tuple[str, ...],
    max_in_flight: int | None,
    max_connections: int | None,
    client_timeout: float | None,
    no_vectors: bool,
    fresh_after: float,
) -> None:
    """Serve this project to MCP clients: stdio by default, streamable HTTP with --http.

    Over HTTP a bearer token is required: it is created on first use in kenning's user dir
    (file mcp-token, mode 0600) and printed once. The HTTP limits (body size, time for slow
    clients, requests at once) can also be set under [mcp.http] in config.toml.

    Example: kenning -C ~/src/tidewater mcp --http --port 8765
    """
    project = _project_dir(ctx)
    if use_http:
        from kenning.config import Project, load_settings, setting
        from kenning.mcp.security import HttpLimits
        from kenning.mcp.service import KenningService

        table = setting(load_settings(Project.discover(project)), "mcp.http", {})
        if not isinstance(table, dict):
            raise click.UsageError("mcp.http in config.toml must be a table ([mcp.http])")
        try:
            limits = HttpLimits.from_settings(
                table,
                max_in_flight=max_in_flight,
                max_connections=max_connections,
                header_timeout=client_timeout,
                body_timeout=client_timeout,
            )
        except KenningError as exc:
            raise click.ClickException(str(exc)) from None
        service = KenningService(project, vectors=not no_vectors, fresh_after=fresh_after)
        _serve_http(service, host, port, allow_origin, limits)
        return
    if (
        host is not None
        or allow_origin
        or (max_in_flight, max_connections, client_timeout)
        != (
            None,
            None,
            None,
        )
    ):
        raise click.UsageError("--host, --allow-origin and the HTTP limits only apply with --http")
    import os

    from kenning.mcp.handshake import StdioWire, serve_stdio

    # Take the wire and start answering `initialize` before anything else is imported.
    wire = StdioWire()
    if os.environ.get("KENNING_MCP_FAST_HANDSHAKE", "1") != "0":
        wire.answer_initialize_early()
    from kenning.mcp.service import KenningService

    serve_stdio(KenningService(project, vectors=not no_vectors, fresh_after=fresh_after), wire)


def _serve_http(
    service: KenningService,
    host: str | None,
    port: int,
    allow_origin: tuple[str, ...],
    limits: HttpLimits,
) -> None:
    from kenning.config import user_home
    from kenning.mcp.security import TOKEN_FILE, check_bind, is_loopback, load_or_create_token
    from kenning.mcp.transports import bind, http_app, serve_http

    address = host or "127.0.0.1"
    check_bind(address, host_given=host is not None)
    token_path = user_home() / TOKEN_FILE
    token, created = load_or_create_token(token_path)
    sock = bind(address, port)
    root = service.root
    app = http_app(service, token=token, host=address, allowed_origins=allow_origin, limits=limits)

    def ready(url: str) -> None:
        err = sys.stderr
        err.write(f"kenning: serving {root} over MCP at {url}\n")
        if created:
            err.write(
                "kenning: created the bearer token for HTTP clients (shown once; kept in "
                f"{token_path}, readable only by you):\n  {token}\n"
            )
        else:
            err.write(f"kenning: clients send 'Authorization: Bearer <token in {token_path}>'\n")
        if not is_loopback(address):
            err.write(
                f"kenning: listening on {address}, beyond this machine; traffic is not encrypted\n"
            )
        err.flush()

    serve_http(app, sock, limits=limits, on_ready=ready)


@click.command()
@click.argument("client", required=False)
@click.option(
    "--scope",
    type=click.Choice(["project", "user", "local"]),
    default=None,
    help="Where the entry goes: the project's file, or your user config (local: Claude Code's "
    "per-project entry in ~/.claude.json). Default: project, user for codex.",
)
@click.option("--print", "print_only", is_flag=True, help="Print the entry; write nothing.")
@click.option(
    "--list", "list_all", is_flag=True, help="Show which clients have kenning configured."
)
@click.option(
    "--name", default="kenning", show_default=True, help="The server's name in the config."
)
@click.option(
    "--hook",
    is_flag=True,
    help="claude-code only: also add a prompt hook that puts kenning's packet into the "
    "conversation on every prompt, whether or not the model calls a tool.",
)
@click.option(
    "--url",
    metavar="URL",
    help="Point at a running `kenning mcp --http` (e.g. http://127.0.0.1:8765/mcp) with the "
    "bearer token, instead of launching kenning over stdio.",
)
@click.pass_context
def connect(
    ctx: click.Context,
    client: str | None,
    scope: str | None,
    print_only: bool,
    list_all: bool,
    name: str,
    hook: bool,
    url: str | None,
) -> None:
    """Register this project's kenning MCP server with a coding client.

    CLIENT is claude-code, codex, gemini, cursor or vscode. The entry launches this kenning with
    -C <project> over stdio (or, with --url, reaches a running HTTP server with the token); other
    servers in the file are kept, and the old file is backed up in kenning's user dir.

    Example: kenning connect claude-code --scope project
    """
    from kenning.config import Project
    from kenning.mcp import connect as clients

    project = Project.discover(_project_dir(ctx)).root
    if list_all:
        rows = clients.status(project, name=name)
        for row in rows:
            click.echo(row)
        return
    if client is None:
        raise click.UsageError(f"name a client ({', '.join(clients.CLIENTS)}) or pass --list")
    http: tuple[str, str] | None = None
    if url is not None:
        from kenning.config import user_home
        from kenning.mcp.security import TOKEN_FILE, load_or_create_token

        http = (url, load_or_create_token(user_home() / TOKEN_FILE)[0])
    try:
        plan = clients.plan(client, project, scope=scope, name=name, http=http)
    except KenningError as exc:
        raise click.ClickException(str(exc)) from None
    if hook and plan.client != "claude-code":
        raise click.UsageError("--hook is for claude-code (its UserPromptSubmit hook)")
    if print_only:
        click.echo(f"# {plan.path}")
        click.echo(plan.snippet)
        if hook:
            command = clients.hook_command(project)
            click.echo(f"# {clients.claude_settings_path(plan.scope, project)}")
            click.echo(clients.merge_claude_hook(None, plan.path, command).rstrip())
        return
    result = clients.apply(plan)
    click.echo(result)
    if hook:
        click.echo(clients.apply_claude_hook(project, plan.scope))
    for note in plan.notes:
        click.echo(f"note: {note}")


@click.command()
@click.argument("event", type=click.Choice(["prompt"]))
@click.option(
    "--budget",
    default=1200,
    show_default=True,
    type=click.IntRange(100, 8000),
    help="Token budget of the packet.",
)
@click.pass_context
def hook(ctx: click.Context, event: str, budget: int) -> None:
    """Print the packet for a prompt, for a client's prompt-submit hook (reads stdin).

    Reads Claude Code's UserPromptSubmit event (JSON with "prompt") or plain text. Prints nothing
    for slash commands and short replies, or when the project has no index; never fails the
    prompt (errors go to stderr, the exit code stays 0). `kenning connect claude-code --hook`
    sets it up.

    Example: echo '{"prompt": "add retries to the webhook sender"}' | kenning hook prompt
    """
    from kenning.mcp.hook import hook_context, prompt_of

    try:
        text = hook_context(_project_dir(ctx), prompt_of(sys.stdin.read()), budget)
    except Exception as exc:  # noqa: BLE001 - a hook must never block the user's prompt
        sys.stderr.write(f"kenning hook: {exc}\n")
        return
    if text:
        click.echo(text, nl=False)
