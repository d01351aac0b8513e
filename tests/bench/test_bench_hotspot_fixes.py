"""Speed fixes the benchmark motivated must not change what the index holds."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from kenning.workspace import Workspace


def _edges(ws: Workspace) -> list[tuple[str, str]]:
    return sorted(
        (src, dst) for src, dst in ws.db.execute("SELECT src, dst FROM edges WHERE kind = 'import'")
    )


def _project(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "a.py").write_text(
        "from pkg import b\nfrom . import c\n\n\ndef fa():\n    pass\n"
    )
    (root / "pkg" / "b.py").write_text("import pkg.c\n\n\ndef fb():\n    pass\n")
    (root / "pkg" / "c.py").write_text("import os\n\n\ndef fc():\n    pass\n")
    (root / "main.py").write_text("from pkg.a import fa\nimport pkg.b\n")
    return root


def test_import_edges_of_a_full_index_and_after_edits_match_a_rebuild(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj")
    ws = Workspace.open(root)
    ws.index(embed=False)
    full = _edges(ws)
    assert ("file:main.py", "file:pkg/a.py") in full
    assert ("file:pkg/a.py", "file:pkg/c.py") in full
    # A modified file (no structural change) is relinked with the run's one module map.
    (root / "pkg" / "c.py").write_text("from pkg import a\n\n\ndef fc():\n    return 1\n")
    stats = ws.index(embed=False)
    assert stats.files_indexed == 1
    after_edit = _edges(ws)
    assert ("file:pkg/c.py", "file:pkg/a.py") in after_edit
    # A new file (structural change) defers linking to the relink at the end of the run.
    (root / "pkg" / "d.py").write_text("from pkg.b import fb\n")
    ws.index(embed=False)
    after_add = _edges(ws)
    assert ("file:pkg/d.py", "file:pkg/b.py") in after_add
    ws.index(rebuild=True, embed=False)
    rebuilt = _edges(ws)
    ws.close()
    assert after_add == rebuilt


def redact_reference(text: str) -> tuple[str, int]:
    """`redact` without its literal prefilters: every pattern scans the text."""
    import re

    from kenning.secrets import _PATTERNS

    count = 0

    def assigned(match: re.Match[str]) -> str:
        nonlocal count
        value = match.group(3)
        if value.startswith(("${", "{{", "<", "[REDACTED")) or value.isupper():
            return match.group(0)
        count += 1
        return f"{match.group(1)}{match.group(2)}[REDACTED:assigned-secret]{match.group(2)}"

    for kind, pattern in _PATTERNS:
        if kind == "assigned-secret":
            # Without the leading lookahead that only lets the scan skip positions.
            plain = re.compile(pattern.pattern.replace("(?=[acpst])", "", 1), pattern.flags)
            assert plain.pattern != pattern.pattern
            text = plain.sub(assigned, text)
        else:
            text, n = pattern.subn(f"[REDACTED:{kind}]", text)
            count += n
    return text, count


SECRETISH = [
    "AKIAABCDEFGHIJKLMNOP",
    "ghp_" + "a1" * 20,
    "github_pat_" + "B" * 45,
    "xoxb-1234567890-abc",
    "sk_live_" + "Z" * 20,
    "sk-proj-" + "q" * 24,
    "AIza" + "x" * 35,
    "eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4",
    "postgres://admin:hunter22@db",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
    'api_key = "s3cr3tvalue99"',
    "PASSWORD: 'correct-horse-9'",
    'ſecret="abcdefghij"',
    'tO\u212aen = "abcdefgh12"',
    "token = '${TOKEN_FROM_ENV}'",
    '"auth-token": "abcdefgh12"',
    'ACCESS-TOKEN: "abcdefgh12"',
    'Client_Secret = "abcdefgh12"',
    'a = "x-token="abcdefghij"',  # a secret's `=` inside another assignment's value
]


def test_redact_matches_the_unfiltered_scan() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from kenning.secrets import redact

    pieces = st.sampled_from(
        [*SECRETISH, " ", "\n", "\t", "x = 1", "def f():", "é", "key", "@", ":", "=", '"', "'"]
        + ["token", "client_secret", "PASSWORD", "abcdefgh12", "a=b", "     ", ".", "_"]
    )

    @settings(max_examples=1000, deadline=None)
    @given(st.lists(pieces, max_size=16).map("".join))
    def check(text: str) -> None:
        assert redact(text) == redact_reference(text)

    check()
    for sample in SECRETISH:
        assert redact(sample) == redact_reference(sample)
        assert redact(sample)[1] >= (0 if "${" in sample else 1), sample


def test_pagerank_is_computed_once_per_seeds_and_index_generation(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj")
    ws = Workspace.open(root)
    ws.index(embed=False)
    graph = ws.engine.retriever.graph
    graph.refresh(ws.db)
    seeds = {"file:main.py": 1.0}
    first = graph._ranks(seeds, 0.8, 8)
    assert first is not None
    assert graph._ranks(dict(seeds), 0.8, 8) is first  # the brief's second search
    assert graph._ranks({"file:pkg/c.py": 1.0}, 0.8, 8) is not first
    # The numpy top-n is the same ranking as sorting every reached node.
    everything = graph.personalized_pagerank(seeds)
    assert everything
    by_sort = sorted(everything.items(), key=lambda kv: -kv[1])
    assert [s for _, s in graph.top(seeds, 3)] == [s for _, s in by_sort[:3]]
    assert dict(graph.top(seeds, 10_000)) == everything
    (root / "pkg" / "e.py").write_text("import pkg.a\n")
    ws.index(embed=False)
    graph.refresh(ws.db)
    again = graph.personalized_pagerank(seeds)
    assert "file:pkg/e.py" in again
    ws.close()


def test_only_the_first_run_after_replacing_an_old_index_is_a_rebuild(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj")
    index = root / ".kenning" / "index" / "kenning.sqlite3"
    index.parent.mkdir(parents=True)
    index.write_bytes(b"not a database, or one of an older format")
    ws = Workspace.open(root)
    first = ws.index(embed=False)
    assert first.rebuilt
    (root / "pkg" / "c.py").write_text("import os\n\n\ndef fc():\n    return 2\n")
    second = ws.index(embed=False)
    ws.close()
    assert second.files_indexed == 1 and not second.rebuilt


def test_a_skipped_generated_file_does_not_make_every_run_a_full_relink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kenning.index.ingest import Indexer

    root = _project(tmp_path / "proj")
    (root / "pkg" / "_generated.py").write_text("# @generated by a tool. DO NOT EDIT.\nX = 1\n")
    ws = Workspace.open(root)
    ws.index(embed=False)
    relinks: list[Sequence[str] | None] = []
    original = Indexer._relink_imports

    def counting(self: Indexer, near: Sequence[str] | None = None) -> set[int]:
        relinks.append(near)  # a full relink (None) or one around files that came or went
        return original(self, near)

    monkeypatch.setattr(Indexer, "_relink_imports", counting)
    (root / "main.py").write_text("from pkg.a import fa\nimport pkg.c\n")
    stats = ws.index(embed=False)
    assert stats.files_indexed == 1 and stats.skipped["generated"] == 1
    assert relinks == []  # no file came or went: the modified file is linked on its own
    edited = _edges(ws)
    assert ("file:main.py", "file:pkg/c.py") in edited
    assert ("file:main.py", "file:pkg/b.py") not in edited
    ws.index(rebuild=True, embed=False)
    assert _edges(ws) == edited
    ws.close()


def test_mentions_survive_a_code_only_run_and_follow_memory_edits(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj")
    ws = Workspace.open(root)
    ws.index(embed=False)
    memory = ws.remember("Keep pkg/b.py free of network calls", "rule", source="test")

    def mentions() -> set[tuple[str, str]]:
        return {
            (s, d) for s, d in ws.db.execute("SELECT src, dst FROM edges WHERE kind = 'mention'")
        }

    before = mentions()
    assert (f"mem:{memory.id}", "file:pkg/b.py") in before
    (root / "main.py").write_text("import pkg.b\n")
    ws.index(embed=False)
    assert mentions() == before
    ws.remember("Route everything through pkg/c.py", "decision", source="test")
    assert len(mentions()) == len(before) + 1
    ws.close()
