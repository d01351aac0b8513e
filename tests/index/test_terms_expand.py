"""`expand` reads each distinct name once and gives what scanning the whole text gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kenning.index.terms import _IDENT, expand, split_identifier


def _reference(text: str) -> str:
    seen: dict[str, None] = {}
    for ident in _IDENT.findall(text):
        for part in split_identifier(ident):
            seen.setdefault(part, None)
    return " ".join(seen)


PIECES = [
    "WebhookSender",
    "parse_HTTPHeader",
    "x9abcDef",
    "9abcDef",
    "HTTPServer",
    "snake_case",
    "getURL",
    "ABC",
    "aB",
    " ",
    "\n",
    ".",
    "(",
    "_",
    "é",
    "Ünïcode",
    "camelCase2X",
    "ok",
    "HTTP_OK",
    "ab_CD",
    "Ab",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=14).map("".join))
def test_expand_equals_scanning_the_whole_text(text: str) -> None:
    assert expand(text) == _reference(text)


def test_expand_splits_mixed_case_names() -> None:
    assert expand("class WebhookSender: sender = WebhookSender()") == "webhook sender"
