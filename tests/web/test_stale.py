"""Memories that point at code that no longer exists are flagged, with the reason."""

from __future__ import annotations

from pathlib import Path

from kenning.memory import Memory
from kenning.web.stale import CodeIndex, call_refs, path_refs, stale_reasons
from kenning.workspace import Workspace


def test_path_refs_find_paths_and_skip_urls_and_placeholders() -> None:
    text = (
        "See `src/app/mailer.py:12`, retry.py and docs/adr/0003-queue.md; not "
        "https://example.com/a/b.py, not NNNN_name.sql, not src/**/*.py, not e.g. 1/2.5"
    )
    assert path_refs(text) == ["src/app/mailer.py", "retry.py", "docs/adr/0003-queue.md"]


def test_call_refs_need_a_whole_call_in_backticks() -> None:
    text = "`Mailer.send_email(to)` and `backoff()` but not `fix(api): subject`, `print(x)`"
    assert call_refs(text) == ["send_email", "backoff"]


def _code(ws: Workspace) -> CodeIndex:
    return CodeIndex.load(ws.db, ws.root)


def test_memory_naming_live_code_is_not_stale(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    ws.index(embed=False)
    memory = Memory(
        id="m",
        kind="decision",
        title="Retries",
        body="`Mailer.send_email(to)` retries through `backoff()` in app/retry.py.",
        scope=("app/**",),
    )
    assert stale_reasons(memory, _code(ws)) == []


def test_memory_naming_deleted_code_says_what_is_gone(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    ws.index(embed=False)
    (tiny / "app" / "retry.py").unlink()
    ws.index(embed=False)
    memory = Memory(
        id="m",
        kind="rule",
        title="Retries",
        body="Use `backoff()` from app/retry.py; SMS goes through `send_sms()`.",
        scope=("legacy/**",),
        extra={"files": ["app/gone.py"]},
    )
    reasons = stale_reasons(memory, _code(ws))
    assert reasons == [
        "scope `legacy/**` matches no file in the project",
        "`app/gone.py` no longer exists",
        "`app/retry.py` no longer exists",
        "no symbol named `backoff` in the code",
        "no symbol named `send_sms` in the code",
    ]


def test_a_path_on_disk_but_not_indexed_still_counts(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    ws.index(embed=False)
    (tiny / "build").mkdir()
    (tiny / "build" / "out.json").write_text("{}")
    memory = Memory(id="m", kind="note", title="Output", body="Written to build/out.json.")
    assert stale_reasons(memory, _code(ws)) == []


def test_nothing_is_stale_in_an_empty_index(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path)
    ws.index(embed=False)
    memory = Memory(id="m", kind="note", title="x", body="see src/missing.py")
    assert stale_reasons(memory, _code(ws)) == []


def test_the_sample_project_has_no_false_alarms(workspace: Workspace) -> None:
    code = _code(workspace)
    flagged = {
        m.id: stale_reasons(m, code)
        for m in workspace.memories(include_inactive=True)
        if stale_reasons(m, code)
    }
    assert list(flagged) == [m.id for m in workspace.memories("note") if "retry" in m.id]


def test_hygiene_anchor_spellings_are_read_as_paths(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    ws.index(embed=False)
    memory = Memory(
        id="anchored",
        kind="decision",
        title="Retries",
        extra={"anchors": ["app/retry.py#9f2c41aa", "app/mailer.py::Mailer.send_email"]},
    )
    assert stale_reasons(memory, _code(ws)) == []
