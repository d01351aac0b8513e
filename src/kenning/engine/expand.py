"""Plan expansions: from the entities a request names to the code and memories around them.

A plan (see `kenning.engine.route`) lists expansions by name; this module runs them over the
index, read-only, and returns hits whose `named` field says why each is here:

- `callers`: code chunks that call a named symbol (found by full-text search on its name, kept
  only when the text has a call `name(`), the definition itself and tests excluded;
- `tests`: chunks in test files that mention a named symbol or a named file's module;
- `recent_decisions`: active decisions and rules with a `mention` edge to a named symbol or file
  or to a file in play, newest first;
- `docs`: documentation chunks that mention a named symbol or file.

Every expansion is bounded (`limit` hits each) and costs a few indexed queries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from kenning.engine.link import Mention
from kenning.engine.retrieve import Hit, Retriever
from kenning.index.terms import split_identifier

TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|__tests__|spec|specs)/|(?:^|/)test_[^/]+$|_test\.\w+$|\.(?:test|spec)\.\w+$"
)


@dataclass
class Expansion:
    """Hits found by expanding a plan: code (callers, tests, docs) and memories."""

    code: list[Hit] = field(default_factory=list)
    memories: list[Hit] = field(default_factory=list)

    def refs(self) -> list[str]:
        return [h.ref for h in self.code + self.memories]


@dataclass(frozen=True)
class _Named:
    node: str
    path: str
    qual: str | None

    @property
    def label(self) -> str:
        return self.qual or self.path

    @property
    def name(self) -> str:
        if self.qual:
            return self.qual.rsplit(".", 1)[-1]
        return PurePosixPath(self.path).stem


def is_test_path(path: str) -> bool:
    return bool(TEST_PATH.search(path))


def _named(mentions: Sequence[Mention], files: Sequence[str]) -> list[_Named]:
    out: list[_Named] = []
    for m in mentions:
        if not m.strong:
            continue
        if m.node.startswith("sym:"):
            path, _, qual = m.node[4:].partition("::")
            out.append(_Named(m.node, path, qual))
        elif m.node.startswith("file:"):
            out.append(_Named(m.node, m.node[5:], None))
    out += [_Named(f"file:{f}", f, None) for f in files]
    unique = {n.node: n for n in reversed(out)}
    return [n for n in out if unique.get(n.node) is n][:4]


def run_expansions(
    retriever: Retriever,
    expand: Sequence[str],
    mentions: Sequence[Mention],
    files: Sequence[str] = (),
    paths_in_play: Sequence[str] = (),
    limit: int = 3,
) -> Expansion:
    """The hits the plan's expansions add for these named entities."""
    out = Expansion()
    named = _named(mentions, files)
    if not expand:
        return out
    if "callers" in expand:
        out.code += _callers(retriever, [n for n in named if n.qual], limit)
    if "tests" in expand:
        out.code += _tests(retriever, named, limit)
    if "docs" in expand:
        out.code += _docs(retriever, named, min(limit, 2))
    if "recent_decisions" in expand:
        out.memories += _recent_decisions(retriever, named, paths_in_play, limit)
    first: dict[int, Hit] = {}
    for hit in out.code:
        first.setdefault(hit.chunk_id, hit)
    out.code = list(first.values())
    return out


# A name in more than this share of the code chunks, and in more than COMMON_NAME_ROWS of them
# (`get`, `run` in a large repository), says nothing about which callers, tests or docs are
# meant, and scoring every chunk that holds it took up to 121 ms of a brief at 10k files (the
# `expand` stage's p99 in `kenning bench latency` was 36-102 ms before this guard). Small
# repositories are searched whatever the name: scoring them is cheap.
COMMON_NAME_SHARE = 0.02
COMMON_NAME_ROWS = 1000


def _search(retriever: Retriever, name: str, kinds: tuple[str, ...], pool: int) -> list[Hit]:
    rows, share = retriever.code_frequency(name)
    if rows > COMMON_NAME_ROWS and share > COMMON_NAME_SHARE:
        return []
    ranked = retriever.lexical([name], kinds, pool)
    found = retriever.fetch([cid for cid, _ in ranked])
    return [found[cid] for cid, _ in ranked if cid in found]


def _callers(retriever: Retriever, named: list[_Named], limit: int) -> list[Hit]:
    out: list[Hit] = []
    for target in named[:2]:
        call = re.compile(rf"(?<![\w]){re.escape(target.name)}\s*\(")
        owner = target.qual.rsplit(".", 1)[0] if target.qual and "." in target.qual else None
        # A method is called through its class: `store.get(` is only a caller when the chunk
        # also names SessionStore (or session_store).
        owner_rx = (
            re.compile(rf"{re.escape(owner)}|{'_'.join(split_identifier(owner))}", re.IGNORECASE)
            if owner
            else None
        )
        for hit in _search(retriever, target.name, ("symbol", "file"), 15):
            if owner_rx is not None and not owner_rx.search(hit.text):
                continue
            if hit.path == target.path and hit.symbol == target.qual:
                continue  # the definition
            if is_test_path(hit.path) or not call.search(hit.text):
                continue
            if hit.symbol and hit.symbol.rsplit(".", 1)[-1] == target.name:
                continue  # another definition of the same name
            hit.named = f"calls `{target.label}`, which the request names"
            out.append(hit)
            if len(out) >= limit * (named.index(target) + 1):
                break
    return out[: limit * 2]


def _tests(retriever: Retriever, named: list[_Named], limit: int) -> list[Hit]:
    out: list[Hit] = []
    for target in named[:2]:
        words = re.compile(rf"(?<![\w]){re.escape(target.name)}(?![\w])")
        for hit in _search(retriever, target.name, ("symbol", "file"), 20):
            if not is_test_path(hit.path) or hit.path == target.path:
                continue
            if not words.search(hit.text):
                continue
            hit.named = f"tests `{target.label}`"
            out.append(hit)
            if sum(1 for h in out if h.named == f"tests `{target.label}`") >= limit:
                break
    return out[: limit * 2]


def _docs(retriever: Retriever, named: list[_Named], limit: int) -> list[Hit]:
    out: list[Hit] = []
    for target in named[:3]:
        for hit in _search(retriever, target.name, ("doc",), 10)[:limit]:
            hit.named = f"documents `{target.label}`"
            out.append(hit)
    return out[: limit * 2]


def _recent_decisions(
    retriever: Retriever, named: list[_Named], paths: Sequence[str], limit: int
) -> list[Hit]:
    nodes = [n.node for n in named] + [f"file:{p}" for p in paths]
    nodes += [f"file:{n.path}" for n in named if n.qual]
    nodes = list(dict.fromkeys(nodes))
    if not nodes:
        return []
    marks = ",".join("?" * len(nodes))
    rows = retriever.db.execute(
        f"SELECT DISTINCT substr(src, 5), dst FROM edges WHERE kind = 'mention' "
        f"AND dst IN ({marks}) AND src LIKE 'mem:%'",
        nodes,
    ).fetchall()
    about: dict[str, str] = {}
    for ref, dst in rows:
        about.setdefault(ref, dst.split(":", 1)[1])
    hits: list[Hit] = []
    for ref, target in about.items():
        hit = retriever.by_ref(ref)
        if hit is None or hit.kind not in ("decision", "rule") or hit.status != "active":
            continue
        hit.named = f"recent {hit.kind} about {target.split('::')[-1]}"
        hits.append(hit)
    hits.sort(key=lambda h: -(h.created or 0.0))
    return hits[:limit]
