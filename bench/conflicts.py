"""Conflict detection benchmark: does the request (and its diff) contradict a memory?

Usage: python bench/conflicts.py [--json PATH] [--show-errors] [--split dev|holdout|all]

Cases come from `bench/data/conflicts.jsonl` (157 self-contained cases: request, optional diff,
memories, touched files, expected memory ids). A fixed 30 % of them, drawn with a seeded shuffle
stratified by whether the case has a conflict, is the *holdout*: the detector was developed on
the other 70 % (*dev*) and the holdout was scored only when development stopped.
`bench/data/conflicts_extra.jsonl` holds cases the detector's author wrote for behaviours the
labelled set does not cover; they are reported separately. `bench/data/conflicts_blind.jsonl`
(49 cases from seven new projects) was written later, without reading the detector, and scored
once before the detector was changed again: that first score is kept in `FIRST_LOOK["blind"]`.
`bench/data/conflicts_blind2.jsonl` (26 cases, five more new projects) was written after the
changes made against `blind`'s errors, and scored once on that detector (`FIRST_LOOK["blind2"]`);
`bench/data/conflicts_blind3.jsonl` (26 cases, five more projects) likewise after the changes
made against `blind2`'s errors (`FIRST_LOOK["blind3"]`).

Scores are micro-averaged over (case, memory) pairs: a reported conflict that is expected is a
true positive, a reported one that is not is a false positive, a missed one a false negative.
False alarms are also counted per case: cases with no expected conflict where anything was
reported. Writes `bench/results/conflicts.json`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from kenning.engine.conflicts import MemoryView, find_conflicts  # noqa: E402

DATA = ROOT / "bench" / "data" / "conflicts.jsonl"
EXTRA = ROOT / "bench" / "data" / "conflicts_extra.jsonl"
BLIND = ROOT / "bench" / "data" / "conflicts_blind.jsonl"
BLIND2 = ROOT / "bench" / "data" / "conflicts_blind2.jsonl"
BLIND3 = ROOT / "bench" / "data" / "conflicts_blind3.jsonl"
RESULTS = ROOT / "bench" / "results" / "conflicts.json"
HOLDOUT_SEED = 4
HOLDOUT_SHARE = 0.3
# The holdout and the extra cases were first scored when development on dev stopped; these are
# those figures. Later fixes (the "ask before adding" ban, parenthesised lists, allowed-only
# contexts, phrase proximity, gerunds, EKS/Lombok names, bounded durations) were made after
# reading their errors, so the current holdout figure is no longer a blind one.
FIRST_LOOK = {
    "holdout": {"precision": 0.850, "recall": 0.654, "f1": 0.739, "false_alarm_cases": "3/24"},
    "extra": {"precision": 0.917, "recall": 0.846, "f1": 0.880, "false_alarm_cases": "1/11"},
    # conflicts_blind.jsonl (49 cases, 24 with a conflict), written before reading the detector's
    # code and scored once, on the detector of commit 0ab83de, before any change for issue 4.
    "blind": {"precision": 0.900, "recall": 0.720, "f1": 0.800, "false_alarm_cases": "2/25"},
    # conflicts_blind2.jsonl (26 cases, 14 with a conflict), written after the detector was
    # changed against `blind`'s errors and scored once on that detector (commit 7de5e5f): the
    # honest estimate of how those changes generalise.
    "blind2": {"precision": 0.727, "recall": 0.571, "f1": 0.640, "false_alarm_cases": "3/12"},
    # conflicts_blind3.jsonl (26 cases, 14 with a conflict), written after the changes made
    # against `blind2`'s errors and scored once on that detector (commit 31f377e).
    "blind3": {"precision": 1.000, "recall": 0.571, "f1": 0.727, "false_alarm_cases": "0/12"},
}


def load(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def holdout_ids(rows: list[dict[str, Any]]) -> set[str]:
    """The seeded, stratified 30 % kept out of development."""
    rng = random.Random(HOLDOUT_SEED)
    positive = [r["id"] for r in rows if r["expected"]]
    negative = [r["id"] for r in rows if not r["expected"]]
    rng.shuffle(positive)
    rng.shuffle(negative)
    take = int(len(positive) * HOLDOUT_SHARE + 0.5), int(len(negative) * HOLDOUT_SHARE + 0.5)
    return set(positive[: take[0]] + negative[: take[1]])


def _epoch(date: str | None) -> float | None:
    if not date:
        return None
    return datetime.fromisoformat(date).replace(tzinfo=UTC).timestamp()


def views(case: dict[str, Any]) -> list[MemoryView]:
    return [
        MemoryView(
            m["id"],
            m["kind"],
            m["title"],
            m.get("body", ""),
            m.get("status", "active"),
            _epoch(m.get("created")),
            scope=tuple(m.get("scope") or ()),
        )
        for m in case["memories"]
    ]


def score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    tp = fp = fn = 0
    false_alarm_cases = 0
    negatives = 0
    by_how: dict[str, int] = {}
    errors: list[dict[str, Any]] = []
    times: list[float] = []
    for case in rows:
        started = time.perf_counter()
        found = find_conflicts(
            case["request"], views(case), limit=5, diff=case.get("diff"), files=case["files"]
        )
        times.append((time.perf_counter() - started) * 1000)
        got = {c.ref for c in found}
        expected = set(case["expected"])
        tp += len(got & expected)
        fp += len(got - expected)
        fn += len(expected - got)
        for c in found:
            if c.ref in expected:
                by_how[c.how] = by_how.get(c.how, 0) + 1
        if not expected:
            negatives += 1
            false_alarm_cases += bool(got)
        if got != expected:
            errors.append(
                {
                    "id": case["id"],
                    "request": case["request"],
                    "expected": sorted(expected),
                    "got": [c.to_dict() for c in found],
                    "note": case.get("note", ""),
                }
            )
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    times.sort()
    return {
        "cases": len(rows),
        "cases_with_conflict": sum(1 for r in rows if r["expected"]),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "false_alarm_cases": false_alarm_cases,
        "cases_without_conflict": negatives,
        "false_alarm_rate": round(false_alarm_cases / negatives, 4) if negatives else 0.0,
        "found_by": by_how,
        "ms_p50": round(times[len(times) // 2], 3) if times else 0.0,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=RESULTS)
    parser.add_argument("--show-errors", action="store_true")
    parser.add_argument(
        "--split", choices=("dev", "holdout", "all", "blind", "blind2", "blind3"), default="all"
    )
    args = parser.parse_args()
    rows = load(DATA)
    held = holdout_ids(rows)
    splits = {
        "dev": [r for r in rows if r["id"] not in held],
        "holdout": [r for r in rows if r["id"] in held],
        "all": rows,
        "extra": load(EXTRA),
        "blind": load(BLIND),
        "blind2": load(BLIND2),
        "blind3": load(BLIND3),
    }
    every = ["dev", "holdout", "all", "extra", "blind", "blind2", "blind3"]
    wanted = every if args.split == "all" else [args.split]
    results = {name: score(splits[name]) for name in wanted if splits[name]}
    print(
        f"{'split':<8} {'cases':>5} {'P':>6} {'R':>6} {'F1':>6} {'tp':>4} {'fp':>4} {'fn':>4} "
        f"{'false alarms':>13}"
    )
    for name, r in results.items():
        alarms = f"{r['false_alarm_cases']}/{r['cases_without_conflict']}"
        print(
            f"{name:<8} {r['cases']:>5} {r['precision']:>6.3f} {r['recall']:>6.3f} "
            f"{r['f1']:>6.3f} {r['true_positives']:>4} {r['false_positives']:>4} "
            f"{r['false_negatives']:>4} {alarms:>13}"
        )
    for name, first in FIRST_LOOK.items():
        print(
            f"({name} when first scored, blind: P {first['precision']:.3f} "
            f"R {first['recall']:.3f} F1 {first['f1']:.3f}, false alarms "
            f"{first['false_alarm_cases']}; see FIRST_LOOK)"
        )
    if args.show_errors:
        for name, r in results.items():
            if name == "all":
                continue
            for err in r["errors"]:
                got = [(c["ref"], c["how"], c["trigger"]) for c in err["got"]]
                print(f"[{name}] {err['id']} {err['request'][:90]}")
                print(f"    expected {err['expected']}  got {got}")
    if args.split == "all":
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "dataset": str(DATA.relative_to(ROOT)),
            "holdout_split": {"seed": HOLDOUT_SEED, "share": HOLDOUT_SHARE, "ids": sorted(held)},
            "first_look": FIRST_LOOK,
            **results,
        }
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
