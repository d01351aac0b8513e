"""fit_budget is pure: candidates in, items out, within budget, shares and quotas."""

from __future__ import annotations

from kenning.engine.pack import Candidate, PacketItem, fit_budget, focus_lines, item_tokens


def cand(kind: str, ref: str, words: int, score: float, quota: str | None) -> Candidate:
    return Candidate(PacketItem(kind, ref, f"title {ref}", "word " * words, score, "why"), quota)


QUOTAS = {"code": 2, "decision": 2, "rule": 2}


def test_pinned_first_then_code_and_memories_within_budget() -> None:
    pinned = [cand("rule", "r1", 20, 1.0, None)]
    code = [cand("symbol", f"a.py:{i}-{i}", 30, 0.5 - i / 100, "code") for i in range(1, 5)]
    memories = [cand("decision", f"d{i}", 30, 0.4, "decision") for i in range(3)]
    items = fit_budget(pinned, code, memories, 400, 0.5, QUOTAS)
    assert items[0].ref == "r1"
    assert sum(i.tokens for i in items) <= 400
    assert sum(i.kind == "symbol" for i in items) == 2  # quota
    assert sum(i.kind == "decision" for i in items) == 2


def test_pinned_items_cannot_starve_the_code() -> None:
    pinned = [cand("rule", f"r{i}", 80, 1.0, None) for i in range(6)]
    code = [cand("symbol", "a.py:1-10", 40, 0.3, "code")]
    items = fit_budget(pinned, code, [], 500, 0.6, QUOTAS)
    assert any(i.kind == "symbol" for i in items)
    assert sum(i.tokens for i in items if i.kind == "rule") <= 250


def test_unused_share_flows_to_the_other_side() -> None:
    memories = [cand("decision", f"d{i}", 60, 0.4, "decision") for i in range(2)]
    items = fit_budget([], [], memories, 300, 0.9, QUOTAS)
    assert [i.ref for i in items] == ["d0", "d1"]


def test_conflicts_listed_first_and_overlapping_code_spans_deduplicated() -> None:
    code = [cand("symbol", "a.py:1-20", 10, 0.9, "code"), cand("file", "a.py:5-8", 10, 0.8, "code")]
    memories = [cand("decision", "d0", 10, 0.1, "decision")]
    for c in code:
        c.source = object()
    items = fit_budget([], code, memories, 1000, 0.5, QUOTAS, first_refs=["d0"])
    assert [i.ref for i in items] == ["d0", "a.py:1-20"]


def test_focus_lines_keeps_the_signature_and_the_densest_window() -> None:
    body = ["def send(event):"] + [f"    step_{i}()" for i in range(200)] + ["    retry(event)"]
    text, first, last = focus_lines("\n".join(body), 10, ["retry"], 60)
    assert text.splitlines()[0] == "def send(event):" and "retry(event)" in text
    assert first == 10 and last == 10 + len(body) - 1
    assert item_tokens(PacketItem("symbol", "x", "t", text, 1.0, "w")) < 90


def listed(path: str, score: float) -> Candidate:
    item = PacketItem("file", f"{path}:1-9", path, "def f()", score, "matches", listing=True)
    return Candidate(item, None)


def test_listed_files_come_after_the_excerpts_and_skip_files_already_quoted() -> None:
    code = [
        cand("symbol", "a.py:1-10", 30, 0.9, "code"),
        cand("symbol", "b.py:1-10", 30, 0.8, "code"),
    ]
    listing = [listed(p, 0.9 - n / 10) for n, p in enumerate(["a.py", "c.py", "d.py", "e.py"])]
    items = fit_budget([], code, [], 1000, 0.6, QUOTAS, listing=listing, listing_quota=2)
    assert [i.ref for i in items if i.listing] == ["c.py:1-9", "d.py:1-9"]
    assert sum(i.kind == "symbol" for i in items) == 2


def test_listed_files_keep_their_room_when_memories_could_fill_the_budget() -> None:
    memories = [cand("decision", f"d{i}", 120, 0.9, "decision") for i in range(2)]
    listing = [listed(f"f{n}.py", 0.5) for n in range(4)]
    items = fit_budget([], [], memories, 300, 0.1, QUOTAS, listing=listing, listing_quota=4)
    assert sum(i.listing for i in items) >= 2
    assert sum(i.tokens for i in items) <= 300
