"""Memory-hygiene benchmarks: staleness after real refactors, duplicate F1, capture precision.

    python bench/hygiene.py [--repos DIR] [--only staleness|duplicates|capture]
    python bench/hygiene.py build-staleness [--repos DIR]

`run` (the default) prints one table and writes `bench/results/hygiene.json`:

- **staleness**: for every case of `bench/data/hygiene/staleness.jsonl` (an anchor taken at a
  commit *before* a real refactor in a public repository), a memory anchored there is written
  into a checkout of the commit *after*, kenning indexes it, and the flags are compared with
  the labels. Precision/recall/F1 of "stale", per-cause recall, false alarms on unchanged code,
  and whether the rename/move target is right. Windows are split dev/test; the thresholds in
  `kenning.hygiene.staleness` were chosen on dev (`--calibrate` prints the sweep).
- **duplicates**: `duplicates.jsonl` pairs through `kenning.hygiene.dedupe` with the bundled
  embedder; F1 on the test half (the rule's thresholds were set on the dev half).
- **capture**: `capture.jsonl` (hand-written sessions, and real commit messages read from the
  repositories by `repo@sha`) through `propose_memories`; precision = proposals that match a
  labelled memory of the same kind.

`build-staleness` relabels the staleness set from the git histories (needs the repositories).
Repositories are looked up under `--repos DIR` (or `$KENNING_BENCH_REPOS`) as `owner+name/repo`,
`owner+name` or `owner/name`, else cloned from GitHub into `~/.cache/kenning/bench-repos`.
Fetched code is only read from those clones; none of it is copied into this repository.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "hygiene"
RESULTS = ROOT / "bench" / "results" / "hygiene.json"
sys.path.insert(0, str(ROOT / "src"))

from kenning.hygiene.anchors import (  # noqa: E402
    SymbolSpan,
    changed_fraction,
    fingerprint,
    span_text,
    symbol_spans,
)

# (repository, before, after, split): real refactors (renames, deletions, moves) and release
# ranges (ordinary edits), chosen from the projects' histories.
WINDOWS: list[tuple[str, str, str, str]] = [
    ("encode/httpx", "82dc6f32^", "82dc6f32", "dev"),  # switch to private module names
    ("encode/httpx", "0.12.1", "0.13.0", "test"),  # httpcore interface: dispatch/ removed
    ("encode/httpx", "0.18.0", "0.23.0", "dev"),
    ("pallets/click", "47cc96fb^", "47cc96fb", "test"),  # helpers moved into their own files
    ("pallets/click", "079f91a2^", "079f91a2", "dev"),  # move to src/
    ("pallets/click", "8.0.0", "8.1.0", "test"),
    ("Aider-AI/aider", "d6cf8377f^", "d6cf8377f", "test"),  # architect/editor renames
    ("Aider-AI/aider", "v0.80.0", "v0.86.0", "dev"),
    ("basicmachines-co/basic-memory", "6e9f2fcf^", "6e9f2fcf", "dev"),  # package rename
    ("basicmachines-co/basic-memory", "53da71c8^", "53da71c8", "test"),  # runtime refactor
    ("basicmachines-co/basic-memory", "v0.15.0", "v0.16.0", "test"),
    ("simonw/llm", "0.13", "0.19", "dev"),
]
REWRITTEN = 0.5  # the label: at least half of the symbol's lines are new or changed
FILE_REWRITTEN = 0.65
PER_STRATUM = {
    "deleted": 6,
    "renamed": 8,
    "gone": 8,
    "rewritten": 10,
    "edited": 10,
    "same_file": 6,
    "untouched": 6,
}


# ---- repositories ----------------------------------------------------------------------------


def git(repo: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def find_repo(name: str, repos: Path | None) -> Path:
    owner_name = name.replace("/", "+")
    bases = [b for b in (repos, os.environ.get("KENNING_BENCH_REPOS")) if b]
    for base in map(Path, bases):
        for candidate in (base / owner_name / "repo", base / owner_name, base / name):
            if (candidate / "HEAD").exists() or (candidate / ".git").exists():
                return candidate
    cache = Path.home() / ".cache" / "kenning" / "bench-repos" / f"{owner_name}.git"
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "clone", "--bare", "-q", f"https://github.com/{name}.git", str(cache)],
            check=True,
        )
    return cache


# ---- labelling the staleness set -------------------------------------------------------------


def line_change(before: str, after: str) -> float:
    """The share of lines rewritten (1 - difflib ratio over stripped, non-blank lines)."""
    a = [line.strip() for line in before.splitlines() if line.strip()]
    b = [line.strip() for line in after.splitlines() if line.strip()]
    if a == b:
        return 0.0
    return 1.0 - difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


class Tree:
    """The Python files of one commit, parsed on demand."""

    def __init__(self, repo: Path, commit: str) -> None:
        self.repo = repo
        self.commit = commit
        listing = git(repo, "ls-tree", "-r", "--name-only", commit)
        self.files = [p for p in listing.splitlines() if p.endswith(".py")]
        self._text: dict[str, str] = {}
        self._spans: dict[str, list[SymbolSpan]] = {}

    def text(self, path: str) -> str:
        if path not in self._text:
            self._text[path] = git(self.repo, "show", f"{self.commit}:{path}", check=False)
        return self._text[path]

    def spans(self, path: str) -> list[SymbolSpan]:
        if path not in self._spans:
            self._spans[path] = symbol_spans(path, self.text(path))
        return self._spans[path]

    def symbol_text(self, path: str, qualname: str) -> str | None:
        for span in self.spans(path):
            if span.qualname == qualname:
                return span_text(self.text(path), span)
        return None

    def defining(self, qualname: str) -> list[str]:
        return [p for p in self.files if any(s.qualname == qualname for s in self.spans(p))]


def _product_code(path: str) -> bool:
    parts = path.lower().split("/")
    return not any(p.startswith(("test", "docs", "example", "benchmark", "scripts")) for p in parts)


def label_window(
    repo: Path, name: str, before: str, after: str, split: str
) -> list[dict[str, Any]]:
    a_commit = git(repo, "rev-parse", f"{before}^{{commit}}").strip()
    b_commit = git(repo, "rev-parse", f"{after}^{{commit}}").strip()
    old, new = Tree(repo, a_commit), Tree(repo, b_commit)
    status = git(repo, "diff", "-M", "--name-status", "-z", a_commit, b_commit, "--", "*.py")
    fields = status.split("\0")
    renamed: dict[str, str] = {}
    deleted: set[str] = set()
    modified: set[str] = set()
    i = 0
    while i < len(fields):
        code = fields[i]
        if code.startswith("R"):
            renamed[fields[i + 1]] = fields[i + 2]
            i += 3
        elif code.startswith(("D", "M", "A", "T", "C")):
            if code.startswith("D"):
                deleted.add(fields[i + 1])
            elif code.startswith("M"):
                modified.add(fields[i + 1])
            i += 3 if code.startswith("C") else 2
        else:
            i += 1
    rng = random.Random(f"{name}:{before}:{after}")
    cases: list[dict[str, Any]] = []

    def symbols_of(path: str) -> list[SymbolSpan]:
        return [s for s in old.spans(path) if s.end - s.start >= 2]

    def add(path: str, span: SymbolSpan | None) -> None:
        text_a = span_text(old.text(path), span) if span else old.text(path)
        case: dict[str, Any] = {
            "repo": name,
            "before": before,
            "after": after,
            "before_commit": a_commit,
            "after_commit": b_commit,
            "split": split,
            "path": path,
            "symbol": span.qualname if span else None,
            "fp": fingerprint(text_a),
        }
        new_path = renamed.get(path, None if path in deleted else path)
        if span is None:
            if new_path is None:
                case.update(label="stale", cause="deleted", target=None)
            elif new_path != path:
                case.update(label="stale", cause="renamed", target=new_path)
            else:
                change = line_change(text_a, new.text(path))
                case.update(
                    label="stale" if change >= FILE_REWRITTEN else "fresh",
                    cause="changed"
                    if change >= FILE_REWRITTEN
                    else "unchanged"
                    if not change
                    else "edited",
                    target=None,
                    line_change=round(change, 3),
                )
            cases.append(case)
            return
        qualname = span.qualname
        text_b = new.symbol_text(new_path, qualname) if new_path else None
        if text_b is not None and new_path != path:
            case.update(label="stale", cause="renamed", target=f"{new_path}::{qualname}")
        elif text_b is not None:
            change = line_change(text_a, text_b)
            case.update(
                label="stale" if change >= REWRITTEN else "fresh",
                cause="changed" if change >= REWRITTEN else "unchanged" if not change else "edited",
                target=None,
                line_change=round(change, 3),
                fp_after=fingerprint(text_b),
            )
        else:
            elsewhere = [p for p in new.defining(qualname) if p != new_path]
            # Defined in several files now: the one whose code is closest is where it went.
            elsewhere.sort(key=lambda p: line_change(text_a, new.symbol_text(p, qualname) or ""))
            if elsewhere:
                case.update(label="stale", cause="moved", target=f"{elsewhere[0]}::{qualname}")
            else:
                case.update(label="stale", cause="deleted", target=None)
        cases.append(case)

    product = [p for p in old.files if _product_code(p)]
    strata: dict[str, list[tuple[str, SymbolSpan | None]]] = defaultdict(list)
    for path in product:
        spans = symbols_of(path)
        if path in deleted:
            strata["deleted"] += [(path, s) for s in spans]
            strata["deleted_file"].append((path, None))
        elif path in renamed:
            strata["renamed"] += [(path, s) for s in spans]
            strata["renamed_file"].append((path, None))
        elif path in modified:
            for s in spans:
                after_text = new.symbol_text(path, s.qualname)
                before_text = span_text(old.text(path), s)
                if after_text is None:
                    key = "gone"
                elif after_text == before_text:
                    key = "same_file"
                else:
                    key = (
                        "rewritten"
                        if line_change(before_text, after_text) >= REWRITTEN
                        else "edited"
                    )
                strata[key].append((path, s))
            strata["modified_file"].append((path, None))
        else:
            strata["untouched"] += [(path, s) for s in spans]
            strata["untouched_file"].append((path, None))
    for key, limit in (
        *PER_STRATUM.items(),
        ("deleted_file", 2),
        ("renamed_file", 2),
        ("modified_file", 3),
        ("untouched_file", 2),
    ):
        pool = strata.get(key, [])
        for path, span in rng.sample(pool, min(limit, len(pool))):
            add(path, span)
    return cases


def build_staleness(repos: Path | None) -> None:
    rows: list[dict[str, Any]] = []
    for name, before, after, split in WINDOWS:
        repo = find_repo(name, repos)
        cases = label_window(repo, name, before, after, split)
        print(f"{name} {before}..{after}: {len(cases)} cases", file=sys.stderr)
        rows += cases
    for n, row in enumerate(rows, 1):
        row["id"] = f"s{n:03d}"
    DATA.mkdir(parents=True, exist_ok=True)
    with (DATA / "staleness.jsonl").open("w") as fh:
        for row in rows:
            fh.write(json.dumps({"id": row.pop("id"), **row}, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} cases: {Counter(r['cause'] for r in rows)}", file=sys.stderr)


# ---- running the staleness set ---------------------------------------------------------------


def _memory_file(case: dict[str, Any], created: str) -> str:
    path, symbol = case["path"], case["symbol"]
    anchors = [path, f"{path}::{symbol}#{case['fp']}"] if symbol else [f"{path}#{case['fp']}"]
    subject = f"`{symbol}` in {path}" if symbol else path
    front = {
        "id": f"bench-{case['id']}",
        "kind": "fact",
        "title": f"Benchmark anchor: {subject}",
        "created": created,
        "status": "active",
        "source": "bench",
        "anchors": anchors,
        "provenance": {"tool": "bench", "commit": case["before_commit"]},
    }
    import yaml

    return "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n"


def run_staleness(repos: Path | None, cases: list[dict[str, Any]]) -> dict[str, Any]:
    from kenning.hygiene.staleness import refresh, stale_findings
    from kenning.workspace import Workspace

    by_window: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for case in cases:
        by_window[(case["repo"], case["before_commit"], case["after_commit"])].append(case)
    predictions: dict[str, dict[str, Any]] = {}
    timings: list[float] = []
    for (name, a_commit, b_commit), group in by_window.items():
        repo = find_repo(name, repos)
        with tempfile.TemporaryDirectory(prefix="kenning-bench-") as tmp:
            work = Path(tmp) / "w"
            subprocess.run(
                ["git", "clone", "-q", "--shared", "--no-checkout", str(repo), str(work)],
                check=True,
            )
            git(work, "checkout", "-q", "--detach", b_commit)
            created = git(work, "show", "-s", "--format=%cI", a_commit).strip()
            folder = work / ".kenning" / "memories" / "fact"
            folder.mkdir(parents=True)
            for case in group:
                (folder / f"bench-{case['id']}.md").write_text(_memory_file(case, created))
            ws = Workspace.open(work)
            ws.index(embed=False)
            runs = []
            for _ in range(3):  # again, warm: what an incremental run pays (median of 3)
                started = time.perf_counter()
                refresh(ws.db, work)
                runs.append(time.perf_counter() - started)
            timings.append(sorted(runs)[1])
            found = stale_findings(ws.db)
            ws.close()
            for case in group:
                findings = found.get(f"bench-{case['id']}", [])
                predictions[case["id"]] = {
                    "stale": bool(findings),
                    "causes": sorted({f.cause for f in findings}),
                    "targets": sorted({f.target for f in findings if f.target}),
                }
        print(f"  {name} {a_commit[:8]}..{b_commit[:8]}: {len(group)} cases", file=sys.stderr)
    return {"predictions": predictions, "warm_pass_seconds": timings}


def score_staleness(cases: list[dict[str, Any]], predictions: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for split in ("dev", "test", "all"):
        chosen = [c for c in cases if split == "all" or c["split"] == split]
        tp = sum(1 for c in chosen if c["label"] == "stale" and predictions[c["id"]]["stale"])
        fp = sum(1 for c in chosen if c["label"] == "fresh" and predictions[c["id"]]["stale"])
        fn = sum(1 for c in chosen if c["label"] == "stale" and not predictions[c["id"]]["stale"])
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        by_cause: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "flagged": 0})
        for c in chosen:
            by_cause[c["cause"]]["n"] += 1
            by_cause[c["cause"]]["flagged"] += int(predictions[c["id"]]["stale"])
        targeted = [c for c in chosen if c["cause"] in ("renamed", "moved") and c.get("target")]
        right = sum(1 for c in targeted if c["target"] in predictions[c["id"]]["targets"])
        out[split] = {
            "cases": len(chosen),
            "stale": sum(1 for c in chosen if c["label"] == "stale"),
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "f1": round(f1, 3),
            "by_cause": dict(by_cause),
            "target_right": f"{right}/{len(targeted)}",
        }
    return out


def calibrate(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Threshold sweep for "changed": fingerprint estimate vs the line-level label, per split."""
    edited = [c for c in cases if c["cause"] in ("changed", "edited", "unchanged") and c["symbol"]]
    rows = []
    for threshold in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        row: dict[str, Any] = {"threshold": threshold}
        for split in ("dev", "test"):
            tp = fp = fn = 0
            for c in edited:
                if c["split"] != split:
                    continue
                predicted = changed_fraction(c["fp"], c["fp_after"]) >= threshold
                tp += predicted and c["label"] == "stale"
                fp += predicted and c["label"] == "fresh"
                fn += (not predicted) and c["label"] == "stale"
            p = tp / (tp + fp) if tp + fp else 0.0
            r = tp / (tp + fn) if tp + fn else 0.0
            row[split] = round(2 * p * r / (p + r), 3) if p + r else 0.0
        rows.append(row)
    return rows


# ---- duplicates ------------------------------------------------------------------------------


def run_duplicates() -> dict[str, Any]:
    from kenning.hygiene.dedupe import compare, default_embed, is_duplicate

    rows = [json.loads(line) for line in (DATA / "duplicates.jsonl").open()]
    vectors = default_embed([t for r in rows for t in (r["existing"], r["new"])])
    out: dict[str, Any] = {}
    started = time.perf_counter()
    verdicts = []
    for i, r in enumerate(rows):
        dense = float(vectors[2 * i] @ vectors[2 * i + 1]) if vectors is not None else None
        sim = compare(r["existing"], r["new"])
        verdicts.append((is_duplicate(replace(sim, dense=dense)), is_duplicate(sim)))
    per_pair_ms = (time.perf_counter() - started) / len(rows) * 1000
    for split in ("dev", "test", "all"):
        for mode, index in (("embedding", 0), ("lexical_only", 1)):
            tp = fp = fn = 0
            for r, v in zip(rows, verdicts, strict=True):
                if split != "all" and r["split"] != split:
                    continue
                predicted = v[index]
                tp += predicted and r["duplicate"]
                fp += predicted and not r["duplicate"]
                fn += (not predicted) and r["duplicate"]
            p = tp / (tp + fp) if tp + fp else 0.0
            rc = tp / (tp + fn) if tp + fn else 0.0
            out.setdefault(split, {})[mode] = {
                "precision": round(p, 3),
                "recall": round(rc, 3),
                "f1": round(2 * p * rc / (p + rc), 3) if p + rc else 0.0,
            }
    out["pairs"] = len(rows)
    out["compare_ms_per_pair"] = round(per_pair_ms, 3)
    return out


# ---- capture ---------------------------------------------------------------------------------


def _matches(proposal: Any, gold: dict[str, Any]) -> bool:
    from kenning.memory import normalized

    text = normalized(proposal.text)
    return proposal.kind == gold["kind"] and all(normalized(k) in text for k in gold["keys"])


def _commit_body(source: str, repos: Path | None) -> str:
    """The body of a commit message, read from the repository (the set stores only `repo@sha`)."""
    name, _, commit = source.partition("@")
    message = git(find_repo(name, repos), "show", "-s", "--format=%B", commit)
    return message.strip().partition("\n")[2].strip()


def run_capture(repos: Path | None) -> dict[str, Any]:
    from kenning.hygiene.capture import propose_memories

    docs = [json.loads(line) for line in (DATA / "capture.jsonl").open()]
    for doc in docs:
        if doc["origin"] == "commit":
            doc["text"] = _commit_body(doc["source"], repos)
    out: dict[str, Any] = {}
    groups = [
        (f"{split}/{origin}", split, origin)
        for split in ("dev", "test")
        for origin in ("conversation", "commit", "all")
    ]
    for name, split, origin in groups:
        chosen = [d for d in docs if d["split"] == split and origin in ("all", d["origin"])]
        proposed = correct = wrong_kind = gold_total = gold_found = 0
        for doc in chosen:
            proposals = propose_memories(doc["text"], doc["id"], commit=doc["origin"] == "commit")
            proposed += len(proposals)
            gold_total += len(doc["memories"])
            for p in proposals:
                if any(_matches(p, g) for g in doc["memories"]):
                    correct += 1
                elif any(_matches(replace(p, kind=g["kind"]), g) for g in doc["memories"]):
                    wrong_kind += 1
            gold_found += sum(1 for g in doc["memories"] if any(_matches(p, g) for p in proposals))
        out[name] = {
            "documents": len(chosen),
            "proposals": proposed,
            "precision": round(correct / proposed, 3) if proposed else 0.0,
            "recall": round(gold_found / gold_total, 3) if gold_total else 0.0,
            "right_text_wrong_kind": wrong_kind,
        }
    return out


# ---- the table -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("command", nargs="?", default="run", choices=["run", "build-staleness"])
    parser.add_argument("--repos", type=Path, help="folder holding the bench repositories")
    parser.add_argument("--only", choices=["staleness", "duplicates", "capture"])
    parser.add_argument("--calibrate", action="store_true", help="print the threshold sweep")
    args = parser.parse_args()
    if args.command == "build-staleness":
        build_staleness(args.repos)
        return
    results: dict[str, Any] = {}
    if RESULTS.exists() and args.only:
        results = json.loads(RESULTS.read_text())
    if args.only in (None, "staleness"):
        cases = [json.loads(line) for line in (DATA / "staleness.jsonl").open()]
        if args.calibrate:
            for row in calibrate(cases):
                print(row)
        ran = run_staleness(args.repos, cases)
        results["staleness"] = score_staleness(cases, ran["predictions"])
        results["staleness"]["misses"] = [
            {
                "id": c["id"],
                "cause": c["cause"],
                "label": c["label"],
                "path": c["path"],
                "symbol": c["symbol"],
                "target": c.get("target"),
                "predicted": ran["predictions"][c["id"]],
            }
            for c in cases
            if (c["label"] == "stale") != ran["predictions"][c["id"]]["stale"]
            or (c.get("target") and c["target"] not in ran["predictions"][c["id"]]["targets"])
        ]
        warm = sorted(ran["warm_pass_seconds"])
        results["staleness"]["warm_pass_ms_median"] = round(warm[len(warm) // 2] * 1000, 1)
        results["staleness"]["warm_pass_ms_max"] = round(warm[-1] * 1000, 1)
        results["staleness"]["windows"] = len({(c["repo"], c["before"], c["after"]) for c in cases})
        results["staleness"]["repositories"] = sorted({c["repo"] for c in cases})
    if args.only in (None, "duplicates"):
        results["duplicates"] = run_duplicates()
    if args.only in (None, "capture"):
        results["capture"] = run_capture(args.repos)
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)


def print_table(results: dict[str, Any]) -> None:
    lines = [f"{'set':<28}{'split':<7}{'n':>6}{'precision':>11}{'recall':>9}{'F1':>8}"]
    s = results.get("staleness")
    if s:
        for split in ("dev", "test", "all"):
            r = s[split]
            lines.append(
                f"{'staleness (stale flag)':<28}{split:<7}{r['cases']:>6}{r['precision']:>11.3f}"
                f"{r['recall']:>9.3f}{r['f1']:>8.3f}"
            )
    d = results.get("duplicates")
    if d:
        for split in ("dev", "test"):
            for mode in ("embedding", "lexical_only"):
                r = d[split][mode]
                label = "duplicates" + (" (words only)" if mode == "lexical_only" else "")
                lines.append(
                    f"{label:<28}{split:<7}{'':>6}{r['precision']:>11.3f}{r['recall']:>9.3f}"
                    f"{r['f1']:>8.3f}"
                )
    c = results.get("capture")
    if c:
        for split in ("dev", "test"):
            for origin in ("conversation", "commit", "all"):
                r = c[f"{split}/{origin}"]
                lines.append(
                    f"{'capture (' + origin + ')':<28}{split:<7}{r['proposals']:>6}"
                    f"{r['precision']:>11.3f}{r['recall']:>9.3f}{'':>8}"
                )
    print("\n".join(lines))
    if s:
        print("\nstaleness by cause (all):")
        for cause, counts in sorted(s["all"]["by_cause"].items()):
            print(f"  {cause:<10} flagged {counts['flagged']:>3} of {counts['n']:>3}")
        print(f"  rename/move target right: {s['all']['target_right']}")
        print(
            f"  warm staleness pass per repository: median {s['warm_pass_ms_median']} ms, "
            f"max {s['warm_pass_ms_max']} ms"
        )


if __name__ == "__main__":
    main()
