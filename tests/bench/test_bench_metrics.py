"""The shared scores and the plain BM25 baseline, on cases with a known answer."""

from __future__ import annotations

import pytest

from kenning.bench.metrics import BM25, RecallTable, hit_at, percentile, recall_at, words


def test_recall_and_hit_at_k() -> None:
    ranked = ["a", "x", "b", "y"]
    assert recall_at({"a", "b"}, ranked, 1) == 0.5
    assert recall_at({"a", "b"}, ranked, 3) == 1.0
    assert recall_at(set(), ranked, 3) == 0.0
    assert hit_at({"b"}, ranked, 2) == 0.0
    assert hit_at({"b"}, ranked, 3) == 1.0


def test_percentile_interpolates() -> None:
    assert percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)
    assert percentile([5.0], 99) == 5.0
    assert percentile([], 50) == 0.0


def test_words_drop_stop_words_and_lowercase() -> None:
    assert words("When did Caroline go to the LGBTQ support group?") == [
        "caroline",
        "go",
        "lgbtq",
        "support",
        "group",
    ]


def test_bm25_ranks_the_document_sharing_the_rare_term_first() -> None:
    docs = [
        words("the cat sat on the mat"),
        words("a dog chased the cat"),
        words("quantum chromodynamics lecture notes"),
    ]
    bm25 = BM25(docs)
    assert bm25.top(words("quantum lecture"), 3) == [2]
    assert bm25.top(words("dog cat"), 3)[0] == 1
    assert bm25.top(words("unrelated"), 3) == []


def test_bm25_prefers_the_shorter_document_at_equal_term_frequency() -> None:
    bm25 = BM25([["alpha", "beta", "gamma", "delta", "eps"], ["alpha", "beta"]])
    assert bm25.top(["alpha"], 2) == [1, 0]


def test_recall_table_groups_and_overall() -> None:
    table = RecallTable((1, 5))
    table.add(["a"], ["a", "b"], "single-hop", tokens=10, ms=2.0)
    table.add(["a", "b"], ["x", "a"], "multi-hop", tokens=30, ms=4.0)
    table.add(["z"], [], "multi-hop")
    summary = table.summary()
    groups = summary["groups"]
    assert list(groups) == ["all", "multi-hop", "single-hop"]
    assert groups["all"]["n"] == 3
    assert groups["single-hop"]["recall"] == {"1": 1.0, "5": 1.0}
    assert groups["multi-hop"]["recall"]["5"] == 0.25
    assert groups["all"]["hit"]["1"] == pytest.approx(1 / 3, abs=1e-4)
    assert summary["empty"] == 1
    assert summary["tokens"]["mean"] == 20.0
    assert summary["latency_ms"]["p50"] == 3.0
