"""Fuzzed requests to the brief and search, and fuzzed files for the indexer: 1,000 cases each.

Requests mix any Unicode (control characters, lone surrogates, private use), code-like words,
paths with `../`, odd budgets and kinds; files get arbitrary bytes under arbitrary names (not
UTF-8, leading dots, spaces), in the repo and in the memory store. Each case gives a result or a
`KenningError`, never another exception; nothing is written outside `.kenning/`. Seeds are fixed
(derandomized), so a CI run is bounded and repeatable.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kenning.errors import KenningError
from kenning.workspace import Workspace

FUZZ = settings(
    max_examples=1000,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

any_char = st.characters(exclude_categories=())  # lone surrogates and control characters too
words = st.sampled_from(
    [
        "add",
        "retries",
        "webhook",
        "ledger",
        "PspClient",
        "psp.py",
        "src/tidewater/payments/psp.py",
        "../../etc/passwd",
        "never",
        "Celery",
        "who",
        "owns",
        "*",
        "OR",
        "NEAR(",
        '"',
        "::",
        "\x00",
        "\u202e",
        "x" * 300,
    ]
)
requests = st.one_of(
    st.text(any_char, max_size=300),
    st.lists(words, max_size=40).map(" ".join),
    st.builds(lambda a, b: a + " " + b, st.lists(words, max_size=8).map(" ".join), st.text()),
)
file_lists = st.lists(
    st.one_of(words, st.text(any_char, max_size=40), st.just("/etc/hosts")), max_size=4
)


def snapshot(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): p.stat().st_mtime_ns
        for p in root.rglob("*")
        if p.is_file() and ".kenning" not in p.relative_to(root).parts
    }


def test_brief_and_search_answer_any_request(
    indexed_sample: Workspace, fuzz_cases: Counter[str]
) -> None:
    ws = indexed_sample
    before = snapshot(ws.root)

    @FUZZ
    @given(
        request=requests,
        files=file_lists,
        budget=st.one_of(st.none(), st.integers(-10, 10**7)),
        kind=st.one_of(
            st.none(),
            st.sampled_from(["all", "code", "memory", "rule", "Rule"]),
            st.text(max_size=12),
        ),
        k=st.integers(-5, 10**6),
    )
    def case(request: str, files: list[str], budget: int | None, kind: str | None, k: int) -> None:
        fuzz_cases["cases"] += 1
        packet = ws.brief(request, budget, files)
        json.dumps(packet.to_dict(), ensure_ascii=False).encode()  # valid UTF-8 all through
        packet.to_markdown().encode()
        try:
            hits = ws.search(request, kind, k)
        except KenningError:
            fuzz_cases["refused"] += 1
            return
        for hit in hits:
            json.dumps(hit.to_dict(), ensure_ascii=False).encode()

    case()
    assert fuzz_cases["cases"] >= 1000
    assert snapshot(ws.root) == before


suffixes = st.sampled_from(
    [".py", ".md", ".ts", ".js", ".json", ".yaml", ".toml", ".txt", ".go", ".rs", "", ".env", ".MD"]
)
names = st.builds(
    lambda stem, suffix: stem + suffix.encode(),
    st.binary(min_size=1, max_size=40).filter(
        lambda b: b"/" not in b and b"\x00" not in b and b not in (b".", b"..")
    ),
    suffixes,
)
contents = st.one_of(
    st.binary(max_size=3000),
    st.text(any_char, max_size=1500).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.text(max_size=1500).map(lambda t: t.encode("utf-16")),
    st.builds(
        lambda head, body: f"---\n{head}\n---\n{body}".encode("utf-8", "surrogatepass"),
        st.text(any_char, max_size=200),
        st.text(any_char, max_size=200),
    ),
    st.lists(words, max_size=60).map(lambda w: ("def f():\n    " + " ".join(w)).encode()),
)


def test_index_survives_any_file_in_the_repo_or_the_store(
    tmp_path: Path, fuzz_cases: Counter[str]
) -> None:
    root = tmp_path / "fuzzed"
    (root / "src").mkdir(parents=True)
    (root / "src" / "base.py").write_text("def base():\n    return 1\n")
    ws = Workspace.open(root)
    ws.project.init()
    drop = os.fsencode(root / "drop")
    notes = os.fsencode(ws.project.memories_dir / "note")

    @FUZZ
    @given(
        files=st.lists(st.tuples(names, contents), min_size=1, max_size=3),
        memory=st.one_of(st.none(), contents),
    )
    def case(files: list[tuple[bytes, bytes]], memory: bytes | None) -> None:
        fuzz_cases["cases"] += 1
        shutil.rmtree(drop, ignore_errors=True)
        shutil.rmtree(notes, ignore_errors=True)
        os.makedirs(drop)
        os.makedirs(notes)
        for name, data in files:
            try:
                with open(os.path.join(drop, name), "wb") as fh:
                    fh.write(data)
            except OSError:  # a name the file system refuses (too long): nothing to index
                fuzz_cases["unwritable names"] += 1
        if memory is not None:
            with open(os.path.join(notes, b"fuzz-note.md"), "wb") as fh:
                fh.write(memory)
        stats = ws.index(embed=False)
        fuzz_cases["memory problems"] += len(stats.problems)
        for problem in stats.problems:
            problem.encode()  # printable as UTF-8
        ws.brief("what does base do", 300)

    try:
        case()
        assert fuzz_cases["cases"] >= 1000
        survivors = {p for (p,) in ws.db.execute("SELECT path FROM documents WHERE source='repo'")}
        assert "src/base.py" in survivors
    finally:
        ws.close()
