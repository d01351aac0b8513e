"""`kenning review`, `kenning history` and `kenning capture`: thin click commands over hygiene.

Loaded lazily by `kenning.cli` (see `LAZY_COMMANDS`). The logic lives in `review.py`,
`validity.py`, `audit.py` and `capture.py`; these functions parse, call and render.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # `kenning --help` loads this module: nothing heavy at import time
    from kenning.hygiene.review import ReviewItem


def _workspace(ctx: click.Context) -> Any:
    from kenning.workspace import Workspace

    return Workspace.open(ctx.obj["dir"] if ctx.obj else ".")


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


# ---- review ----------------------------------------------------------------------------------

_CHOICES = {
    "stale": {
        "k": "keep",
        "u": "update",
        "s": "supersede",
        "r": "retire",
        "n": "next",
        "q": "quit",
    },
    "conflict": {
        "k": "keep both",
        "s": "newer supersedes older",
        "r": "retire the older",
        "n": "next",
        "q": "quit",
    },
    "duplicate": {
        "m": "merge into the older",
        "k": "keep both",
        "r": "retire the newer",
        "n": "next",
        "q": "quit",
    },
}


def _show_item(n: int, total: int, item: ReviewItem) -> None:
    from kenning.hygiene.review import describe

    click.echo(f"\n[{n}/{total}] {item.kind}: {item.memory.title}")
    click.echo(f"  {describe(item.memory)}")
    for reason in item.reasons:
        click.echo(f"  - {reason}")
    if item.other is not None:
        click.echo(f"  other: {item.other.title}")
        click.echo(f"  {describe(item.other)}")
    if item.memory.body:
        click.echo("  " + item.memory.body.strip().replace("\n", "\n  ")[:600])


def _answer(ws: Any, item: ReviewItem, choice: str) -> str:
    from kenning.hygiene import review

    memory = item.memory
    if item.kind == "stale":
        if choice == "k":
            review.keep(ws, item)
            return f"kept {memory.id}; anchors follow the code now"
        if choice == "u":
            current = f"{memory.title}\n{memory.body}".strip()
            text = click.prompt("  new text", default=current, show_default=False)
            review.update(ws, memory.id, text)
            return f"updated {memory.id}"
        if choice == "s":
            text = click.prompt("  text of the memory that replaces it")
            new = review.supersede(ws, memory.id, text)
            return f"{new.id} supersedes {memory.id}"
        review.retire(ws, memory.id)
        return f"retired {memory.id}"
    assert item.other is not None
    if choice == "k":
        review.keep(ws, item)
        return "kept both; this pair will not be asked about again"
    if item.kind == "conflict":
        if choice == "s":
            ws.update(item.other.id, supersedes=memory.id)
            ws.update(memory.id, status="superseded")
            return f"{item.other.id} supersedes {memory.id}"
        review.retire(ws, memory.id)
        return f"retired {memory.id}"
    if choice == "m":
        review.merge_pair(ws, item)
        return f"merged {item.other.id} into {memory.id} (and retired it)"
    review.retire(ws, item.other.id)
    return f"retired {item.other.id}"


@click.command()
@click.option(
    "--only",
    type=click.Choice(["stale", "conflict", "duplicate"]),
    multiple=True,
    help="Review only these kinds of items (default: all three).",
)
@click.option("--list", "list_only", is_flag=True, help="List the items; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the items as JSON; change nothing.")
@click.pass_context
def review(ctx: click.Context, only: tuple[str, ...], list_only: bool, as_json: bool) -> None:
    """Walk through stale, conflicting and duplicate memories: keep, update, supersede, retire.

    Stale: the code a memory is anchored to was deleted, renamed, moved or rewritten. Keeping one
    points its anchors at the code as it is now. Answers are read from the terminal (or stdin).

    Example: kenning review --only stale
    """
    from kenning.hygiene.review import review_items

    ws = _workspace(ctx)
    items = review_items(ws, only or ("stale", "conflict", "duplicate"))
    if as_json:
        _echo_json([item.to_dict() for item in items])
        return
    if not items:
        click.echo("Nothing to review: no stale, conflicting or duplicate memories.")
        return
    if list_only:
        for n, item in enumerate(items, 1):
            click.echo(f"{n:>3}. {item.kind:<9} {item.memory.id}  {'; '.join(item.reasons)}")
        return
    done = 0
    for n, item in enumerate(items, 1):
        _show_item(n, len(items), item)
        choices = _CHOICES[item.kind]
        menu = ", ".join(f"[{k}] {v}" for k, v in choices.items())
        choice = click.prompt(
            f"  {menu}", type=click.Choice(list(choices)), show_choices=False, default="n"
        )
        if choice == "q":
            break
        if choice == "n":
            continue
        click.echo("  " + _answer(ws, item, choice))
        done += 1
    click.echo(f"\nReviewed {done} of {len(items)}.")


# ---- history ---------------------------------------------------------------------------------


@click.command()
@click.argument("memory_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def history(ctx: click.Context, memory_id: str, as_json: bool) -> None:
    """The versions of a memory (its supersedes chain), with who changed what and when.

    Example: kenning history keep-ledger-in-postgres-3fa1
    """
    from kenning.hygiene import audit
    from kenning.hygiene.staleness import stale_findings
    from kenning.hygiene.validity import Window, chain

    ws = _workspace(ctx)
    start = ws.get(memory_id)
    versions = chain(ws.memories(include_inactive=True), start.id) or [start]
    ids = {m.id for m in versions}
    events: list[dict[str, Any]] = []
    for store_dir in {ws.store.project_dir, ws.store.personal_dir} - {None}:
        events += audit.read(audit.log_path(store_dir), ids)
    events.sort(key=lambda e: str(e.get("at")))
    flags = stale_findings(ws.db, sorted(ids)) if ws.has_index() else {}
    if as_json:
        _echo_json(
            {
                "versions": [
                    {**m.to_dict(), "stale": [f.to_dict() for f in flags.get(m.id, [])]}
                    for m in versions
                ],
                "events": events,
            }
        )
        return
    now = time.time()
    for m in versions:
        marker = "→" if m.id == start.id else " "
        state = m.status if m.status != "active" else Window.of(m.extra).state(now)
        state = "active" if state == "live" else state
        valid = ""
        if m.extra.get("valid_from") or m.extra.get("valid_until"):
            since, until = m.extra.get("valid_from") or "…", m.extra.get("valid_until") or "…"
            valid = f" · valid {since} to {until}"
        click.echo(f"{marker} {m.created.date().isoformat()}  {m.id}  [{state}]{valid}")
        click.echo(f"    {m.title}")
        provenance = m.extra.get("provenance")
        if isinstance(provenance, dict):
            bits = [f"{k} {str(v)[:12]}" for k, v in provenance.items()]
            click.echo(f"    recorded by {', '.join(bits)}")
        for finding in flags.get(m.id, []):
            click.echo(f"    stale: {finding.reason}")
    if events:
        click.echo("\nChanges:")
        for e in events:
            who = " ".join(str(e[k]) for k in ("user", "tool") if e.get(k))
            changed = ", ".join(sorted(e.get("changed", {}))) if e.get("changed") else ""
            extra = f" ({changed})" if changed else ""
            click.echo(f"  {e.get('at')}  {e.get('action'):<9} {e.get('id')}{extra}  by {who}")


# ---- capture ---------------------------------------------------------------------------------


@click.command()
@click.argument("source", required=False, type=click.Path(allow_dash=True))
@click.option("--commits", metavar="RANGE", help="Read commit messages instead (e.g. main~20..).")
@click.option("--accept", is_flag=True, help="Record the proposals (all, or those --pick names).")
@click.option("--pick", type=int, multiple=True, metavar="N", help="Accept only proposal N.")
@click.option("--json", "as_json", is_flag=True, help="Print the proposals as JSON.")
@click.pass_context
def capture(
    ctx: click.Context,
    source: str | None,
    commits: str | None,
    accept: bool,
    pick: tuple[int, ...],
    as_json: bool,
) -> None:
    """Propose decisions, rules and preferences from a conversation or commits; --accept records.

    SOURCE is a text or Markdown file ("-" reads stdin): a finished chat with a coding assistant,
    meeting notes, an ADR. Proposals come from explicit cues ("we decided", "from now on",
    "never …", "I prefer", `Decision:` lines, an ADR's Decision section), nothing else.

    Example: kenning capture session.md --accept --pick 1 --pick 3
    """
    from kenning.hygiene.capture import propose_from_commits, propose_memories
    from kenning.hygiene.dedupe import NearDuplicate

    ws = _workspace(ctx)
    if commits:
        proposals = propose_from_commits(ws.root, commits)
        label = f"commits {commits}"
    else:
        if source is None:
            raise click.UsageError("give a file to read (or - for stdin), or --commits RANGE")
        if source == "-":
            text, label = sys.stdin.read(), "stdin"
        else:
            path = Path(source)
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                raise click.ClickException(f"cannot read {source}: {exc.strerror}") from None
            label = path.name
        proposals = propose_memories(text, label)
    chosen = [p for n, p in enumerate(proposals, 1) if not pick or n in pick]
    if as_json and not accept:
        _echo_json([p.to_dict() for p in proposals])
        return
    if not proposals:
        click.echo(f"No proposals in {label}: no decision, rule or preference cues found.")
        return
    if not accept:
        for n, p in enumerate(proposals, 1):
            click.echo(f"{n:>3}. [{p.kind}] {p.title}")
            click.echo(f"     “{p.text[:160]}” ({p.source}:{p.line or '-'}, {p.cue})")
        click.echo("\nRecord them with --accept (or --accept --pick N for some).")
        return
    results: list[dict[str, Any]] = []
    known = {m.id for m in ws.memories(include_inactive=True)}
    for p in chosen:
        try:
            memory = ws.remember(
                p.text,
                p.kind,
                title=p.title,
                source="capture",
                extra={"captured_from": f"{p.source}:{p.line}" if p.line else p.source},
            )
        except NearDuplicate as exc:
            results.append({"status": "duplicate", "id": exc.existing.id, "title": p.title})
            continue
        status = "duplicate" if memory.id in known else "created"
        known.add(memory.id)
        results.append({"status": status, "id": memory.id, "title": memory.title})
    if as_json:
        _echo_json(results)
        return
    for r in results:
        verb = "recorded" if r["status"] == "created" else "already known as"
        click.echo(f"{verb} {r['id']}: {r['title']}")
