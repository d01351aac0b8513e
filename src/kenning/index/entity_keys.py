"""The derived lookup keys of entity names, written to the index beside the names themselves.

A request says `computeInvoiceTotal`, "the job queue module" or "the ledger-export tool"; the
index holds `compute_invoice_total`, `jobs/queue.py` and `tools/ledger-export/main.go`. The keys
that bridge them (a compact spelling of every symbol, the folder name of an `__init__.py` or
`main.go`, the bag of words of a path's last parts, an alias without its hyphen) are derived once
here and stored as `entities` rows with `derived = 1` (bags with `derived = 2` under a key that
starts with `BAG`), so linking a request is a handful of indexed lookups instead of loading
hundreds of thousands of names into memory first. The in-memory table used for bulk linking and
tests derives the same keys with the same functions, so the two cannot disagree.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import PurePosixPath

from kenning.index.terms import split_identifier

# Starts every path-word-bag key: a character no request span can contain.
BAG = "\x1f"
DERIVED = 1
BAG_ROW = 2

# Stems of files that stand for their folder (`jobs/__init__.py` is "the jobs module").
_INDEX_STEMS = frozenset(("__init__", "index", "main", "mod", "lib", "app"))
# Of those, the stems too generic to be a file's own name; `app` is also what people call
# `app.py` ("the app module"), so it stays one.
_NAMELESS_STEMS = _INDEX_STEMS - {"app"}
_CODE_EXTS = frozenset(("py", "pyi", "js", "ts", "go", "rs", "java"))
_KEY_WORDS = re.compile(r"[\s/._-]+")
FUZZY_MIN = 5


def compact(name: str) -> str:
    """`compute_invoice_total` and `computeInvoiceTotal` both become `computeinvoicetotal`."""
    return name.lower().replace("_", "")


def singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def bag_key(words: Iterable[str]) -> str:
    return BAG + " ".join(sorted(set(words)))


def symbol_keys(qualname: str) -> list[str]:
    """Compact spellings of a symbol's qualified and bare names."""
    return [compact(qualname), compact(qualname.rsplit(".", 1)[-1])]


def file_keys(path: str) -> tuple[list[str], list[str]]:
    """(keys, bag keys) of a file: its folder's name for index-like files, ADR numbers, and
    the word bags of its last two or three path parts."""
    pure = PurePosixPath(path)
    parts = [p.lstrip(".") for p in pure.parts[:-1]]
    stem = pure.stem.lower()
    ext = pure.suffix.lstrip(".").lower()
    keys: list[str] = []
    if stem in _INDEX_STEMS and parts:
        keys += [parts[-1].lower(), parts[-1].lower().replace("-", " ").replace("_", " ")]
    adr = re.match(r"(\d{3,5})-(.+)", stem)
    if adr and parts and parts[-1].lower() in ("adr", "adrs", "decisions"):
        number = adr.group(1)
        keys += [f"adr {number}", f"adr {int(number)}", f"adr-{number}"]
    bags: list[str] = []
    words = [singular(p.lower()) for p in parts[-2:]] + [singular(stem)]
    for size in (2, 3):
        tail = [w for w in words[-size:] if w]
        if len(tail) == size and all(len(w) >= 3 for w in tail):
            bags.append(bag_key(tail))
            if ext and ext not in _CODE_EXTS:
                bags.append(bag_key([*tail, ext]))
    return keys, bags


def alias_variant(norm: str) -> str | None:
    """ "Point-of-sale" is also asked about as "point of sale"; "Dana's" as "dana"."""
    if "-" in norm or "'" in norm:
        return norm.replace("-", " ").replace("'s", "").replace("'", "")
    return None


Row = tuple[str, str, str, str]  # (norm, name, node, type)


def file_rows(path: str) -> list[Row]:
    """A file's names: its path, file name, stem (unless generic) and last two to four parts."""
    pure = PurePosixPath(path)
    names = {path.lower(), pure.name.lower()}
    if pure.stem and pure.stem not in _NAMELESS_STEMS:
        names.add(pure.stem.lower())
    parts = pure.parts
    for n in range(2, min(len(parts), 4) + 1):
        names.add("/".join(parts[-n:]).lower())
    return [(name, path, f"file:{path}", "file") for name in names]


def symbol_rows(path: str, qualnames: Iterable[str]) -> list[Row]:
    """The names of a file's symbols: qualified, bare, and the bare name's words."""
    rows: list[Row] = []
    for qualname in qualnames:
        name = qualname.rsplit(".", 1)[-1]
        node = f"sym:{path}::{qualname}"
        names = {qualname, name}
        split = " ".join(split_identifier(name))
        if split and " " in split:
            names.add(split)
        rows += [(alias.lower(), qualname, node, "symbol") for alias in names]
    return rows


def derived_rows(rows: Iterable[Row]) -> list[tuple[str, str, str, str, int]]:
    """The derived (key, name, node, type, derived) rows of some name rows, in order.

    Symbols and files get their derived keys once per node (from the first row seen); an alias
    variant follows the row it comes from. Keys equal to one of the node's own names are left
    out: they would find the same entity twice.
    """
    rows = list(rows)
    own: dict[str, set[str]] = {}
    for norm, _name, node, _kind in rows:
        names = own.get(node)
        if names is None:
            own[node] = {norm.strip()}
        else:
            names.add(norm.strip())
    out: list[tuple[str, str, str, str, int]] = []
    done: set[str] = set()
    for norm, name, node, kind in rows:
        bags: list[str] = []
        if kind == "symbol" or kind == "file":
            if node in done:
                continue
            done.add(node)
            if kind == "symbol":
                keys = symbol_keys(name)
            else:
                keys, bags = file_keys(name)
        elif kind == "person" or kind == "term":
            variant = alias_variant(norm)
            if variant is None:
                continue
            keys = [variant]
        else:
            continue
        names = own[node]
        for key in keys:
            key = key.strip()
            if key and key not in names:
                names.add(key)
                out.append((key, name, node, kind, DERIVED))
        out.extend((bag, name, node, kind, BAG_ROW) for bag in dict.fromkeys(bags))
    return out


_WORD_RUN = re.compile(r"[^\s/._-]{" + str(FUZZY_MIN) + ",}")


def key_words(keys: Iterable[str]) -> set[str]:
    """The words of lookup keys long enough to be typo-corrected towards (the runs between
    separators, found in one pass over all keys)."""
    return set(_WORD_RUN.findall("\n".join(k for k in keys if not k.startswith(BAG))))


class Words:
    """The typo words and their characters already written by this run (most repeat from file
    to file; looking each up again was a fifth of the writer's time at 10k files)."""

    def __init__(self) -> None:
        self.written: set[str] = set()
        self.chars: set[str] = set()

    def new(self, words: AbstractSet[str]) -> AbstractSet[str]:
        fresh = words - self.written
        self.written |= fresh
        return fresh

    def flush(self, db: sqlite3.Connection) -> None:
        """Record the characters seen (`meta.entity_alphabet`) once, at the end of the run."""
        if self.chars:
            extend_alphabet(db, self.chars)
            self.chars = set()


def extend_alphabet(db: sqlite3.Connection, words: Iterable[str]) -> None:
    """Record the characters of the typo words (`meta.entity_alphabet`): corrections are
    generated over them, and a character no known word has cannot be part of one."""
    chars = set("".join(words))
    row = db.execute("SELECT value FROM meta WHERE key = 'entity_alphabet'").fetchone()
    known = set(row[0]) if row else set()
    if not chars <= known:
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('entity_alphabet', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            ("".join(sorted(known | chars)),),
        )


@dataclass(frozen=True)
class NameRows:
    """Some entity name rows with their derived keys and typo words: everything about them that
    needs no database, so an index run computes it in the parser processes, not the writer."""

    rows: list[Row]
    derived: list[tuple[str, str, str, str, int]]
    words: frozenset[str]


def name_rows(rows: list[Row]) -> NameRows:
    derived = derived_rows(rows)
    found = key_words([r[0] for r in rows] + [r[0] for r in derived])
    return NameRows(rows, derived, frozenset(found))


def write(
    db: sqlite3.Connection, doc_id: int | None, rows: list[Row], words: Words | None = None
) -> None:
    """Insert a document's entity names, their derived keys and the typo words they hold.

    With `words` (one per index run), words already written are skipped and the alphabet is
    recorded by `words.flush` at the end; without it, here.
    """
    if rows:
        write_names(db, doc_id, name_rows(rows), words)


def write_names(
    db: sqlite3.Connection, doc_id: int | None, names: NameRows, words: Words | None = None
) -> None:
    """`write` for rows whose keys and words were computed already (`name_rows`)."""
    if not names.rows:
        return
    db.executemany(
        "INSERT INTO entities (norm, name, node, type, derived, doc_id) VALUES (?, ?, ?, ?, ?, ?)",
        [(*row, 0, doc_id) for row in names.rows] + [(*row, doc_id) for row in names.derived],
    )
    fresh = words.new(names.words) if words is not None else names.words
    if fresh:
        db.executemany(
            "INSERT OR IGNORE INTO entity_words (word) VALUES (?)", [(w,) for w in fresh]
        )
        if words is not None:
            words.chars.update("".join(fresh))
        else:
            extend_alphabet(db, fresh)
