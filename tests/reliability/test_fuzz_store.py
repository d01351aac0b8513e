"""Fuzzed bad input for the memory store and the brief: a clear error or a result, never a crash.

Each property runs 1,000 generated cases with a fixed seed (derandomized), so CI is bounded and
repeatable.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kenning.errors import KenningError, MemoryFormatError
from kenning.memory import MemoryStore, parse_memory, render_memory

FUZZ = settings(
    max_examples=1000,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

yaml_ish = st.one_of(
    st.text(max_size=400),
    st.builds(
        lambda head, body: f"---\n{head}\n---\n{body}", st.text(max_size=200), st.text(max_size=200)
    ),
    st.builds(
        lambda k, v, body: f"---\n{k}: {v}\n---\n{body}",
        st.sampled_from(
            [
                "id",
                "kind",
                "title",
                "created",
                "status",
                "scope",
                "aliases",
                "tags",
                "supersedes",
                "source",
                "weird key",
                "- list",
            ]
        ),
        st.one_of(
            st.text(max_size=60),
            st.just("[a, b"),
            st.just("{x: 1}"),
            st.just("!!python/object:os.system ls"),
            st.just("2026-13-45"),
            st.just("../../etc/passwd"),
            st.integers().map(str),
        ),
        st.text(max_size=100),
    ),
)


@FUZZ
@given(text=yaml_ish)
def test_parsing_any_text_gives_a_memory_or_a_format_error(
    fuzz_cases: Counter[str], text: str
) -> None:
    fuzz_cases["cases"] += 1
    path = Path("/store/memories/rule/fuzz.md")
    try:
        memory = parse_memory(text, path)
    except MemoryFormatError as exc:
        assert str(exc).startswith(str(path))
        return
    assert memory.kind in ("decision", "rule", "preference", "person", "term", "fact", "note")
    assert "/" not in memory.id and ".." not in memory.id.split(".")
    # Whatever parsed renders back to a file that parses to the same memory.
    again = parse_memory(render_memory(memory), path)
    assert (again.id, again.kind, again.title, again.status) == (
        memory.id,
        memory.kind,
        memory.title,
        memory.status,
    )


@FUZZ
@given(
    text=st.text(min_size=0, max_size=300),
    kind=st.sampled_from(["decision", "rule", "note", "Rule", "bogus", ""]),
    title=st.one_of(st.none(), st.text(max_size=80)),
    scope=st.lists(st.text(max_size=30), max_size=3),
)
def test_add_either_writes_inside_the_store_or_refuses_cleanly(
    tmp_path_factory: pytest.TempPathFactory,
    fuzz_cases: Counter[str],
    text: str,
    kind: str,
    title: str | None,
    scope: list[str],
) -> None:
    fuzz_cases["cases"] += 1
    root = tmp_path_factory.mktemp("store")
    store = MemoryStore(root / "project", root / "personal")
    try:
        memory = store.add(text, kind, title=title, scope=scope)
    except KenningError:
        assert not any((root / "project").rglob("*.md"))
        return
    assert memory.path is not None and (root / "project") in memory.path.parents
    assert store.get(memory.id).title == memory.title
    written = [p for p in root.rglob("*") if p.is_file() and p.name != ".lock"]
    assert written == [memory.path]
