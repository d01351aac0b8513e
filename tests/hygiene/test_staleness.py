"""Staleness: real edits to a git project flag exactly the memories whose code moved on."""

from __future__ import annotations

from pathlib import Path

from hygiene_helpers import MAILER, commit, git

from kenning.hygiene.staleness import stale_findings
from kenning.workspace import Workspace


def findings(ws: Workspace) -> dict[str, list[tuple[str, str | None]]]:
    ws.index(embed=False)
    return {
        memory_id: [(f.cause, f.target) for f in found]
        for memory_id, found in stale_findings(ws.db).items()
    }


def test_a_fresh_memory_is_anchored_and_not_stale(ws: Workspace) -> None:
    memory = ws.remember("`Mailer.send_email` retries three times with backoff", "decision")
    assert memory.extra["anchors"][0].startswith("app/mailer.py::Mailer.send_email#")
    assert memory.extra["provenance"]["commit"] == git(ws.root, "rev-parse", "HEAD").strip()
    assert findings(ws) == {}
    edges = ws.db.execute(
        "SELECT dst FROM edges WHERE kind = 'anchor' AND src = ?", (f"mem:{memory.id}",)
    ).fetchall()
    assert ("sym:app/mailer.py::Mailer.send_email",) in edges


def test_deleting_the_file_flags_the_memory_without_touching_it(ws: Workspace) -> None:
    memory = ws.remember("`Mailer.send_email` retries three times", "decision")
    before = memory.path.read_text()  # type: ignore[union-attr]
    (ws.root / "app" / "mailer.py").unlink()
    commit(ws.root, "drop the mailer")
    assert findings(ws) == {memory.id: [("deleted", None)]}
    assert memory.path.read_text() == before  # type: ignore[union-attr]


def test_a_git_rename_is_followed_and_named(ws: Workspace) -> None:
    memory = ws.remember("Outbound mail goes through app/mailer.py only", "rule")
    git(ws.root, "mv", "app/mailer.py", "app/email.py")
    commit(ws.root, "rename")
    assert findings(ws) == {memory.id: [("renamed", "app/email.py")]}


def test_a_staged_rename_counts_before_it_is_committed(ws: Workspace) -> None:
    memory = ws.remember("`Mailer.send_email` retries three times", "decision")
    git(ws.root, "mv", "app/mailer.py", "app/outbound.py")
    assert findings(ws) == {memory.id: [("renamed", "app/outbound.py::Mailer.send_email")]}


def test_a_symbol_moved_to_another_file_is_found_there(ws: Workspace) -> None:
    memory = ws.remember("`jitter` multiplies every delay by 1.1", "fact")
    retry = (ws.root / "app" / "retry.py").read_text()
    head, _, jitter = retry.partition("\n\ndef jitter")
    (ws.root / "app" / "retry.py").write_text(head + "\n")
    (ws.root / "app" / "noise.py").write_text("def jitter" + jitter)
    commit(ws.root, "move jitter")
    assert findings(ws) == {memory.id: [("moved", "app/noise.py::jitter")]}


def test_a_symbol_renamed_in_place_is_recognised_by_its_content(ws: Workspace) -> None:
    memory = ws.remember("`Mailer.try_send` never raises", "fact")
    (ws.root / "app" / "mailer.py").write_text(MAILER.replace("try_send", "attempt"))
    assert findings(ws) == {memory.id: [("renamed", "app/mailer.py::Mailer.attempt")]}


def test_a_rewrite_is_stale_and_a_small_edit_is_not(ws: Workspace) -> None:
    memory = ws.remember("`Mailer.send_email` gives up after three attempts", "fact")
    small = MAILER.replace("backoff(3)", "backoff(4)")
    (ws.root / "app" / "mailer.py").write_text(small)
    assert findings(ws) == {}
    rewritten = MAILER.replace(
        '''        """Send one email, retrying with backoff."""
        for delay in backoff(3):
            if self.try_send(to, delay):
                return
        raise RuntimeError(f"could not reach {to}")''',
        '''        """Queue the email; the outbox worker delivers it."""
        queue = self.outbox()
        queue.put(to)
        queue.flush(timeout=30)''',
    )
    (ws.root / "app" / "mailer.py").write_text(rewritten)
    [(cause, _)] = findings(ws)[memory.id]
    assert cause == "changed"


def test_scope_that_matches_nothing_is_stale(ws: Workspace) -> None:
    memory = ws.remember("Mail code logs every send", "rule", scope=["app/**"])
    assert findings(ws) == {}
    git(ws.root, "mv", "app", "mail")
    commit(ws.root, "rename the package")
    found = findings(ws)[memory.id]
    assert ("scope", None) in found


def test_hand_written_memories_are_judged_by_git_history_only(ws: Workspace) -> None:
    written_at = git(ws.root, "log", "-1", "--format=%cI").strip()
    folder = ws.project.memories_dir / "note"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "retry-note.md").write_text(
        f"---\nkind: note\ntitle: Retry lives in app/retry.py\ncreated: {written_at}\n---\n"
        "The billing service keeps its own config in services/billing/config.yaml.\n"
    )
    assert findings(ws) == {}  # config.yaml never existed here: not ours to judge
    (ws.root / "app" / "retry.py").unlink()
    commit(ws.root, "drop retry", later=60)
    assert findings(ws) == {"retry-note": [("deleted", None)]}


def test_flags_clear_when_the_code_comes_back(ws: Workspace) -> None:
    memory = ws.remember("`Mailer.send_email` retries", "fact")
    mailer = ws.root / "app" / "mailer.py"
    mailer.unlink()
    assert memory.id in findings(ws)
    mailer.write_text(MAILER)
    assert findings(ws) == {}


def test_workspace_without_git_still_checks_recorded_anchors(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "core.py").write_text("def handle(event):\n    return event\n")
    ws = Workspace.open(root)
    ws.project.init()
    ws.index(embed=False)
    memory = ws.remember("`handle` is the only entry point", "decision")
    (root / "pkg" / "core.py").rename(root / "pkg" / "entry.py")
    assert findings(ws) == {memory.id: [("moved", "pkg/entry.py::handle")]}
    ws.close()
