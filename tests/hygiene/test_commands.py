"""`kenning review`, `history` and `capture` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from hygiene_helpers import commit, git

from kenning.cli import cli
from kenning.hygiene.anchors import read_anchors
from kenning.workspace import Workspace


def run(root: Path, *args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(cli, ["-C", str(root), *args], input=input)
    assert result.exit_code == 0, result.output
    return result


def test_review_keep_follows_a_rename_and_clears_the_flag(ws: Workspace) -> None:
    memory = ws.remember("`Mailer.send_email` retries three times", "decision")
    (ws.root / "app" / "mailer.py").rename(ws.root / "app" / "outbound.py")
    commit(ws.root, "rename")
    listed = run(ws.root, "review", "--only", "stale", "--list").output
    assert memory.id in listed and "app/outbound.py" in listed
    out = run(ws.root, "review", "--only", "stale", input="k\n").output
    assert f"kept {memory.id}" in out
    anchors = [a.key for a in read_anchors(ws.get(memory.id).extra)]
    assert "app/outbound.py::Mailer.send_email" in anchors
    assert json.loads(run(ws.root, "review", "--json").output) == []


def test_review_keep_ignores_a_deleted_anchor_and_retire_retires(ws: Workspace) -> None:
    kept = ws.remember("Jitter multiplies by 1.1 in app/retry.py", "fact")
    gone = ws.remember("`Mailer.try_send` never raises", "fact")
    (ws.root / "app" / "retry.py").unlink()
    (ws.root / "app" / "mailer.py").unlink()
    commit(ws.root, "drop")
    out = run(ws.root, "review", "--only", "stale", input="k\nr\n").output
    assert "Reviewed 2 of 2" in out
    assert ws.get(kept.id).extra["anchors_ignored"] == ["app/retry.py"]
    assert ws.get(gone.id).status == "retired"
    assert json.loads(run(ws.root, "review", "--json").output) == []


def test_review_update_rewrites_the_text(ws: Workspace) -> None:
    memory = ws.remember("`Mailer.try_send` never raises", "fact")
    (ws.root / "app" / "mailer.py").unlink()
    run(ws.root, "review", "--only", "stale", input="u\nSending never raises\n")
    assert ws.get(memory.id).title == "Sending never raises"


def test_review_conflict_supersede_and_duplicate_merge(ws: Workspace) -> None:
    old = ws.remember("We use Celery workers for background jobs", "decision")
    new = ws.remember("Celery was ruled out for background jobs", "decision")
    first = ws.remember("Deploys need one approval in Argo CD", "rule")
    again = ws.remember(
        "Deploys need one approval in Argo CD, from an owner", "rule", on_duplicate="keep"
    )
    items = json.loads(run(ws.root, "review", "--json").output)
    assert [(i["kind"], {i["id"], i["other"]["id"]}) for i in items] == [
        ("conflict", {old.id, new.id}),
        ("duplicate", {first.id, again.id}),
    ]
    run(ws.root, "review", input="s\nm\n")
    older, newer = items[0]["id"], items[0]["other"]["id"]
    assert ws.get(older).status == "superseded" and ws.get(newer).supersedes == older
    kept, merged = items[1]["id"], items[1]["other"]["id"]
    assert ws.get(merged).status == "retired" and "owner" in ws.get(kept).text
    assert json.loads(run(ws.root, "review", "--json").output) == []


def test_review_keep_both_is_remembered(ws: Workspace) -> None:
    ws.remember("We use Celery workers for background jobs", "decision")
    ws.remember("Celery was ruled out for background jobs", "decision")
    run(ws.root, "review", input="k\n")
    assert json.loads(run(ws.root, "review", "--json").output) == []


def test_history_shows_the_chain_and_the_audit_trail(ws: Workspace) -> None:
    first = ws.remember("Background jobs run on Celery workers", "decision")
    second = ws.remember(
        "Background jobs run on the Postgres queue", "decision", supersedes=first.id
    )
    out = run(ws.root, "history", first.id).output
    assert out.index(first.id) < out.index(second.id)
    assert "[superseded]" in out and "[active]" in out and "supersede" in out
    data = json.loads(run(ws.root, "history", second.id, "--json").output)
    assert [v["id"] for v in data["versions"]] == [first.id, second.id]
    assert [e["action"] for e in data["events"]] == ["add", "add", "supersede"]


CHAT = """User: the webhook sender blocks requests, should we move it to Celery?
Assistant: We could use Celery or the Postgres queue.
User: We decided to keep background jobs on the Postgres queue, so a job commits with its data.
Don't worry about Celery. From now on every job must be idempotent.
Assistant: I'll always make the jobs idempotent.
"""


def test_capture_proposes_then_records_what_is_picked(ws: Workspace, tmp_path: Path) -> None:
    chat = tmp_path / "chat.md"
    chat.write_text(CHAT)
    out = run(ws.root, "capture", str(chat)).output
    assert "1. [decision] Keep background jobs on the Postgres queue" in out
    assert "2. [rule] Every job must be idempotent" in out and "3." not in out
    recorded = run(ws.root, "capture", str(chat), "--accept", "--pick", "2").output
    assert recorded.startswith("recorded ")
    [rule] = ws.memories("rule")
    assert rule.source == "capture" and rule.extra["captured_from"] == "chat.md:4"
    again = run(ws.root, "capture", "-", "--accept", "--pick", "2", input=CHAT).output
    assert again.startswith(f"already known as {rule.id}")


def test_capture_reads_commit_trailers(ws: Workspace) -> None:
    (ws.root / "app" / "retry.py").write_text("def backoff(n):\n    return []\n")

    git(ws.root, "add", "-A")
    git(
        ws.root,
        "commit",
        "-q",
        "-m",
        "Drop exponential backoff\n\nIt hid outages for hours.\n\n"
        "Decision: retries use a fixed five second delay\nSigned-off-by: Dev <dev@example.com>",
    )
    data = json.loads(run(ws.root, "capture", "--commits", "HEAD~1..HEAD", "--json").output)
    assert [(p["kind"], p["title"]) for p in data] == [
        ("decision", "Retries use a fixed five second delay")
    ]
    assert data[0]["source"].startswith("commit:")
