"""Entity linking: which files, symbols, people, terms and tags a piece of text names.

The index keeps an `entities` table of normalised names (paths and their tails, file names,
symbol names and their split words, people and terms with their aliases, tags). Linking looks up
the text's candidate spans (path-like tokens, identifiers, 1–4 word n-grams) in that table. Exact
identifier or path spellings are strong links; a plain word that happens to be a file stem is a
weak one, reported as such so routing can weigh it.
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from kenning.index.terms import STOP_WORDS, split_identifier

_PATHLIKE = re.compile(r"[\w.-]*[/.][\w./-]*\w")
_IDENT = re.compile(r"[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*")
_WORDS = re.compile(r"[\w'-]+")


@dataclass(frozen=True)
class Entity:
    node: str
    type: str
    name: str


@dataclass(frozen=True)
class Mention:
    """A span of the text linked to a graph node; `strong` is False for plain-word matches."""

    span: str
    node: str
    type: str
    name: str
    strong: bool


@dataclass
class EntityTable:
    by_norm: dict[str, list[Entity]] = field(default_factory=dict)
    max_words: int = 4

    @classmethod
    def load(cls, db: sqlite3.Connection) -> EntityTable:
        table: dict[str, list[Entity]] = defaultdict(list)
        for norm, name, node, kind in db.execute("SELECT norm, name, node, type FROM entities"):
            table[norm].append(Entity(node, kind, name))
        longest = max((k.count(" ") + 1 for k in table), default=1)
        return cls(dict(table), min(longest, 6))


def _candidates(text: str, max_words: int) -> list[tuple[str, str, bool]]:
    """(span, normalised key, written-like-code) for each candidate span of `text`."""
    out: list[tuple[str, str, bool]] = []
    for match in _PATHLIKE.finditer(text):
        span = match.group(0).strip("./")
        if span:
            out.append((span, span.lower(), True))
    for match in _IDENT.finditer(text):
        span = match.group(0)
        codeish = "_" in span or "." in span or any(c.isupper() for c in span[1:])
        out.append((span, span.lower(), codeish))
        if "." in span:
            out.append((span, span.rsplit(".", 1)[-1].lower(), codeish))
        if codeish:
            split = " ".join(split_identifier(span.rsplit(".", 1)[-1]))
            if " " in split:
                out.append((span, split, True))
    words = [w.strip("'-").lower() for w in _WORDS.findall(text)]
    words = [w for w in words if w]
    for size in range(1, max_words + 1):
        for i in range(len(words) - size + 1):
            gram = words[i : i + size]
            if size == 1 and (gram[0] in STOP_WORDS or len(gram[0]) < 3):
                continue
            out.append((" ".join(gram), " ".join(gram), False))
            if size == 1 and gram[0].endswith("s") and len(gram[0]) > 4:
                out.append((gram[0], gram[0][:-1], False))
    return out


def find_mentions(text: str, table: EntityTable, limit_chars: int = 20_000) -> list[Mention]:
    """Every entity the text names, strongest first, one mention per node."""
    found: dict[str, Mention] = {}
    for span, key, codeish in _candidates(text[:limit_chars], table.max_words):
        for entity in table.by_norm.get(key, ()):
            # A word that names a person/term/tag, or any multi-word name, is a strong link;
            # a bare word that is also a file stem or symbol name is a weak one.
            strong = codeish or entity.type in ("person", "term", "tag") or " " in key
            current = found.get(entity.node)
            better = current is not None and (
                (strong and not current.strong)
                or (current.type == "tag" and entity.type in ("person", "term"))
            )
            if current is None or better:
                found[entity.node] = Mention(span, entity.node, entity.type, entity.name, strong)
    return sorted(found.values(), key=lambda m: (not m.strong, m.type, m.node))
