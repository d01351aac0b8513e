"""The LoCoMo suite end to end on a tiny conversation file with known answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from kenning.bench import locomo
from kenning.errors import KenningError


def test_load_normalises_and_counts_evidence(locomo_file: Path) -> None:
    conversations, report = locomo.load(locomo_file)
    assert report.conversations == 2
    assert report.turns == 7
    assert report.questions == 5
    assert report.without_evidence == 1
    assert report.evidence_dropped == ["D7:7"]
    first = conversations[0]
    assert first.questions[2].evidence == ("D1:2", "D2:1")  # "D1:2; D2:1" split
    assert first.questions[3].evidence == ("D2:2",)  # "D:2:02" repaired
    assert first.turns[3].when.date().isoformat() == "2023-06-20"


def test_session_dates_parse() -> None:
    parsed = locomo.parse_session_date("1:56 pm on 8 May, 2023")
    assert parsed is not None and (parsed.hour, parsed.day, parsed.month) == (13, 8, 5)
    assert locomo.parse_session_date("someday") is None


def test_missing_data_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(locomo.DataMissing, match="not found"):
        locomo.find_data(tmp_path / "nope.json")
    with pytest.raises(locomo.DataMissing, match="locomo10.json"):
        locomo.find_data(start=tmp_path)


def test_run_scores_every_system_with_the_known_answers(locomo_file: Path, tmp_path: Path) -> None:
    result = locomo.run(locomo_file, tmp_path / "work", embed=False)
    assert result["suite"] == "locomo"
    assert result["questions"] == 5
    assert set(result["systems"]) == set(locomo.SYSTEMS) - {"kenning-search-dense"}
    for name, summary in result["systems"].items():
        groups = summary["groups"]
        assert groups["all"]["n"] == 5, name
        assert set(groups) == {"all", "single-hop", "multi-hop", "temporal"}, name
        assert set(groups["all"]["recall"]) == {"1", "3", "5", "10"}
        # At most five turns per conversation, and dropped evidence leaves the gold set; the
        # routed brief packs only as many notes as its plan's quota.
        floor = 0.8 if name == "kenning-brief" else 1.0
        assert groups["all"]["recall"]["10"] >= floor, name
        assert summary["latency_ms"]["n"] == 5
    for name in ("bm25", "bm25-text", "kenning-search-lexical"):
        single = result["systems"][name]["groups"]["single-hop"]
        assert single["recall"]["1"] == 1.0, name  # greyhound, Lisbon and sunrise at rank 1
    memory_file = tmp_path / "work" / "locomo-00" / ".kenning" / "memories" / "note" / "d1-1.md"
    text = memory_file.read_text()
    assert "title: 'Alice: I adopted a greyhound named Biscuit last week.'" in text
    assert "created: '2023-05-08T13:56:00Z'" in text or "created: 2023-05-08T13:56:00Z" in text


def test_conversations_select_a_prefix_a_range_or_a_list() -> None:
    assert locomo.select_conversations(None, 10) == list(range(10))
    assert locomo.select_conversations(3, 10) == [0, 1, 2]
    assert locomo.select_conversations("5-9", 10) == [5, 6, 7, 8, 9]
    assert locomo.select_conversations("0,3, 7", 10) == [0, 3, 7]
    assert locomo.select_conversations("8-12", 10) == [8, 9]
    with pytest.raises(KenningError, match="0 to 9"):
        locomo.select_conversations("10-12", 10)
    with pytest.raises(KenningError, match="A-B"):
        locomo.select_conversations("last", 10)


def test_run_on_a_held_out_conversation_names_it(locomo_file: Path, tmp_path: Path) -> None:
    result = locomo.run(locomo_file, tmp_path / "work", embed=False, conversations="1")
    assert result["conversation_indexes"] == [0]
    result = locomo.run(
        locomo_file, tmp_path / "held", embed=False, conversations="1-1", systems=("bm25",)
    )
    assert result["conversation_indexes"] == [1]
    assert (tmp_path / "held" / "locomo-01").is_dir()
