"""The words of conflict detection: how a memory's and a request's words are compared.

Both sides go through the same steps: `tokens_of` cuts text into tokens (identifiers, dotted
names, `@annotations`, calls, with code shapes such as `SELECT *` or `#ff6600` named first),
`variants_of` gives each token its comparable forms (lowercase, lightly stemmed, synonyms, the
parts of `camelCase` and `snake_case`, and what it implies: `opensearch` is an `elasticsearch`),
and `key_words` keeps the ones that carry meaning (no stop words, no generic words).
"""

from __future__ import annotations

import re
from functools import lru_cache

from kenning.index.terms import STOP_WORDS, split_identifier

# ---- vocabulary ------------------------------------------------------------------------------

GENERIC = frozenset(
    """use used uses using code file files function functions thing things way new old data value
    values call calls run time times make change test code-path one two always also any every
    each other more less only directly direct raw plain own custom extra hand-rolled just
    bring back add adding added introduce allowed allow build building anything something
    instead rather than anywhere there here ever yet again still same our your their its
    sdk agent library lib package framework tool service api client module layer approach stack
    without first do doing done need needs needed should must may can inline require requires
    required""".split()
)
# Words that are the same thing for conflict purposes (lowercase), on both sides.
SYNONYMS: dict[str, str] = {
    "mongo": "mongodb",
    "k8s": "kubernetes",
    "kube": "kubernetes",
    "postgresql": "postgres",
    "moment.js": "moment",
    "momentjs": "moment",
    "rtk": "redux",
    "jwts": "jwt",
    "pii": "personal",
}
# What a word in a request or a diff also counts as (one way: a ban on `print()` is not a ban
# on logging, but `print(email)` does log an email).
IMPLIES: dict[str, str] = {
    "opensearch": "elasticsearch",
    "ddtrace": "datadog",
    "@data": "lombok",
    "@builder": "lombok",
    "@getter": "lombok",
    "@setter": "lombok",
    "@value": "lombok",
    "@requiredargsconstructor": "lombok",
    "@allargsconstructor": "lombok",
    "@noargsconstructor": "lombok",
    "@slf4j": "lombok",
    "@tostring": "lombok",
    "@equalsandhashcode": "lombok",
    "bigint": "integer",  # SQL integer types
    "smallint": "integer",
    "int": "integer",
    "int4": "integer",
    "int8": "integer",
    "serial": "integer",
    "bigserial": "integer",
    "eks": "kubernetes",
    "elasticsearch": "elk",  # the ELK stack: Elasticsearch, Logstash, Kibana (and Beats)
    "logstash": "elk",
    "kibana": "elk",
    "filebeat": "elk",
    "gke": "kubernetes",
    "aks": "kubernetes",
    "print": "log",
    "printf": "log",
    "println": "log",
    "console.log": "log",
    "logger": "log",
    "logging": "log",
    "email": "personal",
    "phone": "personal",
    "unittest.mock": "mock",
    "mock.patch": "mock",
    "public": "edge",
    "external": "edge",
}
# Mutually exclusive values: a memory that settles on one makes a request for another a conflict.


_TOKEN = re.compile(
    r"@?[A-Za-z0-9_]+(?:[.+#/-][A-Za-z0-9_]+)*(?:\(\))?|[\^~]|(?<=\.)\*", re.IGNORECASE
)
_SELECT_STAR = re.compile(r"\bselect\s+(?:\w+\.)?\*|,\s*\w+\.\*", re.IGNORECASE)
_HEX_COLOR = re.compile(r"(?<![\w&#])#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})\b")

# ---- words -----------------------------------------------------------------------------------


def stem(word: str) -> str:
    """A light stemmer: caches/cache, deleted/deletes/delete, retries/retry map together."""
    if word in ("ids", "ips", "urls", "uris"):
        return word[:-1]
    if not word.isalpha() or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif re.search(r"(?:s|x|ch|sh|z)es$", word):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    elif word.endswith("ing") and len(word) > 5:
        word = word[:-3]
        if re.search(r"([^aeiouls])\1$", word):
            word = word[:-1]  # formatting → format, logging → log
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
        if re.search(r"([^aeiouls])\1$", word):
            word = word[:-1]
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def norm(word: str, exact: bool = False) -> str:
    word = word.lower().strip("-.")
    word = SYNONYMS.get(word, word)
    if exact:
        return word
    stemmed = stem(word)
    return SYNONYMS.get(stemmed, stemmed)


@lru_cache(maxsize=65_536)
def variants_of(raw: str) -> frozenset[str]:
    """A token and the words inside it: `orderRepository` → order, repository, orderrepository.

    Also the unstemmed spelling, and what the word implies (`print` → log). Cached: code and
    requests repeat their identifiers.
    """
    out = {norm(raw), norm(raw, exact=True)}
    low = raw.lower()
    bare = low[:-2] if low.endswith("()") else low
    out.add(norm(bare))
    for piece in re.split(r"[./+#:]", raw):
        if not piece:
            continue
        out.add(norm(piece))
        for part in split_identifier(piece.replace("-", "_")):
            out.add(norm(part))
        if "-" in piece:
            out.add(norm(piece.replace("-", " ").replace(" ", "")))
    out.add(norm(raw.replace("-", "")))
    implied = {IMPLIES[w] for w in out if w in IMPLIES}
    bare_low = bare.strip("-.")
    if bare_low in IMPLIES:
        implied.add(IMPLIES[bare_low])
    out |= implied | {norm(w) for w in implied}
    return frozenset(w for w in out if w)


def _prepare(text: str) -> str:
    """Code shapes that rules name in words: `SELECT *`, a `#ff6600` colour literal."""
    text = _SELECT_STAR.sub(" select_star ", text)
    return _HEX_COLOR.sub(" hex color ", text)


def tokens_of(text: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group(0)) for m in _TOKEN.finditer(_prepare(text))]


def bag_of(text: str) -> set[str]:
    out: set[str] = set()
    for _, raw in tokens_of(text):
        out |= variants_of(raw)
    return out


def key_words(phrase: str, exact: bool = False) -> tuple[str, ...]:
    words: list[str] = []
    for _, raw in tokens_of(phrase):
        low = raw.lower()
        short = len(low) <= 2 and low not in ("^", "~") and not raw.isupper()
        if low in STOP_WORDS or low in GENERIC or short:
            continue
        # `print()` is print; `datetime.now()` stays a call with no arguments.
        bare = raw[:-2] if raw.endswith("()") and "." not in raw else raw
        word = norm(bare, exact)
        if word in GENERIC or word in STOP_WORDS:
            continue
        words.append(word)
    return tuple(dict.fromkeys(words))
