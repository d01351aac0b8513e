"""The labelled intent requests: valid labels, definitions on top, and the blind set kept out of
training."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from kenning.engine.classify import INTENTS

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "bench" / "data"
FILES = {
    "intents.jsonl": ("train", "test"),
    "intents_extra.jsonl": ("train",),
    "intents_varied.jsonl": ("train",),
    "intents_blind.jsonl": ("blind",),
}


def _lines(name: str) -> list[dict[str, Any]]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _requests(name: str) -> list[dict[str, Any]]:
    return [row for row in _lines(name) if "text" in row]


@pytest.mark.parametrize(("name", "splits"), FILES.items())
def test_every_request_has_a_known_intent_and_split(name: str, splits: tuple[str, ...]) -> None:
    rows = _requests(name)
    assert rows
    for row in rows:
        assert row["text"].strip()
        assert row["intent"] in INTENTS
        assert row["secondary"] in (None, *INTENTS)
        assert row["secondary"] != row["intent"]
        assert row["split"] in splits


@pytest.mark.parametrize("name", ["intents_varied.jsonl", "intents_blind.jsonl"])
def test_the_new_files_open_with_a_definition_of_every_intent(name: str) -> None:
    header = _lines(name)[0]
    assert "text" not in header
    assert all(header.get(intent) for intent in INTENTS)


def test_no_blind_request_is_in_any_file_the_model_trains_on() -> None:
    blind = {row["text"].strip().lower() for row in _requests("intents_blind.jsonl")}
    trained = {
        row["text"].strip().lower()
        for name in FILES
        if name != "intents_blind.jsonl"
        for row in _requests(name)
    }
    assert not blind & trained


def test_the_training_script_never_reads_the_held_out_files() -> None:
    spec = importlib.util.spec_from_file_location("train_intent", ROOT / "scripts/train_intent.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert "intents_blind.jsonl" not in module.EXTRA
    rows = module.load_rows()
    assert {row["split"] for row in rows} == {"train"}
    blind = {row["text"] for row in _requests("intents_blind.jsonl")}
    assert not blind & {row["text"] for row in rows}
