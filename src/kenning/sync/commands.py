"""CLI commands of the sync layer: sync, resolve, export, import, serve --team.

Thin click adapters: they parse, call `gitsync`, `resolve`, `archive` or `team`, and render.
`kenning.cli` loads this module lazily, and this module loads the heavy parts (psycopg, the MCP
SDK, uvicorn) only inside `serve`.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kenning.config import Project, load_settings, setting, user_home
from kenning.errors import ConfigError

if TYPE_CHECKING:
    from kenning.memory import MemoryStore

POLICIES = ("auto", "supersede", "mark")


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _policy(given: str | None, project: Project | None = None) -> Any:
    value = given or setting(load_settings(project), "sync.conflicts", "auto")
    if value not in POLICIES:
        raise ConfigError(f"sync.conflicts = {value!r}; use one of {', '.join(POLICIES)}")
    return value


def _store(ctx: click.Context) -> tuple[Project, MemoryStore]:
    from kenning.memory import MemoryStore

    project = Project.discover(ctx.obj["dir"] if ctx.obj else ".")
    return project, MemoryStore(project.memories_dir, project.personal_memories_dir)


@click.command()
@click.option(
    "--remote",
    metavar="URL",
    help="Git remote to sync with (remembered): a path, a bare repo, ssh or https.",
)
@click.option(
    "--conflicts",
    type=click.Choice(POLICIES),
    help="Same-field edits: auto (default), supersede or mark.",
)
@click.option("--no-push", is_flag=True, help="Commit and merge, but do not push.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def sync(remote: str | None, conflicts: str | None, no_push: bool, as_json: bool) -> None:
    """Sync your personal memories (preferences, people …) through a git remote you own.

    The personal store becomes a git repository on first use. Each sync commits local changes,
    merges the remote memory by memory (nothing is lost: clashing edits become a superseding
    pair or a marked conflict for `kenning resolve`), and pushes.

    Example: kenning sync --remote /media/usb/kenning-memories.git
    """
    from kenning.sync.gitsync import sync_personal

    settings = load_settings()
    remote = remote or setting(settings, "sync.remote")
    report = sync_personal(
        user_home() / "memories", remote, policy=_policy(conflicts), push=not no_push
    )
    if as_json:
        _echo_json(report.to_dict())
        return
    where = report.remote or "no remote"
    steps = [f"committed {report.committed} file(s)"]
    if report.resumed:
        steps.insert(0, "finished an interrupted sync")
    if report.fast_forward or report.merged:
        steps.append(f"received {report.received}, removed {report.removed}")
    if report.merged:
        steps.append("merged")
    if report.pushed:
        steps.append("pushed")
    click.echo(f"Synced {report.folder} with {where}: {', '.join(steps)}.")
    for kept, revision in report.pairs:
        click.echo(f"  {kept}: edited on both machines; the earlier edit is kept as {revision}")
    for primary, other in report.conflicts:
        click.echo(f"  conflict: {primary} and {other}; settle it with `kenning resolve {primary}`")
    for note in report.notes:
        click.echo(f"note: {note}", err=True)


@click.command()
@click.argument("memory_id", required=False)
@click.option(
    "--keep",
    type=click.Choice(["this", "other", "both"]),
    default="this",
    show_default=True,
    help="this: the version named by ID; other: the other one; both: keep two memories.",
)
@click.option("--list", "list_only", is_flag=True, help="List open conflicts.")
@click.pass_context
def resolve(ctx: click.Context, memory_id: str | None, keep: str, list_only: bool) -> None:
    """Settle a conflict that a sync or an import marked (no text is ever deleted).

    Example: kenning resolve on-call-rota-9f9f --keep other
    """
    from kenning.sync.resolve import open_conflicts, resolve_conflict

    _project, store = _store(ctx)
    if list_only or not memory_id:
        found = open_conflicts(store)
        if not found:
            click.echo("No open conflicts.")
        for memory, others in found:
            click.echo(f"{memory.id}: {memory.title}  (other version: {', '.join(others)})")
        return
    done = resolve_conflict(store, memory_id, keep)  # type: ignore[arg-type]
    if done.keep == "both":
        click.echo(f"Kept both: {done.memory.id} and {done.other.id}")
    else:
        click.echo(f"Kept {done.memory.id}; the other version is {done.other.id} (superseded)")


@click.command()
@click.argument("target", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--personal-only", is_flag=True, help="Only your personal memories.")
@click.option("--project-only", is_flag=True, help="Only this project's memories.")
@click.pass_context
def export(
    ctx: click.Context, target: Path | None, personal_only: bool, project_only: bool
) -> None:
    """Write every memory (project and personal) to one portable JSON-lines file.

    A name ending in .gz is compressed. Each record keeps the memory file verbatim, with its
    provenance (host, project identity, time).

    Example: kenning export memories.jsonl.gz
    """
    from kenning.sync.archive import export_archive
    from kenning.sync.identity import project_identity

    if personal_only and project_only:
        raise click.UsageError("choose at most one of --personal-only and --project-only")
    project, store = _store(ctx)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    target = target or Path(f"kenning-memories-{stamp}.jsonl")
    count = export_archive(
        store,
        target,
        project=project_identity(project.root).key,
        personal=not project_only,
        project_memories=not personal_only,
    )
    click.echo(f"Exported {count} memories to {target}")


@click.command(name="import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--conflicts",
    type=click.Choice(POLICIES),
    help="Same-field edits: auto (default), supersede or mark.",
)
@click.option("--personal-only", is_flag=True, help="Only the archive's personal memories.")
@click.option("--project-only", is_flag=True, help="Only the archive's project memories.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def import_(
    ctx: click.Context,
    source: Path,
    conflicts: str | None,
    personal_only: bool,
    project_only: bool,
    as_json: bool,
) -> None:
    """Merge an archive from `kenning export` into this project and your personal store.

    Idempotent: importing the same file twice changes nothing the second time.

    Example: kenning import memories.jsonl.gz
    """
    from kenning.sync.archive import import_archive

    project, store = _store(ctx)
    report = import_archive(
        source,
        store,
        policy=_policy(conflicts, project),
        personal=not project_only,
        project_memories=not personal_only,
    )
    if as_json:
        _echo_json(report.to_dict())
        return
    origin = report.header.get("host", "?")
    click.echo(f"Imported {source} (exported on {origin}): {report.summary()}")
    for kept, revision in report.pairs:
        click.echo(f"  {kept}: differed; the older version is kept as {revision}")
    for primary, other in report.conflicts:
        click.echo(f"  conflict: {primary} and {other}; settle it with `kenning resolve {primary}`")
    for problem in report.invalid:
        click.echo(f"warning: skipped {problem}", err=True)


@click.command()
@click.option("--team", is_flag=True, help="Serve the shared team store (PostgreSQL).")
@click.option("--db", "db_url", metavar="URL", help="postgresql://… (default: $KENNING_TEAM_DB).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, help="Port (0: any free port).")
@click.option("--no-vectors", is_flag=True, help="Full-text search only, even with pgvector.")
@click.option("--issue-token", metavar="USER", help="Print a new token for USER and exit.")
@click.option(
    "--project", metavar="REMOTE", help="With --issue-token: limit the token to this project."
)
@click.option("--revoke-token", metavar="TOKEN", help="Revoke a token and exit.")
def serve(
    team: bool,
    db_url: str | None,
    host: str,
    port: int,
    no_vectors: bool,
    issue_token: str | None,
    project: str | None,
    revoke_token: str | None,
) -> None:
    """Run the team server: shared memories over MCP HTTP, one bearer token per user.

    Code stays on each machine; the server holds memories only. Clients send their token and
    the project (header Kenning-Project: the git remote URL).

    Example: kenning serve --team --db postgresql://kenning@localhost/kenning --issue-token ana
    """
    if not team:
        raise click.UsageError(
            "kenning serve runs the team server: add --team (the local MCP server is `kenning mcp`)"
        )
    db_url = db_url or os.environ.get("KENNING_TEAM_DB")
    if not db_url:
        raise click.UsageError("pass --db postgresql://… or set KENNING_TEAM_DB")
    from kenning.sync.pgstore import TeamDatabase
    from kenning.sync.team import project_key

    db = TeamDatabase(db_url, vectors=False if no_vectors else None)
    try:
        if issue_token:
            token = db.issue_token(issue_token, project_key(project))
            scope = f" for project {project_key(project)}" if project else " for any project"
            click.echo(f"Token for {issue_token}{scope} (shown once):\n{token}")
            return
        if revoke_token:
            click.echo("Revoked." if db.revoke_token(revoke_token) else "No such live token.")
            return
        import uvicorn

        from kenning.sync.team import build_team_app

        app = build_team_app(db, host=host)
        for note in db.notes:
            click.echo(f"note: {note}", err=True)
        search = "pgvector + full text" if db.vector_dim else "full text"
        click.echo(
            f"kenning team server on http://{host}:{port}/mcp ({search}); Ctrl-C stops it", err=True
        )
        uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="on")
    finally:
        db.close()
