"""`kenning bench` through click's CliRunner: suites, JSON files, saved-result rendering, docs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kenning.bench import commands
from kenning.cli import cli


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_bench_is_a_kenning_command_with_an_example() -> None:
    out = run("bench", "--help")
    assert "Example:" in out and "latency" in out and "locomo" in out


def test_locomo_suite_writes_json_and_the_docs(locomo_file: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "results"
    printed = run(
        "bench",
        "locomo",
        "--locomo",
        str(locomo_file),
        "--no-embed",
        "--out",
        str(out_dir),
        "--json",
    )
    data = json.loads(printed)
    assert list(data) == ["locomo"]
    saved = json.loads((out_dir / "locomo.json").read_text())
    assert saved["suite"] == "locomo" and saved["questions"] == 5
    assert saved["command"].startswith("kenning bench")
    assert saved["machine"]["cores"] >= 1
    assert saved["systems"]["bm25"]["groups"]["all"]["recall"]["10"] == 1.0
    docs = tmp_path / "docs" / "benchmarks.md"
    rendered = run("bench", "--from", str(out_dir), "--docs", str(docs))
    assert "locomo" in rendered
    text = docs.read_text()
    assert "# Benchmarks" in text and "## locomo" in text and "| bm25 |" in text
    assert "## Where kenning loses" in text


def test_history_suite_on_a_given_repository(history_repo: Path, tmp_path: Path) -> None:
    data = json.loads(
        run(
            "bench",
            "history",
            "--repo",
            str(history_repo),
            "--no-embed",
            "--commits",
            "5",
            "--json",
        )
    )
    result = data["history-history-repo-5"]  # not the default count: kept apart by name
    assert result["commits"] == 2
    assert result["systems"]["bm25"]["groups"]["all"]["recall"]["1"] == 1.0


def test_missing_locomo_data_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["bench", "locomo", "--locomo", str(tmp_path / "none.json")])
    assert result.exit_code != 0
    assert "LoCoMo data not found" in result.output


def test_labelled_set_evaluators_say_when_they_are_absent(tmp_path: Path) -> None:
    assert commands.run_evaluator("nonexistent-suite", tmp_path) == {
        "suite": "nonexistent-suite",
        "available": False,
        "note": "not available yet",
    }


def test_labelled_set_evaluator_run_is_called(tmp_path: Path) -> None:
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "routing.py").write_text(
        "def run():\n    return {'accuracy': 0.5, 'n': 4}\n"
    )
    result = commands.run_evaluator("routing", tmp_path)
    assert result["available"] is True and result["accuracy"] == 0.5


def test_plots_from_saved_results(locomo_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out_dir = tmp_path / "results"
    run(
        "bench",
        "locomo",
        "--locomo",
        str(locomo_file),
        "--no-embed",
        "--out",
        str(out_dir),
        "--json",
    )
    run("bench", "--from", str(out_dir), "--plots")
    assert (out_dir / "plots" / "locomo-recall.png").stat().st_size > 1000
    assert (out_dir / "plots" / "locomo-tokens.png").exists()


def test_labelled_set_command_line_script_is_run_with_a_json_path(tmp_path: Path) -> None:
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "conflicts.py").write_text(
        "import argparse, json\nfrom pathlib import Path\n\n\ndef main():\n"
        "    p = argparse.ArgumentParser()\n    p.add_argument('--json', type=Path)\n"
        "    args = p.parse_args()\n    print('table for people')\n"
        "    args.json.write_text(json.dumps({'all': {'precision': 0.9, 'recall': 0.8}}))\n"
    )
    result = commands.run_evaluator("conflicts", tmp_path)
    assert result["available"] is True
    assert result["all"] == {"precision": 0.9, "recall": 0.8}


def test_generic_results_render_as_a_table() -> None:
    from kenning.bench.report import generic_rows

    header, rows = generic_rows({"dev": {"precision": 0.5, "recall": 0.25, "n": 4}, "x": 1})
    assert header == ["", "precision", "recall", "n"]
    assert rows == [["dev", "0.500", "0.250", "4"]]


def test_labelled_set_script_with_another_command_line_is_reported_not_fatal(
    tmp_path: Path,
) -> None:
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "routing.py").write_text(
        "import argparse\n\n\ndef main():\n    p = argparse.ArgumentParser()\n"
        "    p.add_subparsers(dest='cmd', required=True).add_parser('intents')\n"
        "    p.parse_args()\n"
    )
    result = commands.run_evaluator("routing", tmp_path)
    assert result["available"] is False
    assert "does not run as `routing.py --json PATH`" in result["note"]


def test_the_docs_say_how_each_peer_ran(tmp_path: Path) -> None:
    from kenning.bench.report import _peer_line

    notes = {"search_mode": "text (FTS)", "notes_ingested": 3, "ingest_ms_per_note": 5.0}
    assert "3 notes written through its own tools at 5.0 ms per note" in _peer_line("bm", notes)
    other = {"search_mode": "tags + PageRank", "map_budget": 1024, "tagging_first_s": 0.6}
    assert _peer_line("aider-repomap", other) == (
        "Peer aider-repomap: tags + PageRank; map budget 1,024; tagging first 0.6 s."
    )


def test_docs_without_plots_keep_the_plots_drawn_before(locomo_file: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "results"
    run("bench", "locomo", "--locomo", str(locomo_file), "--no-embed", "--out", str(out_dir))
    (out_dir / "plots").mkdir()
    (out_dir / "plots" / "locomo-recall.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    docs = tmp_path / "docs" / "benchmarks.md"
    printed = run("bench", "--from", str(out_dir), "--docs", str(docs))
    assert "1 plots reused" in printed
    assert "](../results/plots/locomo-recall.png)" in docs.read_text()
