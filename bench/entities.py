"""Entity linking benchmark: requests against examples/tidewater → files, symbols, people, terms.

Usage: python bench/entities.py [--json PATH] [--show-errors]

Indexes a temporary copy of the sample (lexically: the entity table does not need vectors),
links every request of `bench/data/entities.jsonl` with `find_mentions`, and scores the strong
mentions of type file, symbol, person and term against the expected refs (micro precision and
recall over (type, ref) pairs; a request with no expected entity contributes only false
positives). Symbols are compared by qualified name; `module.function` refs match the function
defined in the file with that stem. Weak mentions (plain words, tags) are reported as
candidates, not links, and are not scored. Writes `bench/results/entities.json`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from kenning.engine.link import EntityTable, Mention, find_mentions  # noqa: E402

DATA = ROOT / "bench" / "data" / "entities.jsonl"
# Written by the linker's author after the linker was tuned on DATA, and scored once frozen:
# a check that the rules generalise past the labelled set.
HOLDOUT = ROOT / "bench" / "data" / "entities_holdout.jsonl"
RESULTS = ROOT / "bench" / "results" / "entities.json"
SCORED = ("file", "symbol", "person", "term")


def linked_refs(mentions: list[Mention]) -> set[tuple[str, str]]:
    """(type, ref) of the strong mentions, in the labelled set's vocabulary."""
    out: set[tuple[str, str]] = set()
    for m in mentions:
        if not m.strong or m.type not in SCORED:
            continue
        if m.node.startswith("sym:"):
            out.add(("symbol", m.node[4:].split("::", 1)[1]))
        elif m.node.startswith("file:"):
            out.add(("file", m.node[5:]))
        elif m.node.startswith("mem:"):
            out.add((m.type, m.node[4:]))
    return out


def same(expected: tuple[str, str], got: tuple[str, str], nodes: set[str]) -> bool:
    if expected == got:
        return True
    kind, ref = expected
    if kind != "symbol" or got[0] != "symbol" or "." not in ref:
        return False
    module, _, name = ref.rpartition(".")
    # `http_client.request`: the function `request` defined in a file whose stem is http_client.
    return got[1] == name and any(
        n.endswith(f"::{name}") and PurePosixPath(n[4:].split("::")[0]).stem == module
        for n in nodes
    )


def build_table() -> tuple[EntityTable, Path]:
    from kenning.workspace import Workspace

    tmp = Path(tempfile.mkdtemp(prefix="kenning-entities-"))
    target = tmp / "tidewater"
    shutil.copytree(ROOT / "examples" / "tidewater", target, ignore=shutil.ignore_patterns("index"))
    ws = Workspace.open(target)
    ws.index(embed=False)
    table = EntityTable.load(ws.db)
    ws.close()
    return table, tmp


def run(data: Path, table: EntityTable) -> dict[str, Any]:
    rows = [json.loads(line) for line in data.read_text().splitlines() if line.strip()]
    if True:
        find_mentions("warm up the typo index: webook", table)
        tp = fp = fn = 0
        by_type: dict[str, Counter[str]] = {k: Counter() for k in SCORED}
        by_how: Counter[str] = Counter()
        ambiguous = 0
        empty_clean = 0
        errors: list[dict[str, Any]] = []
        times: list[float] = []
        for row in rows:
            started = time.perf_counter()
            mentions = find_mentions(row["text"], table)
            times.append((time.perf_counter() - started) * 1000)
            got = linked_refs(mentions)
            nodes = {m.node for m in mentions}
            expected = {(e["type"], e["ref"]) for e in row["expected"]}
            ambiguous += sum(1 for m in mentions if m.strong and m.candidates)
            matched_got: set[tuple[str, str]] = set()
            missed: list[tuple[str, str]] = []
            for exp in expected:
                hit = next((g for g in got if same(exp, g, nodes)), None)
                if hit is None:
                    missed.append(exp)
                    by_type[exp[0]]["fn"] += 1
                else:
                    matched_got.add(hit)
                    by_type[exp[0]]["tp"] += 1
            extra = got - matched_got
            for g in extra:
                by_type[g[0]]["fp"] += 1
            for m in mentions:
                if m.strong and m.type in SCORED:
                    by_how[m.how] += 1
            tp += len(expected) - len(missed)
            fn += len(missed)
            fp += len(extra)
            if not expected and not extra:
                empty_clean += 1
            if missed or extra:
                errors.append(
                    {
                        "text": row["text"],
                        "missed": sorted(missed),
                        "extra": sorted(extra),
                        "mentions": [m.to_dict() for m in mentions],
                    }
                )
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    times.sort()
    result: dict[str, Any] = {
        "dataset": str(data.relative_to(ROOT)),
        "requests": len(rows),
        "expected_links": tp + fn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(2 * precision * recall / (precision + recall), 4),
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "no_entity_requests_clean": empty_clean,
        "no_entity_requests": sum(1 for r in rows if not r["expected"]),
        "ambiguous_strong_mentions": ambiguous,
        "by_type": {
            k: {
                "precision": round(v["tp"] / (v["tp"] + v["fp"]), 4) if v["tp"] + v["fp"] else None,
                "recall": round(v["tp"] / (v["tp"] + v["fn"]), 4) if v["tp"] + v["fn"] else None,
                **dict(v),
            }
            for k, v in by_type.items()
        },
        "links_by_how": dict(by_how.most_common()),
        "link_ms_p50": round(times[len(times) // 2], 3),
        "link_ms_p99": round(times[min(len(times) - 1, int(len(times) * 0.99))], 3),
        "errors": errors,
    }
    return result


def report(name: str, result: dict[str, Any], show_errors: bool) -> None:
    print(
        f"{name}: {result['requests']} requests ({result['expected_links']} links): "
        f"precision {result['precision']:.3f}  recall {result['recall']:.3f}  "
        f"F1 {result['f1']:.3f}"
    )
    print(f"  {'type':<8} {'precision':>9} {'recall':>7} {'tp':>4} {'fp':>4} {'fn':>4}")
    for kind, row in result["by_type"].items():
        p = "-" if row["precision"] is None else f"{row['precision']:.3f}"
        r = "-" if row["recall"] is None else f"{row['recall']:.3f}"
        print(
            f"  {kind:<8} {p:>9} {r:>7} {row.get('tp', 0):>4} {row.get('fp', 0):>4} "
            f"{row.get('fn', 0):>4}"
        )
    print(
        f"  no-entity requests with no link: {result['no_entity_requests_clean']}/"
        f"{result['no_entity_requests']}; ambiguous strong mentions: "
        f"{result['ambiguous_strong_mentions']}; link p50 {result['link_ms_p50']} ms, "
        f"p99 {result['link_ms_p99']} ms"
    )
    print("  links by how:", ", ".join(f"{k} {v}" for k, v in result["links_by_how"].items()))
    if show_errors:
        for err in result["errors"]:
            print(f"  - {err['text']}\n      missed {err['missed']}  extra {err['extra']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the result")
    parser.add_argument("--show-errors", action="store_true", help="print every miss and extra")
    args = parser.parse_args()
    table, tmp = build_table()
    try:
        find_mentions("warm up the typo index: webook", table)
        results = {"labelled": run(DATA, table), "holdout": run(HOLDOUT, table)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report("labelled set", results["labelled"], args.show_errors)
    report("author's holdout", results["holdout"], args.show_errors)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
