"""Capped subgraphs of the index: overview, neighbourhood, search, details; fast at 10k nodes."""

from __future__ import annotations

import sqlite3
import time

from kenning.index import schema
from kenning.web import graph
from kenning.workspace import Workspace


def test_catalogue_holds_files_symbols_and_every_memory_kind(workspace: Workspace) -> None:
    cat = graph.load_catalogue(workspace.db)
    counts = graph.counts(cat)
    for kind in ("file", "symbol", "decision", "rule", "preference", "person", "term"):
        assert counts[kind] > 0, kind
    node = cat.nodes["mem:money-is-integer-cents-b41a"]
    assert node.kind == "decision" and node.title == "Money is integer cents, never float"


def test_imported_rules_hang_off_their_instruction_file(workspace: Workspace) -> None:
    cat = graph.load_catalogue(workspace.db)
    rules = [
        n for n in cat.nodes.values() if n.kind == "rule" and n.id.startswith("mem:AGENTS.md:")
    ]
    assert rules
    links = cat.links[rules[0].id]
    assert any(link.other == "file:AGENTS.md" and link.kind == "defines" for link in links)


def test_every_edge_sent_has_both_ends(workspace: Workspace) -> None:
    cat = graph.load_catalogue(workspace.db)
    data = graph.overview(cat, limit=80).to_dict(cat)
    ids = {n["id"] for n in data["nodes"]}
    assert len(ids) == 80 and data["truncated"]
    assert data["edges"]
    assert all(e["source"] in ids and e["target"] in ids for e in data["edges"])


def test_overview_takes_memories_first_but_leaves_room_for_code(workspace: Workspace) -> None:
    cat = graph.load_catalogue(workspace.db)
    sub = graph.overview(cat, limit=30)
    kinds = [cat.nodes[n].kind for n in sub.nodes]
    memories = sum(k in graph.MEMORY_KINDS for k in kinds)
    assert memories == 20  # two thirds of the cap
    assert kinds.count("file") + kinds.count("symbol") == 10


def test_overview_filters_by_kind(workspace: Workspace) -> None:
    cat = graph.load_catalogue(workspace.db)
    sub = graph.overview(cat, kinds=("person", "term"))
    assert {cat.nodes[n].kind for n in sub.nodes} == {"person", "term"}
    assert not sub.truncated


def test_neighbourhood_of_a_decision_reaches_the_code_it_names(workspace: Workspace) -> None:
    cat = graph.load_catalogue(workspace.db)
    sub = graph.neighbourhood(cat, "mem:money-is-integer-cents-b41a", depth=1)
    assert sub.nodes[0] == "mem:money-is-integer-cents-b41a"
    assert "file:src/tidewater/money.py" in sub.nodes
    deeper = graph.neighbourhood(cat, "mem:money-is-integer-cents-b41a", depth=2, limit=20)
    assert len(deeper.nodes) == 20 and deeper.truncated and deeper.total > 20


def test_neighbourhood_of_an_unknown_node_is_empty(workspace: Workspace) -> None:
    cat = graph.load_catalogue(workspace.db)
    assert graph.neighbourhood(cat, "file:nope.py").nodes == []


def test_search_ranks_exact_labels_first(workspace: Workspace) -> None:
    cat = graph.load_catalogue(workspace.db)
    found = graph.search(cat, "money.py")
    assert found[0] == "file:src/tidewater/money.py"
    assert graph.search(cat, "priya")[0] == "mem:priya-raman-4c9a"
    assert graph.search(cat, "   ") == []
    assert all(cat.nodes[n].kind == "person" for n in graph.search(cat, "a", kinds=("person",)))


def test_details_group_relations_by_direction(workspace: Workspace) -> None:
    cat = graph.load_catalogue(workspace.db)
    data = graph.details(cat, "file:src/tidewater/money.py")
    assert data is not None
    relations = {r["relation"]: r for r in data["relations"]}
    assert "contains" in relations and "mentioned by" in relations
    assert graph.details(cat, "file:nope") is None


def test_parse_kinds_drops_unknown_names() -> None:
    assert graph.parse_kinds("file, rule,bogus") == ("file", "rule")
    assert graph.parse_kinds("bogus") == graph.NODE_KINDS
    assert graph.parse_kinds(None) == graph.NODE_KINDS


def _path(i: int) -> str:
    return f"src/pkg{i % 40}/module_{i}.py"


def _synthetic_index(files: int, symbols_per_file: int, memories: int) -> sqlite3.Connection:
    """A real (migrated) index schema filled with a 10k-node project's rows."""
    db = sqlite3.connect(":memory:")
    schema.migrate(db)
    with db:
        for f in range(files):
            path = _path(f)
            db.execute(
                "INSERT INTO documents (id, path, source, lang, mtime, size, hash) "
                "VALUES (?, ?, 'repo', 'python', 0, 0, '')",
                (f + 1, path),
            )
            for s in range(symbols_per_file):
                db.execute(
                    "INSERT INTO symbols (doc_id, name, qualname, kind, path, start_line, end_line) "
                    "VALUES (?, ?, ?, 'function', ?, 1, 2)",
                    (f + 1, f"fn_{s}", f"fn_{s}", path),
                )
            for step in (1, 7, 131):
                other = _path((f + step) % files)
                db.execute(
                    "INSERT INTO edges (src, dst, kind) VALUES (?, ?, 'import')",
                    (f"file:{path}", f"file:{other}"),
                )
        db.execute(
            "INSERT INTO documents (id, path, source, lang, mtime, size, hash) "
            "VALUES (0, '.kenning/memories', 'memory', 'memory', 0, 0, '')"
        )
        for m in range(memories):
            db.execute(
                "INSERT INTO chunks (doc_id, kind, ref, path, title, text, hash) "
                "VALUES (0, 'decision', ?, 'x.md', ?, '', '')",
                (f"decision-{m}", f"Decision number {m}"),
            )
            for t in range(3):
                target = _path((m * 13 + t) % files)
                db.execute(
                    "INSERT INTO edges (src, dst, kind) VALUES (?, ?, 'mention')",
                    (f"mem:decision-{m}", f"file:{target}"),
                )
    return db


def test_ten_thousand_nodes_answer_in_milliseconds() -> None:
    db = _synthetic_index(files=2_000, symbols_per_file=3, memories=2_000)
    started = time.perf_counter()
    cat = graph.load_catalogue(db)
    loaded = time.perf_counter() - started
    assert len(cat.nodes) == 10_000
    started = time.perf_counter()
    overview = graph.overview(cat, limit=300).to_dict(cat)
    focus = graph.neighbourhood(cat, "file:src/pkg0/module_0.py", depth=3, limit=100).to_dict(cat)
    found = graph.search(cat, "module_1999")
    answered = time.perf_counter() - started
    assert len(overview["nodes"]) == 300 and len(focus["nodes"]) == 100 and focus["truncated"]
    assert found[0] == "file:src/pkg39/module_1999.py"
    # Loading happens once per index generation; answers happen on every click.
    assert loaded < 2.0, f"catalogue took {loaded:.2f}s"
    assert answered < 0.5, f"three answers took {answered:.3f}s"
