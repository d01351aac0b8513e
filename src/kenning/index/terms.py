"""Code-aware terms: what FTS5 sees besides the raw text.

FTS5's unicode61 tokenizer already splits `snake_case` and `a/b/c.py` at the punctuation, but not
`camelCase` or `HTTPServer`. `expand` appends the split parts of every mixed-case identifier so
`WebhookSender` is found by "webhook sender" and by "WebhookSender". Queries are turned into an
OR of their useful terms (stop words dropped) and BM25 does the ranking.
"""

from __future__ import annotations

import re

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*[a-z][A-Z][A-Za-z0-9_]*|[A-Z]{2,}[a-z][A-Za-z0-9_]*")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CAMEL_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_TOKEN = re.compile(r"[A-Za-z0-9_]+")

STOP_WORDS = frozenset(
    """a an and are as at be but by can could did do does doing done for from get got had has
    have how i if in into is it its just let lets like make me might my need needs new no not now
    of on or our out please should so some such than that the their them then there these they
    this those to too up us use using via want was we were what when where which while who why
    will with would you your yours also any all again add adds added fix fixes fixed change
    changes changed update updates updated should shall via vs etc way thing things something
    ok okay hey hi thanks thank about above after before she he her his him hers its
    who whom whose am been being here over under between through during again very much many
    most more only own same both each few other off once onto per since until upon yet care
    cares tell know look looks see seems go goes going gets""".split()
)


def is_mixed_case(word: str) -> bool:
    """`WebhookSender`, `getURL`, `ParamType`: a capital after the first letter beside a lowercase
    one, as names are written. All capitals (`BM25`, `HTTP`, `JSON`) is how acronyms are written
    in prose, so on its own it does not mark a word as code."""
    return any(c.isupper() for c in word[1:]) and any(c.islower() for c in word)


def split_identifier(word: str) -> list[str]:
    """`WebhookSender` → ['webhook', 'sender']; `parse_HTTPHeader` → ['parse', 'http', 'header']."""
    parts: list[str] = []
    for piece in word.split("_"):
        parts += [p.lower() for p in _CAMEL_PARTS.findall(piece)]
    return [p for p in parts if p]


# The split parts of each mixed-case name met so far: code repeats its names from chunk to
# chunk and file to file, and scanning each again was a quarter of a parser's time.
_PARTS: dict[str, tuple[str, ...]] = {}
_PARTS_MAX = 200_000


def _name_parts(name: str) -> tuple[str, ...]:
    parts = _PARTS.get(name)
    if parts is None:
        parts = tuple(part for ident in _IDENT.findall(name) for part in split_identifier(ident))
        if len(_PARTS) >= _PARTS_MAX:
            _PARTS.clear()
        _PARTS[name] = parts
    return parts


def expand(text: str) -> str:
    """Split parts of the mixed-case identifiers in `text`, space-joined (for the FTS body)."""
    seen: dict[str, None] = {}
    # Each distinct name once: `_IDENT` backtracks through a name at every start, and code
    # repeats its names (same parts, same order as scanning the whole text with `_IDENT`).
    for name in dict.fromkeys(_NAME.findall(text)):
        if name.islower() or name.isupper():
            continue  # one case only: `_IDENT` needs a lower and an upper letter
        for part in _name_parts(name):
            seen.setdefault(part, None)
    return " ".join(seen)


def query_terms(text: str, limit: int = 32) -> list[str]:
    """The lowercase search terms of a request: words and identifier parts, minus stop words.

    A snake_case name also gives its pieces as one phrase term (`sqlite_schema` → "sqlite
    schema", right after "sqlite" and "schema"): FTS5 splits the name at the underscore, so only
    the phrase finds the name itself, and a name is usually far rarer than its pieces (files
    touched, 40 commits: click R@5 +.016, kenning +.016, httpx and sqlite-utils unchanged).
    Callers that match terms against words rather than through FTS5 skip terms with a space.
    """
    terms: dict[str, None] = {}
    for token in _TOKEN.findall(text):
        pieces = [piece for piece in token.split("_") if piece]
        for word in pieces:
            low = word.lower()
            if low not in STOP_WORDS and (len(low) > 1 or low.isdigit()):
                terms.setdefault(low, None)
            if any(c.isupper() for c in word[1:]):
                for part in split_identifier(word):
                    if part not in STOP_WORDS and len(part) > 1:
                        terms.setdefault(part, None)
        if len(pieces) > 1:  # FTS5's tokens of the name: split at `_` only, as unicode61 does
            terms.setdefault(" ".join(pieces).lower(), None)
    return list(terms)[:limit]


def fts_query(terms: list[str]) -> str:
    """An FTS5 MATCH expression: any of the terms, each quoted (no syntax from user text)."""
    return " OR ".join(f'"{t}"' for t in terms if t.replace('"', ""))
