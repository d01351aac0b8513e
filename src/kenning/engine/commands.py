"""`kenning route`: how kenning reads a request, before (and, with --explain, after) retrieval.

Loaded lazily by `kenning.cli` (the `route` entry of `LAZY_COMMANDS`); it parses, calls the
engine through `Workspace`, and renders. The same packet path as `kenning brief` is used, so what
`route --explain` shows is what `brief` would hand a model.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

MAX_REQUEST_CHARS = 20_000


def read_stdin(limit: int = 2_000_000) -> str:
    """Standard input as text, at most `limit` bytes: bytes that are not UTF-8 become U+FFFD.

    A binary file piped in gives a request or diff of replacement characters, never a
    UnicodeDecodeError.
    """
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:
        return scrub(sys.stdin.read(limit))
    data: bytes = buffer.read(limit)
    return data.decode("utf-8", errors="replace")


def scrub(text: str) -> str:
    """`text` without lone surrogates (what undecodable bytes in argv turn into)."""
    return text.encode("utf-8", errors="replace").decode("utf-8")


def _read_diff(path: str | None) -> str | None:
    if path is None:
        return None
    if path == "-":
        return read_stdin()
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(2_000_000)
    except OSError as exc:
        raise click.ClickException(f"cannot read the diff {path!r}: {exc.strerror}") from None


def _readable(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


@click.command()
@click.argument("request")
@click.option("--file", "files", multiple=True, metavar="PATH", help="A file the request is about.")
@click.option(
    "--diff",
    "diff_path",
    metavar="FILE",
    help="A unified diff or plan to check for conflicts too ('-' reads stdin).",
)
@click.option("--budget", "-b", type=int, help="Token budget for the packet --explain shows.")
@click.option("--explain", is_flag=True, help="Also show the packet and why each item is in it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def route(
    ctx: click.Context,
    request: str,
    files: tuple[str, ...],
    diff_path: str | None,
    budget: int | None,
    explain: bool,
    as_json: bool,
) -> None:
    """How kenning reads REQUEST: intent (+ confidence), linked entities, the plan, conflicts.

    Example: kenning route "fix the retry delay in WebhookSender.send" --explain
    """
    from kenning.engine.classify import classify, looks_binary
    from kenning.engine.route import plan_for
    from kenning.workspace import Workspace

    diff = _read_diff(diff_path)
    if request == "-":
        request = read_stdin() if diff_path != "-" else ""
    request = scrub(request)
    notes: list[str] = []
    if len(request) > MAX_REQUEST_CHARS:
        notes.append(
            f"The request is {len(request):,} characters; only the first "
            f"{MAX_REQUEST_CHARS:,} are read."
        )
        request = request[:MAX_REQUEST_CHARS]
    if looks_binary(request):
        raise click.ClickException(
            "the request looks like binary data, not text. "
            'Example: kenning route "add retries to the webhook sender"'
        )
    if not _readable(request):
        raise click.ClickException(
            "the request has no words to read (empty or binary). "
            'Example: kenning route "add retries to the webhook sender"'
        )
    ws = Workspace.open(ctx.obj["dir"] if ctx.obj else ".")
    try:
        ws.ensure_index()
        engine = ws.engine
        mentions = engine.link(request)
        intent = classify(request, named={m.type for m in mentions if m.strong})
        plan = plan_for(intent, engine.route_overrides)
        packet = ws.brief(request, budget, files, intent=intent, diff=diff)
    finally:
        ws.close()
    notes += packet.notes
    data: dict[str, Any] = {
        "request": request if len(request) <= 500 else request[:500] + "…",
        "intent": intent.to_dict(),
        "entities": [m.to_dict() for m in mentions],
        "plan": plan.to_dict(),
        "conflicts": [c.to_dict() for c in packet.conflicts],
        "notes": notes,
        "timings_ms": packet.timings,
    }
    if explain:
        data["packet"] = packet.to_dict()
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    click.echo(_render(data, explain))


def _render(data: dict[str, Any], explain: bool) -> str:
    intent = data["intent"]
    lines = [
        f"intent: {intent['label']} ({intent['confidence']:.2f}, {intent['source']})"
        + (f", also {intent['secondary']}" if intent.get("secondary") else "")
    ]
    lines.append("entities:")
    for e in data["entities"]:
        if e["type"] == "tag":
            continue
        strength = "" if e["strong"] else ", weak"
        line = f"  - `{e['span']}` → {e['node']} ({e['type']}, {e['how']}{strength})"
        if e.get("candidates"):
            line += "; ambiguous, could also be: " + ", ".join(e["candidates"])
        lines.append(line)
    if len(lines) == 2:
        lines.append("  (none)")
    tags = sorted({e["span"] for e in data["entities"] if e["type"] == "tag"})
    if tags:
        lines.append("tags: " + ", ".join(tags))
    plan = data["plan"]
    quotas = ", ".join(f"{k} {v}" for k, v in plan["quotas"].items() if v)
    lines.append(f"plan: {plan['name']}: {plan['why']}")
    lines.append(
        f"  fetch {quotas}; list {plan.get('files', 0)} more files; code share "
        f"{plan['code_share']:.2f}, graph weight "
        f"{plan['graph_weight']}; expand: {', '.join(plan['expand']) or 'nothing'}"
    )
    if data["conflicts"]:
        lines.append("conflicts:")
        for c in data["conflicts"]:
            when = f", {c['date']}" if c.get("date") else ""
            lines.append(f"  - {c['ref']} ({c['kind']}{when}): {c['reason']}")
    lines += [f"note: {note}" for note in data["notes"]]
    if explain:
        packet = data["packet"]
        lines.append(
            f"packet: {len(packet['items'])} items, {packet['tokens']}/{packet['budget']} tokens"
        )
        for n, item in enumerate(packet["items"], 1):
            lines.append(f"  {n:>2}. [{item['kind']}] {item['ref']}: {item['why']}")
    return "\n".join(lines)
