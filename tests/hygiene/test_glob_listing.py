"""The staleness pass's "does any file match this glob" scan equals matching path by path."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kenning.engine.brief import scope_matches
from kenning.hygiene.staleness import _any_match

parts = st.sampled_from(["src", "app", "lib", "tests", "docs", "a", "b", "x.py", "y.md", "z.ts"])
paths = st.lists(st.lists(parts, min_size=1, max_size=4).map("/".join), min_size=0, max_size=40)
globs = st.sampled_from(
    [
        "*.py",
        "src/**",
        "src/*/x.py",
        "app/",
        "docs/*.md",
        "/lib/**",
        "./tests/**",
        "**/b/*.ts",
        "a/b",
        "!src/**",
        "x.py",
        "src/[ab]/**",
        "",
    ]
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(paths, globs)
def test_the_listing_scan_agrees_with_matching_each_path(files: list[str], glob: str) -> None:
    ordered = sorted(set(files))
    assert _any_match(glob, ordered) == any(scope_matches(glob, p) for p in ordered)


def test_a_pattern_never_matches_across_two_lines() -> None:
    # "src/a" then "b/fsspec/x.py": joined with a newline they would spell the glob's shape.
    assert not _any_match("src/*/fsspec/**", ["b/fsspec/x.py", "src/a"])
    assert _any_match("src/*/fsspec/**", ["src/a/fsspec/x.py"])
