"""File ranking: which files of the project a request is about, from the index's chunk evidence.

Chunk search answers "which passages match"; a change request asks "which files will I touch",
and a file that matches in five functions is a better answer than one short chunk that happens to
repeat a word. `FileRanker.rank` turns the chunk rankers' pools into a file ranking:

1. **Chunk evidence, aggregated per file.** Each file's lexical (BM25) and dense chunk scores,
   best first, are summed with a decay (1, 1/2, 1/4, ...), so several matching chunks add up
   but a long file cannot win on volume alone; each signal is then scaled by its best file.
2. **Names.** Request words that name a file's path words (`timeout` → `test_timeouts.py`,
   `urls` → `_urls.py`) count by how rare the word is among the project's paths; identifiers the
   request names that a file *defines* (`edit`, `ParamType`, `isolated_filesystem` → the files
   with a function or class of that name) count by how few files define them, code-like names
   (in backticks, snake_case, CamelCase, dotted) twice as much as plain words. A file the
   request names outright counts most: by file name or path (`neighbours.py`,
   `httpx/_client.py`), or as the module of a dotted name or a code-like file name
   (`scan.IGNORE_FILES`, `test_mention_relink`), anywhere in the request (long requests' search
   terms stop at 32 words; their later sentences often name the files).
3. **History.** Each file's recent commit messages (`kenning.index.githistory`) are searched
   with the request (BM25, scaled by the best file): a request that reads like earlier changes
   to a file is evidence for it ("the flaky retry again" → the files whose commits said retry).
4. **Neighbours.** The best few files lend part of their score along `import` and `cochange`
   edges (one step of a random walk: each edge by its share of the file's edge weight), and to
   their test or source counterpart (`_client.py` ↔ `test_client.py`).

Invariants: reads only; per request, the SQL is a handful of indexed look-ups bounded by the
pools' sizes and the `neighbours_of` files, and one FTS query over the per-file histories (the
path-word table is built once per index generation). Scores are in [0, 1]-ish units, relative
to the request's best file.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Protocol, TypeVar

from kenning.index.db import get_meta
from kenning.index.terms import (
    STOP_WORDS,
    fts_query,
    is_mixed_case,
    query_terms,
    split_identifier,
)

_PATH_WORD = re.compile(r"[A-Za-z0-9]+")
_TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|__tests__|spec|specs)/|(?:^|/)test_[^/]+$|_test\.\w+$|\.(?:test|spec)\.\w+$"
)
# Path words too common to say anything (a word on more files than this share is ignored).
_COMMON_PATH_WORD = 0.2
# Files sharing one path word beyond this count are not looked up by name (bounded work).
_MAX_NAME_FILES = 200
# A name defined in more files than this (`get`, `__init__`, `main`) does not say which is meant.
_MAX_DEFINERS = 5
# A module name with more test (or source) counterparts than this (`__init__`, `utils` across a
# monorepo) pairs with none: the pair would be a guess, and checking each cost ~1 ms a request.
_MAX_PAIRS = 10
# How many of the request's words the path-word signal looks up (the search takes 32).
_NAME_TERMS = 128
# How many files the history signal reads (the best matches of the request in commit messages).
_HISTORY_FILES = 30
# A token that may name a file: `path/to/_client.py`, `neighbours.py`, `scan.IGNORE_FILES`,
# `test_mention_relink` (words, dots, slashes and dashes; edge punctuation is stripped).
_MENTION = re.compile(r"[A-Za-z0-9-]*[._/][A-Za-z0-9_./-]*")
# File suffixes: `config.toml` names a file (perhaps not indexed), `scan.IGNORE_FILES` a member.
_FILE_SUFFIXES = frozenset(
    "py pyi md rst txt html css js jsx ts tsx json toml yaml yml cfg ini lock go rs rb java c h"
    " cpp hpp cs php sh sql swift kt scala lua r ipynb".split()
)
# Files a dotted name's module part does not mean (`kenning.index.terms` is not `index.html`).
_NOT_MODULES = (".md", ".rst", ".txt", ".html", ".css", ".json", ".toml", ".yaml", ".yml", ".cfg")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_BACKTICKED = re.compile(r"`([^`\n]{1,200})`")


@dataclass
class FileWeights:
    """How much each signal counts in a file's score."""

    lexical: float = 1.0
    dense: float = 0.6
    name: float = 0.5
    defines: float = 0.5
    neighbour: float = 0.35
    pair: float = 0.3
    history: float = 0.3
    mention: float = 0.8
    decay: float = 0.5
    neighbours_of: int = 5


@dataclass
class RankedFile:
    """A file and why it ranks where it does (each signal's contribution)."""

    path: str
    score: float = 0.0
    signals: dict[str, float] = field(default_factory=dict)
    best_chunk: int | None = None

    def why(self, short: bool = False) -> str:
        """The strongest reasons, in words (`short`: a few words each, for one-line listings)."""
        words = _SHORT_WHY if short else _WHY
        top = sorted(self.signals.items(), key=lambda kv: -kv[1])
        return "; ".join(words[k] for k, v in top[:2] if v > 0 and k in words)


_WHY = {
    "lexical": "its code matches the request's words",
    "dense": "its code is close in meaning",
    "name": "its path names what the request names",
    "defines": "it defines what the request names",
    "neighbour": "changes together with / imports the top files",
    "pair": "test or source of a top file",
    "history": "its past commit messages match the request",
    "mention": "the request names this file",
}
_SHORT_WHY = {
    "lexical": "matches the request",
    "dense": "close in meaning",
    "name": "its path names it",
    "defines": "defines a name in the request",
    "neighbour": "changes with the top files",
    "pair": "test/source of a top file",
    "history": "its past commits match",
    "mention": "the request names it",
}


def stem(word: str) -> str:
    """A crude stem for matching request words to path words (`timeouts` ~ `timeout`)."""
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:7]


def path_words(path: str) -> set[str]:
    """Stems of a path's words: directories, the file name and its identifier parts."""
    pure = PurePosixPath(path)
    out: set[str] = set()
    for part in (*pure.parent.parts, pure.stem):
        for word in _PATH_WORD.findall(part):
            out.add(stem(word))
            out.update(stem(p) for p in split_identifier(word))
    return {w for w in out if len(w) > 1}


def is_test_path(path: str) -> bool:
    """True for a file under a tests/ folder or named like a test."""
    return bool(_TEST_PATH.search(path))


def core_name(path: str) -> str:
    """The module a source or test file is about: `_client.py`, `test_client.py` → `client`."""
    name = PurePosixPath(path).stem.lower().lstrip("_")
    name = name.removeprefix("test_").removesuffix("_test").removesuffix(".test")
    return name.removesuffix(".spec").strip("_")


def request_identifiers(text: str) -> dict[str, float]:
    """The names a request mentions that code could define, with a weight: 1.0 for code-like
    ones (in backticks, snake_case, CamelCase, or a dotted path's parts), 0.5 for plain words.
    Stop words and names shorter than three characters are left out."""
    text = text[:4000]
    quoted = {m for span in _BACKTICKED.findall(text) for m in _IDENTIFIER.findall(span)}
    out: dict[str, float] = {}
    for token in _IDENTIFIER.findall(text):
        for part in token.split("."):
            if len(part) < 3 or part.lower() in STOP_WORDS:
                continue
            code_like = (
                token in quoted or "." in token or "_" in part.strip("_") or is_mixed_case(part)
            )
            out[part] = max(out.get(part, 0.0), 1.0 if code_like else 0.5)
    return out


class Scored(Protocol):
    """A chunk hit as `order_by_files` sees it."""

    path: str
    score: float


S = TypeVar("S", bound=Scored)


def order_by_files(
    hits: Sequence[S], files: Sequence[RankedFile], *, tie: float = 0.05, repeat: float = 0.5
) -> list[S]:
    """Hits of ranked files re-scored to follow the file ranking, best first.

    A hit of a ranked file scores `(1 - tie)` × its file's score relative to the best file plus
    `tie` × its own score relative to the best such hit, on the scale of the best hit (so the
    scores stay comparable with the other hits, which keep theirs); then `spread_over_files`.
    Scores are changed in place.
    """
    file_score = {f.path: f.score for f in files}
    ours = [h for h in hits if h.path in file_score]
    if ours and file_score:
        scale = max(h.score for h in ours)
        best_file = max(file_score.values())
        for hit in ours:
            own = hit.score / scale if scale > 0 else 0.0
            hit.score = scale * ((1 - tie) * file_score[hit.path] / best_file + tie * own)
    return spread_over_files(hits, repeat)


def spread_over_files(hits: Sequence[S], repeat: float = 0.5) -> list[S]:
    """Hits best first, where the n-th best hit of a file keeps `repeat ** n` of its score (in
    place), so one file does not take every top place."""
    seen: dict[str, int] = defaultdict(int)
    for hit in sorted(hits, key=lambda h: -h.score):
        hit.score *= repeat ** seen[hit.path]
        seen[hit.path] += 1
    return sorted(hits, key=lambda h: -h.score)


class FileRanker:
    """Ranks an index's files for a request; keeps a path-word table per index generation."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._generation: str | None = None
        self._by_word: dict[str, list[str]] = {}
        # Module name -> (its source files, its test files).
        self._by_core: dict[str, tuple[list[str], list[str]]] = {}
        self._files = 0
        # Per path, kept across generations (a re-index rarely adds or renames files): whether
        # it is a test ("t") or source ("s") file, its module name, then its path words.
        self._words_of: dict[str, tuple[str, ...]] = {}

    def refresh(self) -> None:
        """Reload the path-word table when the index's files changed (one query over documents;
        an index change that only rewrote files keeps the tables)."""
        generation = get_meta(self.db, "generation", "0")
        if generation == self._generation:
            return
        self._generation = generation
        paths = [p for (p,) in self.db.execute("SELECT path FROM documents WHERE source = 'repo'")]
        if len(paths) == len(self._words_of) and all(p in self._words_of for p in paths):
            return  # the same files (an edit, not an addition): the tables stand
        by_word: dict[str, list[str]] = defaultdict(list)
        by_core: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
        known = self._words_of
        words_of: dict[str, tuple[str, ...]] = {}
        for path in paths:
            words = known.get(path)
            if words is None:
                test = "t" if is_test_path(path) else "s"
                words = (test, core_name(path), *sorted(path_words(path)))
            words_of[path] = words
            for word in words[2:]:
                by_word[word].append(path)
            by_core[words[1]][1 if words[0] == "t" else 0].append(path)
        self._words_of = words_of
        self._by_word = dict(by_word)
        self._by_core = dict(by_core)
        self._files = len(words_of)

    def rank(
        self,
        terms: Sequence[str],
        lexical: Sequence[tuple[int, float]],
        dense: Sequence[tuple[int, float]] = (),
        *,
        k: int = 10,
        weights: FileWeights | None = None,
        suffixes: tuple[str, ...] = (),
        request: str = "",
        known_paths: dict[int, str] | None = None,
    ) -> list[RankedFile]:
        """The `k` best files for a request with `terms`, given the chunk rankers' pools.

        Args:
            terms: the request's search terms (`kenning.index.terms.query_terms`).
            lexical: (chunk id, BM25 score) best first; chunks that are not code are ignored.
            dense: (chunk id, cosine) best first; likewise.
            k: how many files to return.
            weights: the signals' weights (defaults: `FileWeights()`).
            suffixes: only files whose path ends with one of these (all when empty).
            request: the request's text, for the names it mentions (path words, files it names,
                definitions).
            known_paths: code chunks' paths already looked up (the BM25 worker's), not read again.
        """
        weights = weights or FileWeights()
        self.refresh()
        known = known_paths or {}
        paths = self.chunk_paths([cid for cid, _ in (*lexical, *dense) if cid not in known])
        paths.update(known)
        files: dict[str, RankedFile] = {}

        def get(path: str) -> RankedFile:
            ranked = files.get(path)
            if ranked is None:
                ranked = files[path] = RankedFile(path)
            return ranked

        for signal, pool, weight in (
            ("lexical", lexical, weights.lexical),
            ("dense", dense, weights.dense),
        ):
            for path, (value, best) in _aggregate(pool, paths, weights.decay).items():
                ranked = get(path)
                ranked.signals[signal] = weight * value
                if ranked.best_chunk is None or signal == "lexical":
                    ranked.best_chunk = best
        # Path words are looked up in the whole request: a long one's search terms stop at its
        # first 32 words, and its later sentences often name the places it changes.
        name_terms = query_terms(request[:4000], limit=_NAME_TERMS) if request else terms
        for path, value in self._names(name_terms).items():
            get(path).signals["name"] = weights.name * value
        for path, value in self._definers(request_identifiers(request)).items():
            get(path).signals["defines"] = weights.defines * value
        if weights.mention > 0:
            for path, value in self._mentioned(request).items():
                get(path).signals["mention"] = weights.mention * value
        if weights.history > 0:
            for path, value in self._history(terms).items():
                get(path).signals["history"] = weights.history * value
        for ranked in files.values():
            ranked.score = sum(ranked.signals.values())
        self._spread(files, weights, suffixes)
        out = [
            f for f in files.values() if f.score > 0 and (not suffixes or f.path.endswith(suffixes))
        ]
        out.sort(key=lambda f: (-f.score, f.path))
        out = out[:k]
        self._first_chunks([f for f in out if f.best_chunk is None])
        return out

    def _first_chunks(self, files: Sequence[RankedFile]) -> None:
        """A file ranked only through a neighbour has no chunk in the pools: it is represented
        by its first code chunk (its head: docstring, imports, first definition)."""
        if not files:
            return
        by_path = {f.path: f for f in files}
        marks = ",".join("?" * len(by_path))
        # Through documents (unique path) and chunks_doc; `+c.kind` keeps the planner there.
        for cid, path in self.db.execute(
            f"SELECT c.id, d.path FROM documents d JOIN chunks c ON c.doc_id = d.id "
            f"WHERE d.path IN ({marks}) AND +c.kind IN ('file', 'symbol') "
            f"ORDER BY d.path, c.start_line",
            list(by_path),
        ):
            ranked = by_path[path]
            if ranked.best_chunk is None:
                ranked.best_chunk = int(cid)

    def chunk_paths(self, ids: Iterable[int]) -> dict[int, str]:
        """The path of each code chunk among `ids` (chunks of other kinds are left out)."""
        wanted = sorted(set(ids))
        out: dict[int, str] = {}
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            out.update(
                (int(cid), path)
                for cid, path in self.db.execute(
                    f"SELECT id, path FROM chunks WHERE id IN ({marks}) "
                    "AND kind IN ('file', 'symbol', 'doc')",
                    part,
                )
            )
        return out

    def _names(self, terms: Sequence[str]) -> dict[str, float]:
        """Files whose path words match request terms, scored by the words' rarity, in [0, 1]."""
        if not self._files:
            return {}
        scores: dict[str, float] = defaultdict(float)
        total = 0.0
        words = (t for t in terms if len(t) > 1 and not t.isdigit() and " " not in t)
        for term in dict.fromkeys(stem(t) for t in words):
            holders = self._by_word.get(term, [])
            if not holders or len(holders) > max(_MAX_NAME_FILES, 1):
                continue
            if len(holders) > _COMMON_PATH_WORD * self._files and self._files > 10:
                continue
            idf = math.log(1 + self._files / len(holders))
            total = max(total, idf)
            for path in holders:
                scores[path] += idf
        if not scores:
            return {}
        top = max(scores.values())
        return {path: value / top for path, value in scores.items()}

    def _definers(self, names: dict[str, float]) -> dict[str, float]:
        """Files that define the given names (functions, classes, methods), scored by how few
        files define each name and the name's weight, in [0, 1]."""
        if not names or not self._files:
            return {}
        wanted = list(names)[:40]
        marks = ",".join("?" * len(wanted))
        spread = dict(
            self.db.execute(
                f"SELECT name, COUNT(DISTINCT path) FROM symbols WHERE name IN ({marks}) "
                "GROUP BY name",
                wanted,
            ).fetchall()
        )
        rare = [n for n, count in spread.items() if count <= _MAX_DEFINERS]
        if not rare:
            return {}
        marks = ",".join("?" * len(rare))
        scores: dict[str, float] = defaultdict(float)
        for name, path in self.db.execute(
            f"SELECT DISTINCT name, path FROM symbols WHERE name IN ({marks})", rare
        ):
            scores[path] += names[name] * math.log(1 + self._files / spread[name])
        top = max(scores.values())
        return {path: value / top for path, value in scores.items()}

    def _mentioned(self, request: str) -> dict[str, float]:
        """Files the request names, in [0, 1]: by path or file name (`httpx/_client.py`,
        `neighbours.py`: 1.0), or by a module in a dotted name or a code-like file name
        (`scan.IGNORE_FILES`, `kenning.engine.filerank`, `test_mention_relink`: 0.5 each).
        A name more than `_MAX_DEFINERS` files share is left out (`__init__`, `utils`)."""
        if not request or not self._by_core:
            return {}
        scores: dict[str, float] = defaultdict(float)
        for token in dict.fromkeys(_MENTION.findall(request[:4000])):
            token = token.strip("./-")
            head, _, name = token.rpartition("/")
            module, _, member = name.rpartition(".")
            if module and member.lower() in _FILE_SUFFIXES:  # a file name, perhaps with a path
                named = [p for p in self._named(name) if p == token or p.endswith("/" + token)]
                if len(named) <= _MAX_DEFINERS:
                    for path in named:
                        scores[path] += 1.0
                continue
            if head:
                continue
            if not module and "_" in name:  # one word: a code-like name (`test_auth`, `_urls`)
                module = name
            for part in module.split(".") if module else ():
                holders = self._named(part + ".")
                if len(holders) <= _MAX_DEFINERS:
                    for path in holders:
                        if not path.endswith(_NOT_MODULES):
                            scores[path] += 0.5
        return {path: min(value, 1.0) for path, value in scores.items()}

    def _named(self, name: str) -> list[str]:
        """The files called `name` (`_client.py`), or whose name starts so (`scan.`: `scan.py`),
        case aside; found through the module-name table (bounded: `_MAX_NAME_FILES`)."""
        stem = name.split(".", 1)[0]
        sources, tests = self._by_core.get(core_name(stem + ".x"), ([], []))
        if len(sources) + len(tests) > _MAX_NAME_FILES:
            return []
        want = name.lower()
        return [p for p in (*sources, *tests) if p[p.rfind("/") + 1 :].lower().startswith(want)]

    def _history(self, terms: Sequence[str]) -> dict[str, float]:
        """Files whose recent commit messages match the request's terms (BM25 over each file's
        `file_history` row), scaled by the best file, in [0, 1]. Empty without git history."""
        expr = fts_query(list(terms))
        if not expr or not self._files:
            return {}
        try:
            rows = self.db.execute(
                "SELECT path, bm25(file_history) AS s FROM file_history "
                "WHERE file_history MATCH ? ORDER BY s LIMIT ?",
                (expr, _HISTORY_FILES),
            ).fetchall()
        except sqlite3.OperationalError:  # an index without the table (a reader of an old one)
            return {}
        scores = {str(path): -float(s) for path, s in rows if path in self._words_of}
        top = max(scores.values(), default=0.0)
        return {path: v / top for path, v in scores.items() if v > 0} if top > 0 else {}

    def _spread(
        self, files: dict[str, RankedFile], weights: FileWeights, suffixes: tuple[str, ...]
    ) -> None:
        """The best files lend score to their graph neighbours and test/source counterparts."""
        ranked = sorted(
            (
                f
                for f in files.values()
                if f.score > 0 and (not suffixes or f.path.endswith(suffixes))
            ),
            key=lambda f: (-f.score, f.path),
        )[: weights.neighbours_of]
        if not ranked:
            return
        top = ranked[0].score
        lent: dict[str, float] = defaultdict(float)
        paired: dict[str, float] = defaultdict(float)
        for source, edges in self._neighbours([f.path for f in ranked]).items():
            share = files[source].score / top
            total = sum(edges.values())
            for path, weight in edges.items():
                lent[path] += share * weight / total
        for f in ranked:
            share = f.score / top
            sources, tests = self._by_core.get(core_name(f.path), ([], []))
            counterparts = sources if is_test_path(f.path) else tests
            if len(counterparts) > _MAX_PAIRS:
                continue
            for other in counterparts:
                paired[other] = max(paired[other], share)
        for signal, amounts, weight in (
            ("neighbour", lent, weights.neighbour),
            ("pair", paired, weights.pair),
        ):
            for path, value in amounts.items():
                target = files.get(path)
                if target is None:
                    target = files[path] = RankedFile(path)
                target.signals[signal] = weight * min(value, 1.0)
                target.score += weight * min(value, 1.0)

    def _neighbours(self, paths: Sequence[str]) -> dict[str, dict[str, float]]:
        """For each path, its import and co-change neighbours (files) with edge weights."""
        nodes = [f"file:{p}" for p in paths]
        marks = ",".join("?" * len(nodes))
        out: dict[str, dict[str, float]] = {p: {} for p in paths}
        for a, b, kind, weight in self.db.execute(
            f"SELECT src, dst, kind, weight FROM edges WHERE src IN ({marks}) "
            f"AND kind IN ('import', 'cochange') "
            f"UNION ALL SELECT dst, src, kind, weight FROM edges WHERE dst IN ({marks}) "
            f"AND kind IN ('import', 'cochange')",
            (*nodes, *nodes),
        ):
            if not b.startswith("file:") or a[5:] not in out:
                continue
            base = 1.0 if kind == "import" else 0.6 * (1.0 + math.log(max(weight, 1.0)))
            edges = out[a[5:]]
            edges[b[5:]] = edges.get(b[5:], 0.0) + base
        return {p: e for p, e in out.items() if e}


def _aggregate(
    pool: Sequence[tuple[int, float]], paths: dict[int, str], decay: float
) -> dict[str, tuple[float, int]]:
    """Per file: (decayed sum of its chunks' min-max scores scaled by the best file, best chunk)."""
    pool = [(cid, score) for cid, score in pool if cid in paths]
    if not pool:
        return {}
    high = max(s for _, s in pool)
    low = min(s for _, s in pool)
    span = high - low
    per_file: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for cid, score in pool:
        # Floored at 0.05 so the pool's last chunk still counts as evidence.
        per_file[paths[cid]].append(
            (0.05 + 0.95 * ((score - low) / span if span > 0 else 1.0), cid)
        )
    sums: dict[str, tuple[float, int]] = {}
    for path, scored in per_file.items():
        scored.sort(reverse=True)
        total = sum(s * decay**n for n, (s, _) in enumerate(scored[:6]))
        sums[path] = (total, scored[0][1])
    top = max(v for v, _ in sums.values())
    return {path: (v / top, best) for path, (v, best) in sums.items()}
