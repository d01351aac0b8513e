"""The `kenning` command: a thin click layer over `Workspace`; it parses, calls, renders.

Commands of the other layers (the MCP server, the local model, benchmarks, the web UI, sync) are
loaded lazily from their own modules, so `kenning --help` imports none of them.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from typing import Any

import click

from kenning import __version__
from kenning.errors import KenningError

# name -> "module:attribute" of a click command that lives with its layer.
LAZY_COMMANDS: dict[str, str] = {
    "mcp": "kenning.mcp.commands:mcp",
    "connect": "kenning.mcp.commands:connect",
    "hook": "kenning.mcp.commands:hook",
    "ask": "kenning.llm.commands:ask",
    "chat": "kenning.llm.commands:chat",
    "models": "kenning.llm.commands:models",
    "config": "kenning.llm.commands:config",
    "route": "kenning.engine.commands:route",
    "bench": "kenning.bench.commands:bench",
    "ui": "kenning.web.commands:ui",
    "sync": "kenning.sync.commands:sync",
    "export": "kenning.sync.commands:export",
    "import": "kenning.sync.commands:import_",
    "serve": "kenning.sync.commands:serve",
    "resolve": "kenning.sync.commands:resolve",
    "review": "kenning.hygiene.commands:review",
    "history": "kenning.hygiene.commands:history",
    "capture": "kenning.hygiene.commands:capture",
}


def _lazy_available(name: str) -> bool:
    module = LAZY_COMMANDS[name].split(":")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class KenningGroup(click.Group):
    """Adds lazily loaded commands and turns KenningError into a clean message."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        lazy = [n for n in LAZY_COMMANDS if _lazy_available(n)]
        return sorted({*super().list_commands(ctx), *lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None or name not in LAZY_COMMANDS or not _lazy_available(name):
            return command
        module, attr = LAZY_COMMANDS[name].split(":")
        loaded = getattr(importlib.import_module(module), attr)
        assert isinstance(loaded, click.Command)
        return loaded

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KenningError as exc:
            raise click.ClickException(str(exc)) from None


def workspace(ctx: click.Context) -> Any:
    """The Workspace for `-C DIR` (imported here so `--help` stays light)."""
    from kenning.workspace import Workspace

    return Workspace.open(ctx.obj["dir"])


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@click.group(cls=KenningGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "directory",
    default=".",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Run as if started in DIR (the project is found from there).",
)
@click.version_option(__version__, prog_name="kenning")
@click.pass_context
def cli(ctx: click.Context, directory: str) -> None:
    """kenning: the few pieces of your project that matter for each request, offline.

    Example: kenning brief "add retries to the webhook sender"
    """
    ctx.ensure_object(dict)
    ctx.obj["dir"] = directory


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create .kenning/ (memories, settings) in the project; the index stays git-ignored.

    Example: kenning init
    """
    from kenning.config import Project

    project = Project.discover(ctx.obj["dir"])
    created = project.init()
    verb = "Initialised" if created else "Already initialised:"
    click.echo(f"{verb} {project.kenning_dir}")


@cli.command()
@click.option("--rebuild", is_flag=True, help="Delete the index and build it again from the files.")
@click.option("--no-vectors", is_flag=True, help="Lexical and graph index only; embed later.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's figures as JSON.")
@click.pass_context
def index(ctx: click.Context, rebuild: bool, no_vectors: bool, as_json: bool) -> None:
    """Index the project and its memories (incremental: only what changed is read).

    Example: kenning index --rebuild
    """
    ws = workspace(ctx)
    if as_json or not sys.stderr.isatty():
        stats = ws.index(rebuild=rebuild, embed=not no_vectors)
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=_console(stderr=True),
            transient=True,
        ) as bar:
            tasks: dict[str, Any] = {}

            def report(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(f"indexing {stage}", total=total)
                bar.update(tasks[stage], completed=done, total=total)

            stats = ws.index(rebuild=rebuild, embed=not no_vectors, progress=report)
    if as_json:
        _echo_json(stats.to_dict())
        return
    skipped = ", ".join(f"{n} {why}" for why, n in stats.skipped.most_common()) or "none"
    click.echo(
        f"Indexed {ws.root}: {stats.files_indexed} files read, {stats.files_unchanged} unchanged, "
        f"{stats.files_deleted} removed; {stats.memories_indexed} memories; "
        f"{stats.vectors_written} vectors ({stats.vectors_pending} pending) in {stats.seconds:.2f}s"
    )
    click.echo(f"Skipped: {skipped}")
    if stats.secrets_redacted:
        click.echo(f"Redacted {stats.secrets_redacted} secret-looking spans (never indexed).")
    for problem in stats.problems:
        click.echo(f"warning: {problem}", err=True)


@cli.command()
@click.argument("text")
@click.option(
    "--kind", required=True, help="decision, rule, preference, person, term, fact or note."
)
@click.option("--title", "-t", help="A short title (default: the first line of TEXT).")
@click.option(
    "--scope", multiple=True, metavar="GLOB", help="Path glob the memory applies to (rules)."
)
@click.option("--alias", multiple=True, help="Another name (people and terms).")
@click.option("--tag", multiple=True, help="A tag.")
@click.option("--supersedes", metavar="ID", help="The id of the memory this one replaces.")
@click.option(
    "--personal", is_flag=True, help="Store in your personal store (follows you across projects)."
)
@click.option(
    "--file",
    "files",
    multiple=True,
    metavar="PATH[::SYMBOL]",
    help="Code the memory is about: anchors it, so kenning notices when that code changes.",
)
@click.option(
    "--on-duplicate",
    type=click.Choice(["refuse", "merge", "keep"]),
    default="refuse",
    show_default=True,
    help="When an active memory already says this: refuse, merge into it, or keep both.",
)
@click.pass_context
def remember(
    ctx: click.Context,
    text: str,
    kind: str,
    title: str | None,
    scope: tuple[str, ...],
    alias: tuple[str, ...],
    tag: tuple[str, ...],
    supersedes: str | None,
    personal: bool,
    files: tuple[str, ...],
    on_duplicate: str,
) -> None:
    """Record a memory; prints its id (a near-duplicate is refused with the existing id).

    Example: kenning remember "Money is integer cents, never float" --kind rule --scope "src/billing/**"
    """
    from kenning.memory import environ_source

    ws = workspace(ctx)
    if text == "-":
        text = sys.stdin.read()
    memory = ws.remember(
        text,
        kind,
        title=title,
        scope=scope,
        aliases=alias,
        tags=tag,
        supersedes=supersedes,
        source=environ_source("cli"),
        personal=personal,
        files=files,
        on_duplicate=on_duplicate,
    )
    click.echo(memory.id)


@cli.command()
@click.option("--kind", help="Only this kind.")
@click.option("--all", "include_all", is_flag=True, help="Include superseded and retired memories.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def memories(ctx: click.Context, kind: str | None, include_all: bool, as_json: bool) -> None:
    """List memories (active ones unless --all).

    Example: kenning memories --kind decision
    """
    ws = workspace(ctx)
    found = ws.memories(kind, include_inactive=include_all)
    if as_json:
        _echo_json([m.to_dict() for m in found])
    else:
        from rich.table import Table

        table = Table("id", "kind", "title", "status", "updated", box=None, pad_edge=False)
        for m in found:
            table.add_row(
                m.id,
                m.kind + (" (personal)" if m.personal else ""),
                m.title,
                m.status,
                m.updated.date().isoformat(),
            )
        _console().print(table)
        if not found:
            click.echo('No memories yet. Add one: kenning remember "..." --kind decision')
    for problem in ws.store.problems:
        click.echo(f"warning: {problem}", err=True)


@cli.command()
@click.argument("memory_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def show(ctx: click.Context, memory_id: str, as_json: bool) -> None:
    """Show one memory.

    Example: kenning show keep-ledger-in-postgres-3fa1
    """
    memory = workspace(ctx).get(memory_id)
    if as_json:
        _echo_json(memory.to_dict())
        return
    click.echo(
        f"{memory.title}\n{memory.kind} · {memory.status} · {memory.id} · "
        f"updated {memory.updated.date().isoformat()} · source {memory.source}"
    )
    for label, values in (
        ("scope", memory.scope),
        ("aliases", memory.aliases),
        ("tags", memory.tags),
    ):
        if values:
            click.echo(f"{label}: {', '.join(values)}")
    if memory.supersedes:
        click.echo(f"supersedes: {memory.supersedes}")
    if memory.body:
        click.echo(f"\n{memory.body}")
    click.echo(f"\n{memory.path}")


@cli.command()
@click.argument("memory_id")
@click.pass_context
def forget(ctx: click.Context, memory_id: str) -> None:
    """Retire a memory: it leaves every packet, its file stays (status: retired).

    Example: kenning forget keep-ledger-in-postgres-3fa1
    """
    memory = workspace(ctx).forget(memory_id)
    click.echo(f"Retired {memory.id}")


@cli.command()
@click.argument("query")
@click.option("--kind", help="code, memory, file, symbol, doc or a memory kind.")
@click.option("-k", "-n", "limit", default=10, show_default=True, help="How many results.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def search(ctx: click.Context, query: str, kind: str | None, limit: int, as_json: bool) -> None:
    """Search code and memories (hybrid: BM25 + vectors + graph).

    Example: kenning search "webhook retry backoff" --kind code
    """
    hits = workspace(ctx).search(query, kind, limit)
    if as_json:
        _echo_json([h.to_dict() for h in hits])
        return
    for n, hit in enumerate(hits, 1):
        first = hit.text.strip().splitlines()[0][:100] if hit.text.strip() else ""
        click.echo(f"{n:>2}. [{hit.kind}] {hit.ref}  {hit.title if hit.is_memory else ''}")
        if first:
            click.echo(f"    {first}")
    if not hits:
        click.echo("No matches.")


@cli.command()
@click.argument("request")
@click.option("--budget", "-b", type=int, help="Token budget (default 2000, or brief.budget).")
@click.option("--file", "files", multiple=True, metavar="PATH", help="A file the request is about.")
@click.option(
    "--diff",
    "diff_file",
    type=click.File("r", errors="replace"),
    help="A unified diff (or - for stdin) checked against decisions and rules too.",
)
@click.option("--history", is_flag=True, help="Include superseded and expired memories, labelled.")
@click.option("--json", "as_json", is_flag=True, help="Print the packet as JSON.")
@click.pass_context
def brief(
    ctx: click.Context,
    request: str,
    budget: int | None,
    files: tuple[str, ...],
    diff_file: Any,
    history: bool,
    as_json: bool,
) -> None:
    """The context packet for a request: files, rules, decisions, preferences, conflicts.

    Example: git diff | kenning brief "switch the queue to Celery" --diff -
    """
    from kenning.engine.classify import looks_binary
    from kenning.engine.commands import read_stdin, scrub

    request = read_stdin() if request == "-" else scrub(request)
    if looks_binary(request):
        raise click.ClickException(
            'the request looks like binary data, not text. Example: kenning brief "add retries"'
        )
    diff = diff_file.read(2_000_000) if diff_file is not None else None
    packet = workspace(ctx).brief(request, budget, files, diff=diff, history=history)
    if as_json:
        _echo_json(packet.to_dict())
    else:
        click.echo(packet.to_markdown())


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--fix", is_flag=True, help="Repair what can be repaired (never edits a memory).")
@click.option("--rebuild", is_flag=True, help="With --fix: rebuild the index from scratch.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool, fix: bool, rebuild: bool) -> None:
    """Check the store and the index: unreadable memories, stale index, what would be rebuilt.

    Example: kenning doctor --fix
    """
    from kenning.doctor import diagnose, repair

    ws = workspace(ctx)
    if fix:
        for line in repair(ws, rebuild=rebuild):
            click.echo(f"fixed: {line}" if line != "nothing to repair" else line)
    report = diagnose(ws)
    from kenning.config import setting, user_home
    from kenning.mcp.security import TOKEN_FILE, http_health

    http_ok, http_lines = http_health(
        user_home() / TOKEN_FILE, setting(ws.settings, "mcp.http", {}), fix=fix
    )
    report["ok"] = report["ok"] and http_ok
    report["lines"] += http_lines
    if as_json:
        _echo_json(report)
        return
    for line in report["lines"]:
        click.echo(line)
    if not report["ok"]:
        ctx.exit(1)


def main() -> None:  # pragma: no cover - console script shim
    cli(prog_name="kenning")


if __name__ == "__main__":  # pragma: no cover
    main()
