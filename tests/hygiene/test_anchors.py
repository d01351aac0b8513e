"""Anchors: what a memory's text names, resolved to real code and fingerprinted."""

from __future__ import annotations

from pathlib import Path

from kenning.hygiene.anchors import (
    Anchor,
    Code,
    changed_fraction,
    find_refs,
    fingerprint,
    read_anchors,
    resolve_anchors,
)

FUNC = """def total(items):
    result = 0
    for item in items:
        if item.price > 0:
            result += item.price * item.quantity
    return result
"""


def test_refs_are_paths_globs_and_names_written_like_code() -> None:
    refs = find_refs(
        "Call `Mailer.send_email()` from app/mailer.py (see app/retry.py::backoff and "
        "money.py:42); rules under src/billing/** apply. WebhookSender and parse_header too, "
        "e.g. here. Docs: https://example.com/a/b.py"
    )
    assert refs.paths == [
        ("app/mailer.py", None),
        ("app/retry.py", "backoff"),
        ("money.py", None),
    ]
    assert refs.globs == ["src/billing/**"]
    assert refs.symbols == ["Mailer.send_email", "WebhookSender", "parse_header"]


def test_plain_words_and_placeholders_are_not_references() -> None:
    refs = find_refs("We decided to keep the ledger simple. Migrations go in NNNN_name.sql.")
    assert refs.paths == [] and refs.symbols == []


def test_formatting_only_edits_keep_the_fingerprint() -> None:
    reformatted = FUNC.replace("    ", "        ").replace("result += ", "result +=  ")
    assert fingerprint(reformatted) == fingerprint(FUNC)


def test_fingerprint_distance_grows_with_the_rewrite() -> None:
    small = FUNC.replace("item.price > 0", "item.price >= 0")
    rewrite = "def total(items):\n    return sum(i.price * i.quantity for i in items)\n"
    small_change = changed_fraction(fingerprint(FUNC), fingerprint(small))
    big_change = changed_fraction(fingerprint(FUNC), fingerprint(rewrite))
    assert 0 < small_change < 0.35 < big_change


def test_anchor_strings_round_trip() -> None:
    anchor = Anchor("app/mailer.py", "Mailer.send_email", "ab" * 16)
    assert Anchor.parse(anchor.render()) == anchor
    assert Anchor.parse("app/mailer.py:12") == Anchor("app/mailer.py")
    assert Anchor.parse({"path": "./app/retry.py", "symbol": "backoff"}) == Anchor(
        "app/retry.py", "backoff"
    )
    assert read_anchors({"anchors": ["a.py", "a.py", 7, "", "b.py::f"]}) == [
        Anchor("a.py"),
        Anchor("b.py", "f"),
    ]


def test_resolve_anchors_fingerprints_named_symbols_and_files(repo: Path) -> None:
    code = Code(repo)
    anchors = resolve_anchors(
        "`send_email` in app/mailer.py retries with backoff; see app/retry.py and nope/gone.py",
        code,
    )
    keys = [a.key for a in anchors]
    # backoff is named as a plain word only; retry.py is anchored as a whole file.
    assert keys == ["app/mailer.py", "app/mailer.py::Mailer.send_email", "app/retry.py"]
    by_key = {a.key: a for a in anchors}
    assert by_key["app/mailer.py"].fp is None  # its symbol is what is checked
    assert by_key["app/retry.py"].fp is not None
    assert by_key["app/mailer.py::Mailer.send_email"].fp is not None


def test_files_given_at_record_time_anchor_symbols_and_lines(repo: Path) -> None:
    code = Code(repo)
    anchors = resolve_anchors(
        "Delays must stay under a minute.",
        code,
        files=["app/retry.py::backoff", "app/mailer.py:14", "missing.py"],
    )
    assert [a.key for a in anchors] == [
        "app/mailer.py",
        "app/mailer.py::Mailer.try_send",
        "app/retry.py",
        "app/retry.py::backoff",
    ]


def test_a_name_defined_in_two_places_is_not_guessed(repo: Path) -> None:
    (repo / "app" / "other.py").write_text("def backoff():\n    return []\n")
    anchors = resolve_anchors("`backoff()` is exponential", Code(repo))
    assert anchors == []
