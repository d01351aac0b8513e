"""Routing benchmark: intent accuracy, classify+route latency, and routed vs unrouted packets.

Usage:
    python bench/routing.py [intents [--set heldout|blind|both]]
                                                  intent accuracy on the held-out split and
                                                  the blind set (both by default)
    python bench/routing.py packets --locomo      LoCoMo evidence recall, routed vs unrouted
    python bench/routing.py packets --repo GIT_DIR [--commits 40]
                                                  files-touched recall, routed vs unrouted

**Intents.** Two sets the model never trains on are classified, each reported on its own:
`bench/data/intents.jsonl`'s `test` split (the held-out split, section `intents`) and
`bench/data/intents_blind.jsonl` (written blind in session 3 before the model was retrained,
section `intents_blind`; the issue's accuracy figure). For each the script prints accuracy (strict, and lenient: the label or its listed secondary), per-intent
precision and recall, the confusion matrix, the lexical-only and cue-only fallbacks, and how the
low-confidence fallback to the balanced plan behaves. Latency: the query embedding alone, and
classify + route given that embedding (what a brief pays, since retrieval embeds anyway), p50
and p99 over the test requests after a warm-up.

**Packets.** The same brief is built twice per question or commit on one index: routed (the
classified intent's plan and expansions) and unrouted (`routed=False`: the balanced plan, no
expansions), at the same token budget, and scored like `bench/locomo.py` and
`bench/files_touched.py` score `kenning-brief` (evidence or changed-file recall@k in packet
order). Writes `bench/results/routing.json` (each mode updates its own section).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from kenning.engine.classify import (  # noqa: E402
    INTENTS,
    _cue_scores,
    classify,
    clean,
    cue_features,
)
from kenning.engine.route import LOW_CONFIDENCE, plan_for  # noqa: E402
from kenning.engine.vectors import embed_query  # noqa: E402

DATA = ROOT / "bench" / "data" / "intents.jsonl"
BLIND = ROOT / "bench" / "data" / "intents_blind.jsonl"
RESULTS = ROOT / "bench" / "results" / "routing.json"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def intents(data: Path = DATA, split: str = "test") -> dict[str, Any]:
    rows = [json.loads(line) for line in data.read_text().splitlines() if line.strip()]
    # A line without `text` is the file's header of label definitions, not a request.
    test = [r for r in rows if "text" in r and r["split"] == split]
    embed_query("warm up")
    classify("warm up the model")
    confusion = {a: dict.fromkeys(INTENTS, 0) for a in INTENTS}
    strict = lenient = lexical = cues_only = 0
    low: list[bool] = []
    balanced = 0
    calibration: list[tuple[float, bool]] = []
    high: list[bool] = []
    embed_ms: list[float] = []
    route_ms: list[float] = []
    lexical_ms: list[float] = []
    by_source: Counter[str] = Counter()
    mistakes: list[dict[str, Any]] = []
    for row in test:
        text = clean(row["text"])
        t = time.perf_counter()
        vector = embed_query(text)
        embed_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        intent = classify(row["text"], vector, embed=False)
        plan = plan_for(intent)
        route_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        lex = classify(row["text"], embed=False)
        plan_for(lex)
        lexical_ms.append((time.perf_counter() - t) * 1000)
        cue = _cue_scores(cue_features(text))
        by_source[intent.source] += 1
        gold = row["intent"]
        confusion[gold][intent.label] += 1
        ok = intent.label == gold
        strict += ok
        lenient += intent.label in (gold, row.get("secondary"))
        lexical += lex.label == gold
        cues_only += INTENTS[int(cue.argmax())] == gold
        (low if intent.confidence < LOW_CONFIDENCE else high).append(ok)
        balanced += plan.name == "balanced"
        calibration.append((intent.confidence, ok))
        if not ok:
            mistakes.append(
                {
                    "text": row["text"][:200],
                    "gold": gold,
                    "secondary": row.get("secondary"),
                    "got": intent.label,
                    "confidence": intent.confidence,
                    "got_secondary": intent.secondary,
                }
            )
    n = len(test)
    per_intent: dict[str, dict[str, float]] = {}
    for label in INTENTS:
        tp = confusion[label][label]
        predicted = sum(confusion[g][label] for g in INTENTS)
        actual = sum(confusion[label].values())
        per_intent[label] = {
            "precision": round(tp / predicted, 3) if predicted else 0.0,
            "recall": round(tp / actual, 3) if actual else 0.0,
            "n": actual,
        }
    return {
        "dataset": str(data.relative_to(ROOT)),
        "split": split,
        "test_requests": n,
        "accuracy": round(strict / n, 4),
        "accuracy_lenient": round(lenient / n, 4),
        "accuracy_lexical_only": round(lexical / n, 4),
        "accuracy_cues_only": round(cues_only / n, 4),
        "decided_by": dict(by_source),
        "calibration": _calibration(calibration),
        "low_confidence": {
            "threshold": LOW_CONFIDENCE,
            "requests": len(low),
            "fallback_rate": round(len(low) / n, 4),
            "balanced_plans": balanced,
            "accuracy_below": round(sum(low) / len(low), 4) if low else None,
            "accuracy_above": round(sum(high) / len(high), 4) if high else None,
        },
        "per_intent": per_intent,
        "confusion": confusion,
        "latency_ms": {
            "embed_query_p50": round(statistics.median(embed_ms), 3),
            "embed_query_p99": round(_pct(embed_ms, 0.99), 3),
            "classify_route_given_vector_p50": round(statistics.median(route_ms), 3),
            "classify_route_given_vector_p99": round(_pct(route_ms, 0.99), 3),
            "classify_route_lexical_p50": round(statistics.median(lexical_ms), 3),
        },
        "mistakes": mistakes,
    }


def _calibration(pairs: list[tuple[float, bool]]) -> dict[str, float]:
    """Mean confidence against accuracy, and the expected calibration error over 10 bins."""
    n = len(pairs)
    if not n:
        return {}
    ece = 0.0
    for b in range(10):
        lo, hi = b / 10, (b + 1) / 10
        cell = [(c, ok) for c, ok in pairs if lo <= c < hi or (b == 9 and c == 1.0)]
        if cell:
            gap = sum(c for c, _ in cell) / len(cell) - sum(ok for _, ok in cell) / len(cell)
            ece += len(cell) / n * abs(gap)
    return {
        "mean_confidence": round(sum(c for c, _ in pairs) / n, 4),
        "accuracy": round(sum(ok for _, ok in pairs) / n, 4),
        "expected_calibration_error": round(ece, 4),
    }


def print_intents(r: dict[str, Any]) -> None:
    print(
        f"intent accuracy on {r['test_requests']} requests of {r['dataset']} ({r['split']}): "
        f"{r['accuracy']:.3f} "
        f"(label or its secondary: {r['accuracy_lenient']:.3f}; lexical-only model "
        f"{r['accuracy_lexical_only']:.3f}; cue groups alone {r['accuracy_cues_only']:.3f})"
    )
    low = r["low_confidence"]
    print(
        f"below confidence {low['threshold']}: {low['requests']} requests "
        f"(fallback rate {low['fallback_rate']:.3f}; {low['balanced_plans']} got the balanced "
        f"plan), accuracy {low['accuracy_below']} there vs {low['accuracy_above']} above"
    )
    cal = r["calibration"]
    print(
        f"calibration: mean confidence {cal['mean_confidence']:.3f} vs accuracy "
        f"{cal['accuracy']:.3f}; expected calibration error {cal['expected_calibration_error']:.3f}"
    )
    head = "gold \\ got"
    print(f"{head:<10} " + " ".join(f"{i[:5]:>5}" for i in INTENTS) + "   recall")
    for gold in INTENTS:
        row = r["confusion"][gold]
        cells = " ".join(f"{row[i]:>5}" for i in INTENTS)
        print(f"{gold:<10} {cells}   {r['per_intent'][gold]['recall']:.2f}")
    precision = " ".join(f"{r['per_intent'][i]['precision']:>5.2f}" for i in INTENTS)
    print(f"{'precision':<10} {precision}")
    lat = r["latency_ms"]
    print(
        f"latency: embed query p50 {lat['embed_query_p50']} ms (p99 {lat['embed_query_p99']}); "
        f"classify+route given the vector p50 {lat['classify_route_given_vector_p50']} ms "
        f"(p99 {lat['classify_route_given_vector_p99']}); lexical-only classify+route p50 "
        f"{lat['classify_route_lexical_p50']} ms"
    )


# ---- routed vs unrouted packets -------------------------------------------------------------


def packets_locomo(conversations: int | None, questions: int | None, embed: bool) -> dict[str, Any]:
    from kenning.bench.locomo import CATEGORIES, KS, find_data, load, write_project
    from kenning.bench.metrics import RecallTable
    from kenning.workspace import Workspace

    convs, _ = load(find_data(None, ROOT))
    convs = convs[:conversations] if conversations else convs
    tables = {"kenning-brief-routed": RecallTable(KS), "kenning-brief-unrouted": RecallTable(KS)}
    intents_seen: Counter[str] = Counter()
    work = Path(tempfile.mkdtemp(prefix="kenning-routing-locomo-"))
    asked = 0
    try:
        for n, conv in enumerate(convs):
            root = work / f"locomo-{n:02d}"
            write_project(root, conv)
            by_memory = {t.memory_id: t.dia_id for t in conv.turns}
            ws = Workspace.open(root)
            try:
                ws.index(embed=embed)
                ws.brief("warm up the caches", use_dense=embed)  # refresh costs, untimed
                for q in conv.questions[:questions]:
                    group = CATEGORIES.get(q.category, str(q.category))
                    for name, routed in (
                        ("kenning-brief-routed", True),
                        ("kenning-brief-unrouted", False),
                    ):
                        packet = ws.brief(q.question, use_dense=embed, routed=routed)
                        if routed:
                            intents_seen[packet.plan["name"]] += 1
                        ranked = [by_memory[i.ref] for i in packet.items if i.ref in by_memory]
                        tables[name].add(
                            q.evidence, ranked, group, packet.tokens, packet.elapsed_ms
                        )
                    asked += 1
            finally:
                ws.close()
            print(f"  locomo conversation {n + 1}/{len(convs)} done ({asked} questions)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "suite": "locomo",
        "conversations": len(convs),
        "questions": asked,
        "vectors": embed,
        "plans_used": dict(intents_seen.most_common()),
        "systems": {k: v.summary() for k, v in tables.items()},
    }


def packets_history(repo: Path, commits: int, embed: bool, budget: int) -> dict[str, Any]:
    from kenning.bench.history import (
        KS,
        WorkingCopy,
        _group,
        _paths_in_order,
        _repo_name,
        resolve_git_dir,
        select_commits,
    )
    from kenning.bench.metrics import RecallTable
    from kenning.engine.retrieve import CODE_KINDS
    from kenning.workspace import Workspace

    git_dir = resolve_git_dir(repo)
    cases, _ = select_commits(git_dir, commits, max_files=20, exts=(".py",))
    tables = {"kenning-brief-routed": RecallTable(KS), "kenning-brief-unrouted": RecallTable(KS)}
    intents_seen: Counter[str] = Counter()
    work = Path(tempfile.mkdtemp(prefix="kenning-routing-history-"))
    copy = WorkingCopy(git_dir, work / "checkout")
    ws = None
    try:
        for n, case in enumerate(cases, 1):
            copy.checkout(case.parent)
            if ws is None:
                ws = Workspace.open(copy.path)
            ws.index(embed=embed)
            ws.brief("warm up the caches", use_dense=embed)  # refresh costs, untimed
            group = _group(len(case.gold))
            for name, routed in (("kenning-brief-routed", True), ("kenning-brief-unrouted", False)):
                packet = ws.brief(case.message, budget=budget, use_dense=embed, routed=routed)
                if routed:
                    intents_seen[packet.plan["name"]] += 1
                paths = _paths_in_order(
                    [
                        path
                        for i in packet.items
                        if i.kind in CODE_KINDS
                        and (path := i.ref.rsplit(":", 1)[0]).endswith(".py")
                    ]
                )
                tables[name].add(case.gold, paths, group, packet.tokens, packet.elapsed_ms)
            if n % 5 == 0:
                print(f"  commit {n}/{len(cases)}")
    finally:
        if ws is not None:
            ws.close()
        shutil.rmtree(work, ignore_errors=True)
    return {
        "suite": "files-touched",
        "repository": _repo_name(repo, git_dir),
        "commits": len(cases),
        "budget": budget,
        "vectors": embed,
        "plans_used": dict(intents_seen.most_common()),
        "systems": {k: v.summary() for k, v in tables.items()},
    }


def print_packets(r: dict[str, Any]) -> None:
    ks = (1, 3, 5, 10)
    label = "LoCoMo evidence" if r["suite"] == "locomo" else f"files touched ({r['repository']})"
    print(f"{label}: recall@k over packet order, same budget, same index")
    print(f"{'system':<24} " + " ".join(f"R@{k:<4}" for k in ks) + "  tokens p50  ms p50")
    for name, summary in r["systems"].items():
        rec = summary["groups"]["all"]["recall"]
        cells = " ".join(f"{rec[str(k)] if str(k) in rec else rec[k]:<6.3f}" for k in ks)
        tokens = summary.get("tokens", {}).get("p50", "-")
        ms = summary.get("latency_ms", {}).get("p50", "-")
        print(f"{name:<24} {cells}  {tokens:<10}  {ms}")
    print("plans used by the routed packets:", r["plans_used"])


def save(section: str, value: dict[str, Any]) -> None:
    data: dict[str, Any] = {}
    if RESULTS.exists():
        try:
            data = json.loads(RESULTS.read_text())
        except json.JSONDecodeError:
            data = {}
    data[section] = value
    data.setdefault("measured", {})[section] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def run() -> dict[str, Any]:
    """What `kenning bench routing` runs: intent accuracy on the held-out split and the blind
    set (the packet comparisons need a repository and LoCoMo: run `packets` by hand)."""
    return {"intents": intents(DATA, "test"), "intents_blind": intents(BLIND, "blind")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode")
    pk = sub.add_parser("packets", help="routed vs unrouted packets")
    pk.add_argument("--locomo", action="store_true", help="LoCoMo evidence recall")
    pk.add_argument("--repo", type=Path, help="a git work tree for files-touched recall")
    pk.add_argument("--commits", type=int, default=40)
    pk.add_argument("--conversations", type=int)
    pk.add_argument("--questions", type=int)
    pk.add_argument("--budget", type=int, default=2000)
    pk.add_argument("--no-vectors", action="store_true")
    it = sub.add_parser("intents", help="intent accuracy, confusion matrix, latency")
    it.add_argument(
        "--set",
        choices=("heldout", "blind", "both"),
        default="both",
        help="the held-out split of intents.jsonl, the blind set, or both (default)",
    )
    args = parser.parse_args()
    if args.mode == "packets":
        embed = not args.no_vectors
        if args.locomo:
            result = packets_locomo(args.conversations, args.questions, embed)
            print_packets(result)
            save("packets_locomo", result)
        if args.repo:
            result = packets_history(args.repo, args.commits, embed, args.budget)
            print_packets(result)
            save("packets_files_touched", result)
        if not args.locomo and not args.repo:
            parser.error("packets needs --locomo and/or --repo GIT_DIR")
        return
    chosen = getattr(args, "set", "both")
    if chosen in ("heldout", "both"):
        result = intents(DATA, "test")
        print_intents(result)
        save("intents", result)
    if chosen in ("blind", "both"):
        if chosen == "both":
            print()
        result = intents(BLIND, "blind")
        print_intents(result)
        save("intents_blind", result)


if __name__ == "__main__":
    main()
