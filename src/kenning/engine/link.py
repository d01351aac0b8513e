"""Entity linking: which files, symbols, people, terms and tags a piece of text names.

The index keeps an `entities` table of normalised names: paths and their tails, file names and
stems, symbol names (qualified, bare, and split into words), people and terms with their aliases,
tags. `EntityTable.load` adds a few derived keys (a compact spelling of every symbol so that
`computeInvoiceTotal` finds `compute_invoice_total`, the directory name of a `main.go` or
`__init__.py`, and the bag of words of a path's last components so "the job queue module" finds
`jobs/queue.py`).

`find_mentions` reads the text's candidate spans (path-like tokens, identifiers, 1–6 word
n-grams), looks each up exactly, then by its compact spelling, then, for words of five letters
or more that the table does not know, through a one-edit typo correction (a deletion index over
the table's words, verified with the optimal-string-alignment distance). Overlapping spans are
resolved longest and strongest first. Each mention says how it was found (`how`) and whether it
is strong enough to route on (`strong`); when one span fits several entities of the same rank,
the others are listed in `candidates` (ambiguity is reported, not hidden).

Strength, in short: anything written like code or a path, any person or glossary alias, any name
of two words or more is strong; a single plain word that happens to be a file stem or a symbol
name is weak (a candidate for graph seeding, not a claim), and so is a tag.
"""

from __future__ import annotations

import heapq
import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePosixPath
from typing import Any

from kenning.index import entity_keys
from kenning.index.entity_keys import FUZZY_MIN
from kenning.index.terms import STOP_WORDS, is_mixed_case, split_identifier

_PATHLIKE = re.compile(r"(?<![\w/.-])[\w.-]*(?:/[\w.-]+)+|(?<![\w/.-])[\w-]+\.[A-Za-z]{1,5}\b")
_IDENT = re.compile(r"[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*(?:\(\))?")
_WORD = re.compile(r"[\w][\w'’-]*")
_CODE_EXT = frozenset(
    "py pyi js jsx ts tsx go rs java kt rb php c h cc cpp hpp cs swift scala sql sh md mdc "
    "rst txt toml yaml yml json ini cfg html css scss vue svelte lock".split()
)
_FILLER = frozenset(("the", "a", "an", "our", "this", "that", "file", "module", "in", "of"))
_FILE_CUE_AFTER = frozenset(("module", "file", "script", "package"))
# Words longer than this are not typo-corrected (identifiers that long are pasted, not typed).
MAX_FUZZY_LENGTH = 40

Correct = Callable[[str], "str | None"]

# Tier of a match by how the span was written (higher wins an overlap; then the longer span,
# then an alias over a phrase): written as code or a path beats prose, prose beats a lone word.
_TIER = {"path": 3, "code": 3, "alias": 2, "phrase": 2, "word": 1, "tag": 0}
_PREFER = {"path": 1, "code": 0, "alias": 1, "phrase": 0, "word": 0, "tag": 0}


@dataclass(frozen=True)
class Entity:
    node: str
    type: str
    name: str

    @cached_property
    def preference(self) -> tuple[bool, int, int, str]:
        """Public names before private ones, shallow paths before deep ones (sorts first).

        Cached: linking every memory of a 10k-file project ranked the same few thousand
        definers of common names two million times.
        """
        private = self.name.startswith("_") or "._" in self.name
        return (private, self.node.count("/"), len(self.node), self.node)


@dataclass(frozen=True)
class Mention:
    """A span of the text linked to a graph node.

    `strong` is False for plain-word and tag matches; `how` is one of exact, compact, split,
    alias, fuzzy, path-words, described; `candidates` are the other nodes the same span could
    mean, when the choice was a guess.
    """

    span: str
    node: str
    type: str
    name: str
    strong: bool
    how: str = "exact"
    candidates: tuple[str, ...] = ()
    start: int = -1

    @property
    def ambiguous(self) -> bool:
        return bool(self.candidates)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "span": self.span,
            "node": self.node,
            "type": self.type,
            "name": self.name,
            "strong": self.strong,
            "how": self.how,
        }
        if self.candidates:
            out["candidates"] = list(self.candidates)
        return out


class EntityTable:
    """Normalised name → entities, with the derived keys and the typo words.

    Two ways to hold one: `IndexedEntities` reads the index's rows on demand (what a request or
    one new memory needs: a few indexed lookups); `EntityTable` holds every name in memory (what
    linking thousands of memories at once, and the tests, need). Both see the same keys: the
    derived ones come from `kenning.index.entity_keys` either way.
    """

    max_words: int = 6

    def __init__(
        self,
        by_norm: dict[str, list[Entity]] | None = None,
        by_bag: dict[str, list[Entity]] | None = None,
        words: frozenset[str] = frozenset(),
        max_words: int = 4,
    ) -> None:
        self.by_norm = by_norm or {}
        self.by_bag = by_bag or {}
        self.words = words
        self.max_words = max_words
        self._alphabet: str | None = None
        self._longest: int | None = None

    @classmethod
    def load(cls, db: sqlite3.Connection) -> EntityTable:
        """Every name of the index and its stored derived keys, in memory."""
        rows = db.execute(
            "SELECT norm, name, node, type, derived FROM entities ORDER BY rowid"
        ).fetchall()
        return cls._build(rows)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str, str]]) -> EntityTable:
        """Build from (norm, name, node, type) rows, adding the derived keys."""
        rows = list(rows)
        return cls._build([(*row, 0) for row in rows] + entity_keys.derived_rows(rows))

    @classmethod
    def _build(cls, tagged: Iterable[tuple[str, str, str, str, int]]) -> EntityTable:
        table: dict[str, list[Entity]] = defaultdict(list)
        bags: dict[str, list[Entity]] = defaultdict(list)
        # A symbol or file is one Entity however many names it has (a symbol has ~3 rows; at
        # 10k files there are 400k of them).
        shared: dict[str, Entity] = {}
        for norm, name, node, kind, flag in tagged:
            if kind == "symbol" or kind == "file":
                entity = shared.get(node)
                if entity is None:
                    entity = shared[node] = Entity(node, kind, name)
            else:
                entity = Entity(node, kind, name)
            if flag == entity_keys.BAG_ROW:
                bags[norm].append(entity)
            elif norm.strip():
                table[norm.strip()].append(entity)
        for key, found in table.items():
            if len(found) > 1:
                table[key] = _dedupe(found)
        words = entity_keys.key_words(table)
        longest = max((k.count(" ") + 1 for k in table), default=1)
        return cls(dict(table), dict(bags), frozenset(words), min(longest, 6))

    def empty(self) -> bool:
        return not self.by_norm

    def lookup(self, key: str) -> list[Entity]:
        return self.by_norm.get(key, [])

    def bag(self, key: str) -> list[Entity]:
        return self.by_bag.get(key, [])

    def prefetch(self, keys: Iterable[str]) -> None:
        """Nothing to fetch: every name is already here."""

    def adr_files(self) -> list[tuple[str, list[Entity]]]:
        """(path, file entities) of the ADR-like files, for "the ADR about X"."""
        return [(k, v) for k, v in self.by_norm.items() if _ADR_PATH.match(k)]

    def longest_word(self) -> int:
        if self._longest is None:
            self._longest = max((len(w) for w in self.words), default=0)
        return self._longest

    def alphabet(self) -> str:
        """Every character of the known words (computed on first use)."""
        if self._alphabet is None:
            self._alphabet = "".join(sorted(set("".join(self.words))))
        return self._alphabet

    def correct(self, word: str) -> str | None:
        """The one known word within one edit of `word` (None when none, or several tie).

        The candidates are generated from `word` (deletions, transpositions, substitutions and
        insertions over the known words' alphabet: a few hundred set lookups), so nothing is
        built per index: a one-deletion index of every word took seconds at 10k files.
        """
        if not _correctable(word) or word in self.words:
            return None
        if len(word) > self.longest_word() + 1:
            return None  # no known word is within one edit
        close = sorted(w for w in _edits1(word, self.alphabet()) if w in self.words)
        return close[0] if len(close) == 1 else None


class IndexedEntities(EntityTable):
    """The index's entity names, looked up in SQLite as a text needs them.

    Nothing is loaded up front, so a fresh process (`kenning brief`, `remember`) and a server
    after every index change link a request in milliseconds at 10k files; lookups are remembered
    for the life of the object, which callers replace when the index changes.
    """

    _CHUNK = 500

    def __init__(self, db: sqlite3.Connection) -> None:
        super().__init__(max_words=6)
        self.db = db
        self._found: dict[str, list[Entity]] = {}
        self._corrected: dict[str, str | None] = {}
        self._any: bool | None = None

    def empty(self) -> bool:
        if self._any is None:
            self._any = self.db.execute("SELECT 1 FROM entities LIMIT 1").fetchone() is not None
        return not self._any

    def prefetch(self, keys: Iterable[str]) -> None:
        """Fetch the names of many keys in a few statements (a text's n-grams, its spans)."""
        wanted = list(dict.fromkeys(k for k in keys if k and k not in self._found))
        if len(self._found) > 20_000:
            self._found.clear()
        for i in range(0, len(wanted), self._CHUNK):
            part = wanted[i : i + self._CHUNK]
            found: dict[str, list[Entity]] = {key: [] for key in part}
            marks = ",".join("?" * len(part))
            for norm, name, node, kind in self.db.execute(
                f"SELECT norm, name, node, type FROM entities WHERE norm IN ({marks}) "
                "ORDER BY rowid",
                part,
            ):
                found[norm].append(Entity(node, kind, name))
            for key, entities in found.items():
                self._found[key] = _dedupe(entities)

    def lookup(self, key: str) -> list[Entity]:
        if key not in self._found:
            self.prefetch([key])
        return self._found.get(key, [])

    def bag(self, key: str) -> list[Entity]:
        return self.lookup(key)

    def adr_files(self) -> list[tuple[str, list[Entity]]]:
        paths = [
            p.lower()
            for (p,) in self.db.execute(
                "SELECT path FROM documents WHERE source = 'repo' AND path LIKE '%adr%'"
            )
        ]
        keys = [p for p in paths if _ADR_PATH.match(p)]
        self.prefetch(keys)
        return [(k, self.lookup(k)) for k in keys]

    def alphabet(self) -> str:
        if self._alphabet is None:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'entity_alphabet'").fetchone()
            self._alphabet = row[0] if row else ""
        return self._alphabet

    def correct(self, word: str) -> str | None:
        if not _correctable(word):
            return None
        if word in self._corrected:
            return self._corrected[word]
        fixed: str | None = None
        if self.db.execute("SELECT 1 FROM entity_words WHERE word = ?", (word,)).fetchone() is None:
            candidates = sorted(_edits1(word, self.alphabet()))
            close: list[str] = []
            for i in range(0, len(candidates), self._CHUNK):
                part = candidates[i : i + self._CHUNK]
                marks = ",".join("?" * len(part))
                close += [
                    w
                    for (w,) in self.db.execute(
                        f"SELECT word FROM entity_words WHERE word IN ({marks})", part
                    )
                ]
            fixed = min(close) if len(close) == 1 else None
        if len(self._corrected) > 50_000:
            self._corrected.clear()
        self._corrected[word] = fixed
        return fixed


def _correctable(word: str) -> bool:
    return FUZZY_MIN <= len(word) <= MAX_FUZZY_LENGTH and word.isalpha()


_ADR_PATH = re.compile(r"(?:.*/)?adrs?/\d{3,5}-(.+)\.md$")


def _edits1(word: str, alphabet: str) -> set[str]:
    """Every string one insertion, deletion, substitution or adjacent swap away from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in alphabet}
    out |= {a + c + b for a, b in splits for c in alphabet}
    out.discard(word)
    return out


_compact = entity_keys.compact
_singular = entity_keys.singular


@dataclass
class _Match:
    start: int
    end: int
    span: str
    form: str  # path, code, alias, phrase, word, tag
    how: str
    entities: list[Entity]
    exact_case: bool = False

    @property
    def rank(self) -> tuple[int, int, int, int]:
        return (
            _TIER[self.form],
            self.end - self.start,
            _PREFER[self.form],
            0 if self.how == "fuzzy" else 1,
        )


def _type_order(form: str, exact_case: bool) -> tuple[str, ...]:
    if form in ("path",):
        return ("file", "symbol", "term", "person")
    if form == "code" or exact_case:
        return ("symbol", "file", "term", "person")
    return ("person", "term", "symbol", "file")


def _spans(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, span, form) for paths, identifiers and plain words of `text`."""
    out: list[tuple[int, int, str, str]] = []
    for m in _PATHLIKE.finditer(text):
        span = m.group(0).strip("./-")
        if span and ("/" in span or span.rsplit(".", 1)[-1].lower() in _CODE_EXT):
            start = m.start() + m.group(0).find(span)
            out.append((start, start + len(span), span, "path"))
    for m in _IDENT.finditer(text):
        span = m.group(0)
        bare = span[:-2] if span.endswith("()") else span
        # snake_case, dotted, camelCase or called: written as code. "PSP" or "Dana" is prose.
        codeish = (
            "_" in bare.strip("_") or "." in bare or is_mixed_case(bare) or span.endswith("()")
        )
        if codeish:
            out.append((m.start(), m.start() + len(bare), bare, "code"))
    return out


def _lookup(table: EntityTable, key: str) -> list[Entity]:
    return table.lookup(key)


def _code_matches(
    table: EntityTable, start: int, end: int, span: str, fix: Correct
) -> list[_Match]:
    """An identifier or dotted name: exact, compact, module.member, then split words."""
    low = span.lower()
    found: list[_Match] = []
    hits = _lookup(table, low) or _lookup(table, _compact(span))
    if hits:
        exact_case = any(e.name.rsplit(".", 1)[-1] == span.rsplit(".", 1)[-1] for e in hits)
        return [_Match(start, end, span, "code", "exact", hits, exact_case)]
    if "." in span:
        head, _, tail = span.rpartition(".")
        # module.member: the member defined in the file whose stem is the module.
        members = [
            e
            for e in _lookup(table, tail.lower()) + _lookup(table, _compact(tail))
            if e.type == "symbol"
            and PurePosixPath(e.node[4:].split("::", 1)[0]).stem.lower() == head.lower()
        ]
        if members:
            return [_Match(start, end, span, "code", "exact", _dedupe(members), True)]
        compact_hits = _lookup(table, _compact(span))
        if compact_hits:
            return [_Match(start, end, span, "code", "compact", compact_hits, True)]
        offset = start
        for part in span.split("."):
            found += _code_matches(table, offset, offset + len(part), part, fix)
            offset += len(part) + 1
        return found
    words = split_identifier(span)
    if len(words) > 1:
        for candidate, how in ((" ".join(words), "split"), (_corrected(fix, words), "fuzzy")):
            if candidate and _lookup(table, candidate):
                return [_Match(start, end, span, "code", how, _lookup(table, candidate))]
            if candidate and _lookup(table, candidate.replace(" ", "")):
                hits = _lookup(table, candidate.replace(" ", ""))
                return [_Match(start, end, span, "code", how, hits)]
    elif len(words) == 1:
        fixed = fix(words[0])
        if fixed and _lookup(table, fixed):
            return [_Match(start, end, span, "code", "fuzzy", _lookup(table, fixed))]
    # A typo in a short part ("PaymentStatusBage"): correct the whole compact spelling.
    fixed = fix(_compact(span))
    if fixed and _lookup(table, fixed):
        return [_Match(start, end, span, "code", "fuzzy", _lookup(table, fixed))]
    return found


def _corrected(fix: Correct, words: list[str]) -> str | None:
    changed = False
    out: list[str] = []
    for word in words:
        fixed = fix(word)
        if fixed is not None:
            changed = True
            out.append(fixed)
        else:
            out.append(word)
    return " ".join(out) if changed else None


def _path_matches(
    table: EntityTable, start: int, end: int, span: str, fix: Correct
) -> list[_Match]:
    low = span.lower()
    for key, how in ((low, "exact"), (low.lstrip("./"), "exact")):
        if _lookup(table, key):
            return [_Match(start, end, span, "path", how, _lookup(table, key))]
    parts = re.split(r"([/.])", low)
    fixed = [fix(p) or p if p not in "/." else p for p in parts]
    key = "".join(fixed)
    if key != low and _lookup(table, key):
        return [_Match(start, end, span, "path", "fuzzy", _lookup(table, key))]
    return []


def _word_matches(
    table: EntityTable, text: str, taken: list[tuple[int, int]], fix: Correct
) -> list[_Match]:
    """Plain-word n-grams (and their plural-less and typo-corrected spellings)."""
    tokens = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]
    norm = [t[2].lower().replace("’", "'").strip("'-") for t in tokens]
    fixed = [fix(w) if len(w) >= FUZZY_MIN else None for w in norm]
    # Each word's singular once: every n-gram ending at a word (up to six) needs it.
    single = [_singular(w) for w in norm]
    stop = [w in STOP_WORDS for w in norm]
    grams: list[tuple[int, int, int, list[tuple[str, str]], str]] = []
    for size in range(min(table.max_words, 6), 0, -1):
        for i in range(len(tokens) - size + 1):
            last = i + size - 1
            if size == 1 and (len(norm[i]) < 2 or stop[i]):
                continue
            if stop[i] and norm[i] != "the" or stop[last]:
                continue
            gram = norm[i : i + size]
            variants = [(" ".join(gram), "exact")]
            if gram[-1] != single[last]:
                variants.append((" ".join([*gram[:-1], single[last]]), "exact"))
            if gram[-1].endswith("'s"):
                variants.append((" ".join([*gram[:-1], gram[-1][:-2]]), "exact"))
            if any(fixed[i : i + size]):
                corrected = [f or w for f, w in zip(fixed[i : i + size], gram, strict=True)]
                variants.append((" ".join(corrected), "fuzzy"))
                variants.append((" ".join([*corrected[:-1], _singular(corrected[-1])]), "fuzzy"))
            bag = ""
            if 2 <= size <= 4:
                words = {single[j] for j in range(i, i + size) if norm[j] not in _FILLER}
                bag = entity_keys.bag_key(words) if len(words) >= 2 else ""
            grams.append((size, i, i + size - 1, variants, bag))
    table.prefetch([key for g in grams for key, _ in g[3]] + [g[4] for g in grams if g[4]] + norm)
    out: list[_Match] = []
    for size, first, last, variants, bag in grams:
        start, end = tokens[first][0], tokens[last][1]
        span = text[start:end]
        for key, how in variants:
            hits = _lookup(table, key)
            if not hits:
                continue
            people = [e for e in hits if e.type in ("person", "term")]
            tags = [e for e in hits if e.type == "tag"]
            rest = [e for e in hits if e.type not in ("person", "term", "tag")]
            if people:
                out.append(_Match(start, end, span, "alias", how, people))
            if rest:
                # "SessionStore"/"Settings" written as a class: an exact-case name.
                # "Settings", "README": spelled exactly as a class or a file stem is.
                exact_case = (
                    size == 1 and span.lower() != span and any(_exact_name(e) == span for e in rest)
                )
                # One word is weak unless it is spelled like a name: `ledger-export`.
                named = size == 1 and any(c in "-_" or c.isdigit() for c in norm[first])
                form = "phrase" if size > 1 or exact_case or named else "word"
                out.append(_Match(start, end, span, form, how, rest, exact_case))
            if tags:
                out.append(_Match(start, end, span, "tag", how, tags))
            break
        files = table.bag(bag) if bag else []
        if files and not _covered(start, end, taken):
            out.append(_Match(start, end, span, "phrase", "path-words", files))
    # "in conftest", "the queue module": a file stem with a file cue is a file, strongly.
    for i, (start, end, _word) in enumerate(tokens):
        before = norm[i - 1] if i else ""
        after = norm[i + 1] if i + 1 < len(norm) else ""
        if before == "in" or after in _FILE_CUE_AFTER:
            files = [e for e in _lookup(table, norm[i]) if e.type == "file"]
            if files and norm[i] not in STOP_WORDS:
                out.append(_Match(start, end, text[start:end], "phrase", "exact", files))
    return out


def _exact_name(entity: Entity) -> str:
    if entity.type == "file":
        return PurePosixPath(entity.name).stem
    return entity.name.rsplit(".", 1)[-1]


def _covered(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return any(s <= start and end <= e for s, e in taken)


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in taken)


def _dedupe(entities: list[Entity]) -> list[Entity]:
    if len(entities) < 2:  # most n-grams of a text name nothing: no dict for them
        return list(entities)
    seen: dict[str, Entity] = {}
    for entity in entities:
        seen.setdefault(entity.node, entity)
    return list(seen.values())


def _described_adr(text: str, table: EntityTable) -> list[_Match]:
    """The ADR a text describes ("the ADR about the job queue"): most title words shared.

    The match spans from "ADR" to the last shared word, so "job queue" is not linked again.
    """
    low = text.lower()
    found = re.search(r"\badrs?\b", low)
    if not found:
        return []
    tail = [(m.end(), _singular(m.group(0))) for m in re.finditer(r"[a-z]{3,}", low[found.end() :])]
    words = {w for _, w in tail} - STOP_WORDS
    best: list[tuple[int, Entity, set[str]]] = []
    for key, entities in table.adr_files():
        m = _ADR_PATH.match(key)
        if not m:
            continue
        slug = {_singular(w) for w in m.group(1).split("-")} - STOP_WORDS
        shared = words & slug
        if len(shared) >= 2:
            best += [(len(shared), e, shared) for e in entities if e.type == "file"]
    if not best:
        return []
    top = max(o for o, _, _ in best)
    chosen = _dedupe([e for o, e, _ in best if o == top])
    shared = set().union(*(s for o, _, s in best if o == top))
    end = found.end() + max(e for e, w in tail if w in shared)
    return [_Match(found.start(), end, text[found.start() : end], "phrase", "described", chosen)]


def _member_call(text: str, mention: _Match, table: EntityTable) -> _Match:
    """`SessionStore get()`: a class followed by one of its methods, called: the method."""
    after = re.match(r"\s*(?:'s\s+)?\.?([A-Za-z_]\w*)\(\)", text[mention.end :])
    if not after or not mention.entities:
        return mention
    owner = mention.entities[0]
    if owner.type != "symbol":
        return mention
    method = after.group(1)
    qual = owner.name + "." + method
    hits = [e for e in _lookup(table, qual.lower()) if e.name == qual]
    if not hits:
        return mention
    end = mention.end + after.end()
    return _Match(mention.start, end, text[mention.start : end], "code", mention.how, hits, True)


def find_mentions(
    text: str, table: EntityTable, limit_chars: int = 20_000, *, fuzzy: bool = True
) -> list[Mention]:
    """Every entity the text names, strongest first, one mention per node.

    Args:
        text: a request, a memory or any prose; only the first `limit_chars` are read.
        table: the index's entity table.
        fuzzy: also try one-edit typo corrections of unknown words of five letters or more.
    """
    text = text[:limit_chars]
    if not text.strip() or table.empty():
        return []
    fix = table.correct if fuzzy else _no_correction
    spans = _spans(text)
    table.prefetch(
        key
        for _, _, span, _ in spans
        for part in (span, *span.split("."))
        for key in (part.lower(), part.lower().lstrip("./"), _compact(part))
    )
    matches: list[_Match] = []
    for start, end, span, form in spans:
        if form == "path":
            matches += _path_matches(table, start, end, span, fix)
        else:
            matches += _code_matches(table, start, end, span, fix)
    matches += _described_adr(text, table)
    strong_spans = [(m.start, m.end) for m in matches]
    matches += _word_matches(table, text, strong_spans, fix)
    return _resolve(text, matches, table)


def _no_correction(word: str) -> str | None:
    return None


def _resolve(text: str, matches: list[_Match], table: EntityTable) -> list[Mention]:
    """Keep the best non-overlapping matches; pick one entity per span, list the rest."""
    taken: list[tuple[int, int]] = []
    chosen: list[_Match] = []
    tags: list[_Match] = []
    for match in sorted(matches, key=lambda m: m.rank, reverse=True):
        if match.form == "tag":
            tags.append(match)
            continue
        if _overlaps(match.start, match.end, taken):
            continue
        taken.append((match.start, match.end))
        chosen.append(_member_call(text, match, table))
    found: dict[str, Mention] = {}
    for match in chosen:
        order = _type_order(match.form, match.exact_case)
        entities = _dedupe(match.entities)
        best_type = min({e.type for e in entities}, key=lambda t: _index(order, t))
        same = [e for e in entities if e.type == best_type]
        if match.exact_case:
            tail = match.span.rsplit(".", 1)[-1]
            exact = [e for e in same if _exact_name(e) == tail or e.name == match.span]
            same = exact or same
        # The best six only: a common name (`get`) has thousands of definers.
        primary, *others = heapq.nsmallest(6, same, key=_preference)
        strong = match.form in ("path", "code", "alias", "phrase")
        mention = Mention(
            match.span,
            primary.node,
            primary.type,
            primary.name,
            strong,
            "alias" if match.form == "alias" and match.how == "exact" else match.how,
            tuple(e.node for e in others[:5]),
            match.start,
        )
        current = found.get(primary.node)
        if current is None or (mention.strong and not current.strong):
            found[primary.node] = mention
    for match in tags:
        for entity in match.entities:
            if entity.node not in found:
                found[entity.node] = Mention(
                    match.span, entity.node, "tag", entity.name, False, "tag", (), match.start
                )
    return sorted(found.values(), key=lambda m: (not m.strong, m.type == "tag", m.start))


def _preference(entity: Entity) -> tuple[bool, int, int, str]:
    return entity.preference


def _index(order: tuple[str, ...], kind: str) -> int:
    return order.index(kind) if kind in order else len(order)
