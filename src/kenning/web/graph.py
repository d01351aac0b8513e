"""The knowledge graph as the UI shows it: a node catalogue, an adjacency list, capped subgraphs.

Nodes are the index's own ids: `file:<path>`, `sym:<path>::<qualname>` and `mem:<id>` (a memory
of any kind). Rules imported from instruction files (AGENTS.md, `.cursor/rules/*.mdc` …) have no
node in the engine's graph; here they get `mem:<ref>` (a ref such as `AGENTS.md:7-7`, which no
memory id can clash with, since ids hold no ':') joined to their file by a `defines` edge.

A project of 10,000 files has tens of thousands of nodes, more than a browser can lay out and more
than a person can read, so the UI never receives the whole graph: it asks for an overview (the
best-connected nodes, memories first, up to a cap) or for one node's neighbourhood (breadth-first,
up to a cap). The catalogue and adjacency list are read once per index generation; after that each
answer is a walk over in-memory lists. The selection functions are pure and take plain data.

This module reads the index tables directly. The Workspace has no graph-reading API yet; when the
core grows one, these queries belong there.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MEMORY_KINDS: tuple[str, ...] = (
    "decision",
    "rule",
    "preference",
    "person",
    "term",
    "fact",
    "note",
)
NODE_KINDS: tuple[str, ...] = ("file", "symbol", *MEMORY_KINDS)
DEFAULT_LIMIT = 300
MAX_LIMIT = 2000
MAX_DEPTH = 3


@dataclass(frozen=True)
class Node:
    """One graph node as the UI draws it."""

    id: str
    kind: str
    label: str
    title: str
    status: str = "active"
    path: str | None = None

    def to_dict(self, degree: int) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "title": self.title,
            "degree": degree,
        }
        if self.status != "active":
            data["status"] = self.status
        if self.path:
            data["path"] = self.path
        return data


@dataclass(frozen=True)
class Link:
    """An undirected view of one edge: its other end, kind and weight."""

    other: str
    kind: str
    weight: float
    outgoing: bool


@dataclass
class Catalogue:
    """Every node of one index generation and, for each, its links."""

    nodes: dict[str, Node] = field(default_factory=dict)
    links: dict[str, list[Link]] = field(default_factory=lambda: defaultdict(list))

    def degree(self, node_id: str) -> int:
        return len(self.links.get(node_id, ()))

    def add_edge(self, src: str, dst: str, kind: str, weight: float) -> None:
        self.links[src].append(Link(dst, kind, weight, True))
        self.links[dst].append(Link(src, kind, weight, False))


@dataclass
class Subgraph:
    """A capped piece of the graph: nodes, the edges among them, and what was left out."""

    nodes: list[str]
    total: int
    truncated: bool
    focus: str | None = None

    def to_dict(self, catalogue: Catalogue) -> dict[str, Any]:
        chosen = set(self.nodes)
        edges: dict[tuple[str, str, str], float] = {}
        for node_id in self.nodes:
            for link in catalogue.links.get(node_id, ()):
                if not link.outgoing or link.other not in chosen or link.other == node_id:
                    continue
                key = (node_id, link.other, link.kind)
                edges[key] = max(edges.get(key, 0.0), link.weight)
        return {
            "nodes": [
                catalogue.nodes[n].to_dict(catalogue.degree(n))
                for n in self.nodes
                if n in catalogue.nodes
            ],
            "edges": [
                {"source": s, "target": t, "kind": k, "weight": round(w, 3)}
                for (s, t, k), w in edges.items()
            ],
            "total": self.total,
            "truncated": self.truncated,
            "focus": self.focus,
        }


def _label(text: str, width: int = 42) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def load_catalogue(db: sqlite3.Connection) -> Catalogue:
    """Read every node and edge of the index into memory."""
    cat = Catalogue()
    for (path,) in db.execute("SELECT path FROM documents WHERE source = 'repo'"):
        cat.nodes[f"file:{path}"] = Node(
            f"file:{path}", "file", _label(path.rsplit("/", 1)[-1]), path, path=path
        )
    for path, qualname, sym_kind, start, end in db.execute(
        "SELECT path, qualname, kind, start_line, end_line FROM symbols"
    ):
        node_id = f"sym:{path}::{qualname}"
        cat.nodes[node_id] = Node(
            node_id,
            "symbol",
            _label(qualname),
            f"{sym_kind} {qualname} · {path}:{start}-{end}",
            path=path,
        )
        cat.add_edge(f"file:{path}", node_id, "contains", 1.0)
    marks = ",".join("?" * len(MEMORY_KINDS))
    imported: list[tuple[str, str]] = []
    for kind, ref, title, status, path, source in db.execute(
        f"SELECT c.kind, c.ref, c.title, c.status, c.path, d.source FROM chunks c "
        f"JOIN documents d ON d.id = c.doc_id WHERE c.kind IN ({marks})",
        MEMORY_KINDS,
    ):
        node_id = f"mem:{ref}"
        cat.nodes[node_id] = Node(node_id, kind, _label(title), title, status, path)
        if source == "repo":
            imported.append((f"file:{path}", node_id))
    for src, dst, kind, weight in db.execute("SELECT src, dst, kind, weight FROM edges"):
        cat.add_edge(src, dst, kind, float(weight))
    for file_node, rule_node in imported:
        cat.add_edge(file_node, rule_node, "defines", 1.0)
    # Edges can name nodes whose rows are gone (a superseded id never indexed, say): keep the
    # catalogue closed under its links so every edge sent has both ends.
    for node_id in [n for n in cat.links if n not in cat.nodes]:
        kind = (
            "file"
            if node_id.startswith("file:")
            else "symbol"
            if node_id.startswith("sym:")
            else "note"
        )
        name = node_id.split(":", 1)[1]
        cat.nodes[node_id] = Node(
            node_id, kind, _label(name), f"{name} (not in the index)", "missing"
        )
    return cat


def _rank(cat: Catalogue, node_id: str) -> tuple[int, int, str]:
    node = cat.nodes[node_id]
    memory_first = 0 if node.kind in MEMORY_KINDS else 1
    return (memory_first, -cat.degree(node_id), node_id)


def overview(
    cat: Catalogue, kinds: Collection[str] = NODE_KINDS, limit: int = DEFAULT_LIMIT
) -> Subgraph:
    """The best-connected nodes of the allowed kinds, up to `limit`.

    Memories are taken first but never fill more than two thirds of the cap, so code stays in view;
    code nodes are taken by degree (hubs first), which keeps the picture connected.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    allowed = [n for n, node in cat.nodes.items() if node.kind in kinds]
    memories = sorted(
        (n for n in allowed if cat.nodes[n].kind in MEMORY_KINDS), key=lambda n: _rank(cat, n)
    )
    code = sorted(
        (n for n in allowed if cat.nodes[n].kind not in MEMORY_KINDS), key=lambda n: _rank(cat, n)
    )
    memory_cap = limit if not code else max(limit * 2 // 3, limit - len(code))
    chosen = memories[:memory_cap]
    chosen += code[: limit - len(chosen)]
    if len(chosen) < limit:
        chosen += memories[memory_cap : memory_cap + limit - len(chosen)]
    return Subgraph(chosen, total=len(allowed), truncated=len(allowed) > len(chosen))


def neighbourhood(
    cat: Catalogue,
    focus: str,
    depth: int = 1,
    kinds: Collection[str] = NODE_KINDS,
    limit: int = DEFAULT_LIMIT,
) -> Subgraph:
    """`focus` and the nodes within `depth` hops of it (through allowed kinds), up to `limit`.

    Nearer nodes come first; among equally near ones, memories and heavier, better-connected
    nodes win, so a hub file with 400 symbols shows its most telling neighbours.
    """
    if focus not in cat.nodes:
        return Subgraph([], total=0, truncated=False, focus=focus)
    limit = max(1, min(limit, MAX_LIMIT))
    depth = max(1, min(depth, MAX_DEPTH))
    seen = {focus}
    order = [focus]
    frontier = [focus]
    reachable = 1
    truncated = False
    for _ in range(depth):
        scored: dict[str, float] = {}
        for node_id in frontier:
            for link in cat.links.get(node_id, ()):
                other = link.other
                if other in seen or cat.nodes[other].kind not in kinds:
                    continue
                bonus = 2.0 if cat.nodes[other].kind in MEMORY_KINDS else 0.0
                score = link.weight + bonus + min(cat.degree(other), 50) / 50
                scored[other] = max(scored.get(other, 0.0), score)
        reachable += len(scored)
        ranked = sorted(scored, key=lambda n: (-scored[n], n))
        room = limit - len(order)
        if len(ranked) > room:
            truncated = True
            ranked = ranked[: max(room, 0)]
        seen.update(scored)
        order += ranked
        frontier = ranked
        if not frontier or len(order) >= limit:
            break
    return Subgraph(order, total=reachable, truncated=truncated, focus=focus)


def search(
    cat: Catalogue, query: str, kinds: Collection[str] = NODE_KINDS, limit: int = 20
) -> list[str]:
    """Node ids whose label or title holds every word of `query`, best matches first."""
    words = query.lower().split()
    if not words:
        return []
    needle = " ".join(words)
    found: list[tuple[int, int, str]] = []
    for node_id, node in cat.nodes.items():
        if node.kind not in kinds:
            continue
        label = node.label.lower()
        haystack = f"{label} {node.title.lower()} {node_id.lower()}"
        if not all(w in haystack for w in words):
            continue
        rank = (
            0 if label == needle else 1 if label.startswith(needle) else 2 if needle in label else 3
        )
        found.append((rank, -cat.degree(node_id), node_id))
    found.sort()
    return [n for _, _, n in found[: max(1, limit)]]


def details(cat: Catalogue, node_id: str, per_kind: int = 25) -> dict[str, Any] | None:
    """One node with its neighbours grouped by edge kind and direction (for the side panel)."""
    node = cat.nodes.get(node_id)
    if node is None:
        return None
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for link in sorted(cat.links.get(node_id, ()), key=lambda lk: (-lk.weight, lk.other)):
        key = _relation(link)
        counts[key] += 1
        if len(groups[key]) < per_kind and link.other in cat.nodes:
            other = cat.nodes[link.other]
            groups[key].append({"id": other.id, "kind": other.kind, "label": other.label})
    return {
        **node.to_dict(cat.degree(node_id)),
        "relations": [
            {"relation": key, "count": counts[key], "nodes": groups[key]}
            for key in sorted(groups, key=lambda k: -counts[k])
        ],
    }


_RELATIONS = {
    ("import", True): "imports",
    ("import", False): "imported by",
    ("contains", True): "contains",
    ("contains", False): "defined in",
    ("mention", True): "mentions",
    ("mention", False): "mentioned by",
    ("supersedes", True): "supersedes",
    ("supersedes", False): "superseded by",
    ("defines", True): "defines",
    ("defines", False): "defined in",
    ("cochange", True): "changes with",
    ("cochange", False): "changes with",
}


def _relation(link: Link) -> str:
    return _RELATIONS.get(
        (link.kind, link.outgoing), f"{link.kind}{'' if link.outgoing else ' (in)'}"
    )


def counts(cat: Catalogue) -> Mapping[str, int]:
    """How many nodes of each kind."""
    out: dict[str, int] = dict.fromkeys(NODE_KINDS, 0)
    for node in cat.nodes.values():
        out[node.kind] = out.get(node.kind, 0) + 1
    return out


def parse_kinds(values: Iterable[str] | str | None) -> tuple[str, ...]:
    """Node kinds from a query parameter (`kinds=file,rule`); unknown names are dropped."""
    if values is None:
        return NODE_KINDS
    if isinstance(values, str):
        values = values.split(",")
    chosen = tuple(k for k in (v.strip().lower() for v in values) if k in NODE_KINDS)
    return chosen or NODE_KINDS
