"""Local model figures for issue 6: speed of the default model, and what the packet is worth.

    python bench/llm_bench.py [--threads 1,2] [--runs 3] [--budgets 1024,2000] [--skip-accuracy]
                              [--no-vectors] [--model PATH.gguf] [--out bench/results/llm.json]

Speed, for each thread count (the packaged SmolLM2-135M-Instruct GGUF unless --model;
llama.cpp in this process):
- load: seconds to open the GGUF (median of --runs fresh loads);
- first token, cold: a fresh model, an ask-sized prompt (system + packet + question);
- first token, warm: the same prompt again (the whole prefix comes from the KV cache);
- first token, follow-up: the next chat turn (history + a new question), as ``kenning chat``
  sends it, with how many prompt tokens were reused from the cache;
- tokens/s: decode speed over a 128-token answer, after the first token.

Accuracy: questions about the sample project ``examples/tidewater/`` whose answers are in its
memories and docs, asked (a) with kenning's packet at each of --budgets (1024 is what ``kenning
ask`` uses with a 4096-token window), and (b) with the question alone. An answer counts when it contains the expected fact (a regex). Questions whose
answer is not in the project are asked too, to count how often the model admits it ("The
context does not say") versus invents, and how often kenning's gate declines to ask at all.

The machine is usually shared: the load average is recorded with the figures, and CPU seconds
beside wall seconds where it matters.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "tidewater"

sys.path.insert(0, str(ROOT / "src"))

from kenning.llm.base import Message  # noqa: E402
from kenning.llm.llamacpp import LlamaCppModel, default_model_path  # noqa: E402
from kenning.llm.prompt import SYSTEM_PROMPT, PacketLike  # noqa: E402
from kenning.llm.session import Brief, Conversation  # noqa: E402

# An ask-sized context (about 500 tokens), so the cold first token includes real prompt work.
SPEED_CONTEXT = "\n\n".join(
    [
        "[staging-runs-on-port-8043-1b7e] fact: Staging API runs on port 8043\nStaging is "
        "`staging.tidewater.internal:8043`, reachable over the VPN only. Stripe is in test mode "
        "there and outgoing email goes to a sink mailbox.",
        "[production-deploy-days-5d12] fact: Production deploys on Tuesdays and Thursdays only\n"
        "Marek deploys production on Tuesdays and Thursdays before 15:00; never on the last two "
        "working days of a month (Harbourline's invoicing run).",
        "[marek-nowak-b28f] person: Marek Nowak\nContractor who runs our infrastructure: the "
        "PostgreSQL instances, staging, deploys and backups. Cares about fewer moving parts (he "
        "pushed to drop Redis), deploys only on Tuesdays and Thursdays, and runbooks for "
        "anything that pages at night.",
        "[migrations-are-append-only-91ce] rule: Never edit a merged migration; add a new "
        "numbered one\nFiles in `migrations/` that are on main are frozen: production and "
        "staging already ran them. Schema changes are a new file `NNNN_short_name.sql`, one "
        "concern per file. Adding a NOT NULL column to a large table is two migrations (add "
        "nullable + backfill, then set NOT NULL).",
        "[never-log-secrets-in-auth-c3e8] rule: Never log session ids, API tokens or password "
        "fields\nLog user ids and token prefixes, never a session id, a full API token, a CSRF "
        "token or any password field, not even at DEBUG. Found once in a staging log in "
        "September 2025.",
        "[README.md:26-36] doc: tidewater > Running it\n`make dev` starts PostgreSQL and the API "
        "on port 8000; `make worker` starts the job worker. Staging runs on port 8043 (see "
        "`docs/architecture.md`).",
    ]
)
SPEED_QUESTION = "Which port does the staging API run on?"
FOLLOW_UP = "Who deploys it, and on which days?"
LONG_ANSWER = [
    Message("system", "You are a helpful assistant."),
    Message("user", "Write a long, detailed story about a lighthouse keeper and a storm."),
]

# (question, regexes of which one must match the answer, lower-cased)
ANSWERABLE: list[tuple[str, list[str]]] = [
    ("Which port does the staging API run on?", [r"\b8043\b"]),
    ("On which days of the week are production deploys done?", [r"tuesday", r"thursday"]),
    (
        "How many attempts does a webhook delivery get before it goes to the dead-letter table?",
        [r"\b8\b", r"\beight\b"],
    ),
    ("Who is the head of finance at Harbourline Freight?", [r"\bdana\b"]),
    ("Which payment service provider do we use?", [r"stripe"]),
    ("At what time does the settlement run start each day?", [r"\b0?6:00\b", r"\b6 ?am\b"]),
    ("How are money amounts stored in tidewater?", [r"\bcents\b"]),
    ("Who owns payments, the ledger and the settlement run?", [r"\bpriya\b"]),
    ("On which day is the on-call handover?", [r"monday"]),
    (
        "How many days after the due date is the first dunning reminder sent?",
        [r"\b3\b", r"\bthree\b"],
    ),
    ("Who runs our infrastructure?", [r"\bmarek\b"]),
    ("What timeout do PSP calls use?", [r"\b8 ?s\b", r"\b8 seconds\b", r"\beight seconds\b"]),
    ("Where are dashboard sessions stored?", [r"postgres", r"sessions table"]),
    ("Which queue do background jobs use now?", [r"postgres", r"\bjobs table\b", r"jobs\.queue"]),
]
# Not answerable from the project: the honest answer is that the context does not say.
UNANSWERABLE = [
    "What is the password of the production database?",
    "Which port does the production API run on?",
    "What is the name of our CEO's dog?",
    "Which cloud region hosts the backups?",
]
ABSTAIN = re.compile(
    r"context does not say|does not (say|mention|contain)|not (in|given in) the context|no information",
    re.I,
)


@dataclass
class Timed:
    first: float
    total: float
    text: str


def stream_timed(model: LlamaCppModel, messages: Sequence[Message], max_tokens: int) -> Timed:
    started = time.perf_counter()
    first: float | None = None
    pieces: list[str] = []
    for piece in model.stream(messages, max_tokens=max_tokens, temperature=0.0):
        if first is None:
            first = time.perf_counter() - started
        pieces.append(piece)
    total = time.perf_counter() - started
    return Timed(first if first is not None else total, total, "".join(pieces))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def speed(model_path: Path, threads: int, runs: int) -> dict[str, Any]:
    ask = [
        Message("system", SYSTEM_PROMPT),
        Message("user", f"Context:\n{SPEED_CONTEXT}\n\nQuestion: {SPEED_QUESTION}"),
    ]
    loads, colds, cold_cpu, warms, follows, reused, rates = [], [], [], [], [], [], []
    prompt_tokens = 0
    load_before = os.getloadavg()[0]
    for _ in range(runs):
        started = time.perf_counter()
        model = LlamaCppModel(model_path, threads=threads)
        loads.append(time.perf_counter() - started)
        prompt_tokens = sum(model.count_tokens(m.content) for m in ask)
        cpu = cpu_seconds()
        cold = stream_timed(model, ask, 1)
        cold_cpu.append(cpu_seconds() - cpu)
        colds.append(cold.first)
        model.generate(ask, max_tokens=48, temperature=0.0)  # the answer the follow-up builds on
        warms.append(stream_timed(model, ask, 48).first)
        answer = stream_timed(model, ask, 48).text
        follow = [
            *ask,
            Message("assistant", answer),
            Message("user", f"Context: none new.\n\nQuestion: {FOLLOW_UP}"),
        ]
        follows.append(stream_timed(model, follow, 48).first)
        reused.append(model.reused_tokens)
        long = stream_timed(model, LONG_ANSWER, 128)
        produced = model.count_tokens(long.text)
        if produced > 1 and long.total > long.first:
            rates.append((produced - 1) / (long.total - long.first))
        del model
    return {
        "model": model_path.name,
        "threads": threads,
        "runs": runs,
        "loadavg_1m": round((load_before + os.getloadavg()[0]) / 2, 2),
        "prompt_tokens": prompt_tokens,
        "load_s": statistics.median(loads),
        "first_token_cold_s": statistics.median(colds),
        "first_token_cold_cpu_s": statistics.median(cold_cpu),
        "first_token_warm_s": statistics.median(warms),
        "first_token_follow_up_s": statistics.median(follows),
        "follow_up_reused_tokens": int(statistics.median(reused)),
        "tokens_per_s": statistics.median(rates) if rates else None,
    }


def indexed_sample(vectors: bool) -> tuple[Any, Path]:
    from kenning.workspace import Workspace

    target = Path(tempfile.mkdtemp(prefix="kenning-llm-bench-")) / "tidewater"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("index"))
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    ws = Workspace.open(target)
    ws.index(embed=vectors)
    return ws, target


def briefer(ws: Any, budget: int) -> Brief:
    def brief(question: str) -> PacketLike:
        packet: PacketLike = ws.brief(question, budget=budget)
        return packet

    return brief


def correct(answer: str, patterns: Sequence[str]) -> bool:
    low = answer.lower()
    return any(re.search(p, low) for p in patterns)


def accuracy(
    model_path: Path, threads: int | None, vectors: bool, budgets: Sequence[int]
) -> dict[str, Any]:
    ws, target = indexed_sample(vectors)
    model = LlamaCppModel(model_path, threads=threads)
    started, cpu = time.perf_counter(), cpu_seconds()
    rows: list[dict[str, Any]] = []
    for question, patterns in ANSWERABLE:
        bare = model.generate(
            [Message("system", "Answer briefly."), Message("user", question)],
            max_tokens=96,
            temperature=0.0,
        )
        row: dict[str, Any] = {
            "question": question,
            "without_packet": correct(bare, patterns),
            "answer_without_packet": bare[:300],
        }
        for budget in budgets:
            conversation = Conversation(model, brief=briefer(ws, budget), max_answer_tokens=96)
            conversation.strict = False  # grade every answer; the gate is counted below
            reply = conversation.ask(question)
            row[f"budget_{budget}"] = {
                "support": reply.support.value,
                "items": len(reply.prompt.used),
                "prompt_tokens": reply.prompt.tokens,
                "correct": correct(reply.answer, patterns),
                "answer": reply.answer[:300],
            }
        rows.append(row)
    unanswerable: list[dict[str, Any]] = []
    for question in UNANSWERABLE:
        gate = Conversation(model, brief=briefer(ws, budgets[0]), max_answer_tokens=96)
        prepared = gate.prepare(question)  # strict, as `kenning ask`
        gate.strict = False
        reply = gate.ask(question)
        unanswerable.append(
            {
                "question": question,
                "support": prepared.support.value,
                "ask_declines": not prepared.will_answer,
                "model_abstains": bool(ABSTAIN.search(reply.answer)),
                "answer": reply.answer[:300],
            }
        )
    ws.close()
    shutil.rmtree(target.parent, ignore_errors=True)
    return {
        "project": "examples/tidewater",
        "vectors": vectors,
        "threads": model.threads,
        "questions": len(rows),
        "correct_without_packet": sum(r["without_packet"] for r in rows),
        "correct_with_packet": {
            str(b): sum(r[f"budget_{b}"]["correct"] for r in rows) for b in budgets
        },
        "mean_prompt_tokens": {
            str(b): round(statistics.mean(r[f"budget_{b}"]["prompt_tokens"] for r in rows))
            for b in budgets
        },
        "unanswerable": len(unanswerable),
        "ask_declines": sum(u["ask_declines"] for u in unanswerable),
        "model_abstains_when_asked_anyway": sum(u["model_abstains"] for u in unanswerable),
        "wall_s": time.perf_counter() - started,
        "cpu_s": cpu_seconds() - cpu,
        "rows": rows,
        "unanswerable_rows": unanswerable,
    }


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="a GGUF file (default: packaged)")
    parser.add_argument("--threads", type=ints, default=[1, 2], help="thread counts, e.g. 1,2")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--budgets", type=ints, default=[1024, 2000], help="packet budgets")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--no-vectors", action="store_true", help="index the sample lexically")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "llm.json")
    args = parser.parse_args(argv)

    model_path = args.model or default_model_path()
    result: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "speed": [speed(model_path, t, args.runs) for t in args.threads],
    }
    if not args.skip_accuracy:
        result["accuracy"] = accuracy(model_path, None, not args.no_vectors, args.budgets)

    rows = [
        ("load", "load_s", "s"),
        ("first token, cold", "first_token_cold_s", "s"),
        ("  CPU seconds for it", "first_token_cold_cpu_s", "s"),
        ("first token, warm (same prompt)", "first_token_warm_s", "s"),
        ("first token, chat follow-up", "first_token_follow_up_s", "s"),
        ("  prompt tokens reused", "follow_up_reused_tokens", ""),
        ("decode", "tokens_per_s", "tokens/s"),
    ]
    speeds = result["speed"]
    print(
        f"{model_path.name}, {speeds[0]['prompt_tokens']}-token ask prompt, "
        f"median of {args.runs} runs, {os.cpu_count()} CPUs"
    )
    print(f"{'':<34}" + "".join(f"{str(s['threads']) + ' thread(s)':>14}" for s in speeds))
    print(
        f"{'load average (1 min) meanwhile':<34}"
        + "".join(f"{s['loadavg_1m']:>14.1f}" for s in speeds)
    )
    for label, key, unit in rows:
        cells = "".join(
            f"{s[key]:>11.2f} {unit:<2}" if isinstance(s[key], float) else f"{s[key]!s:>11}   "
            for s in speeds
        )
        print(f"{label:<34}{cells}")
    if "accuracy" in result:
        a = result["accuracy"]
        index = "hybrid index" if a["vectors"] else "lexical index"
        print(
            f"\nexamples/tidewater, {a['questions']} answerable questions ({index}, "
            f"{a['threads']} thread(s)):"
        )
        print(f"{'question alone':<34}{a['correct_without_packet']:>5} / {a['questions']}")
        for budget, n in a["correct_with_packet"].items():
            tokens = a["mean_prompt_tokens"][budget]
            print(
                f"{'with the packet, budget ' + budget:<34}{n:>5} / {a['questions']}"
                f"   (prompt {tokens} tokens on average)"
            )
        print(
            f"{a['unanswerable']} questions the project cannot answer: `kenning ask` declines "
            f"{a['ask_declines']}; asked anyway, the model admits it "
            f"{a['model_abstains_when_asked_anyway']}"
        )
        print(f"accuracy run: {a['wall_s']:.0f} s wall, {a['cpu_s']:.0f} CPU s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    shown = args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out
    print(f"\nwrote {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
