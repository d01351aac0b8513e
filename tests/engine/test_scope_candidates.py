"""Scope globs are tried only on paths holding their literal segment: the same rules match as
when every glob is tried on every path."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kenning.engine.brief import literal_segment, scope_matches

SEGMENTS = ["src", "app", "billing", "tests", "docs", "a.py", "test_x.py", "README.md", "x"]
WILD = ["*", "**", "*.py", "test_*", "?pp", "[ab]*", "b*g", "\\#x"]


@settings(max_examples=400, deadline=None)
@given(
    glob=st.lists(st.sampled_from(SEGMENTS + WILD), min_size=1, max_size=4).map("/".join),
    lead=st.sampled_from(["", "/", "./"]),
    trail=st.sampled_from(["", "/"]),
    path=st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=5).map("/".join),
)
def test_a_glob_matches_only_paths_holding_its_literal_segment(
    glob: str, lead: str, trail: str, path: str
) -> None:
    pattern = lead + glob + trail
    segment = literal_segment(pattern)
    if scope_matches(pattern, path) and segment is not None:
        assert segment in path.split("/"), (pattern, path)


def test_the_literal_segment_is_the_longest_without_wildcards() -> None:
    assert literal_segment("src/*/billing/**") == "billing"
    assert literal_segment("./docs/") == "docs"
    assert literal_segment("*.py") is None
    assert literal_segment("**/test_*.py") is None
    assert literal_segment("billing") == "billing"
