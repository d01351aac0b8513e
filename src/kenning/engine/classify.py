"""Intent classification: what kind of help a request asks for.

Taxonomy: implement, fix, refactor, explain, review, test, docs, ops, decide, recall. This first
classifier scores cue words and phrases per intent (a transparent baseline that the routing issue
replaces with a trained model over embeddings plus these features); the margin between the two
best scores is the confidence, and a low one makes routing fall back to a balanced plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INTENTS = (
    "implement",
    "fix",
    "refactor",
    "explain",
    "review",
    "test",
    "docs",
    "ops",
    "decide",
    "recall",
)

CUES: dict[str, tuple[str, ...]] = {
    "implement": (
        "add",
        "implement",
        "build",
        "create",
        "support",
        "introduce",
        "new endpoint",
        "feature",
        "allow",
        "make it possible",
        "write a",
        "hook up",
        "wire",
    ),
    "fix": (
        "fix",
        "bug",
        "broken",
        "error",
        "exception",
        "traceback",
        "fails",
        "failing",
        "crash",
        "regression",
        "wrong",
        "doesn't work",
        "does not work",
        "500",
        "stack trace",
        "typeerror",
        "keyerror",
        "valueerror",
        "nullpointer",
        "panic",
        "flaky",
        "issue with",
    ),
    "refactor": (
        "refactor",
        "clean up",
        "cleanup",
        "rename",
        "extract",
        "split",
        "simplify",
        "move",
        "deduplicate",
        "restructure",
        "reorganize",
        "decouple",
        "tidy",
    ),
    "explain": (
        "explain",
        "how does",
        "how do",
        "what does",
        "why does",
        "walk me through",
        "understand",
        "where is",
        "how is",
        "what happens",
    ),
    "review": (
        "review",
        "look over",
        "check my",
        "feedback",
        "pr ",
        "pull request",
        "diff",
        "code review",
        "sanity check",
        "lgtm",
    ),
    "test": (
        "test",
        "tests",
        "unit test",
        "coverage",
        "pytest",
        "jest",
        "assert",
        "fixture",
        "mock",
        "e2e",
        "integration test",
    ),
    "docs": (
        "docs",
        "document",
        "documentation",
        "readme",
        "docstring",
        "changelog",
        "comment",
        "write up",
        "guide",
        "tutorial",
    ),
    "ops": (
        "deploy",
        "ci",
        "pipeline",
        "docker",
        "kubernetes",
        "k8s",
        "helm",
        "terraform",
        "build fails",
        "dependency",
        "dependencies",
        "upgrade",
        "bump",
        "release",
        "staging",
        "production",
        "prod",
        "github actions",
        "workflow",
        "makefile",
        "env var",
        "config",
        "migration",
        "rollback",
        "monitoring",
        "alert",
        "on-call",
    ),
    "decide": (
        "should we",
        "should i",
        "which is better",
        "vs",
        "versus",
        "or should",
        "trade-off",
        "tradeoff",
        "pros and cons",
        "choose",
        "pick between",
        "compare",
        "worth it",
        "alternatives",
    ),
    "recall": (
        "what did we decide",
        "did we decide",
        "who is",
        "who owns",
        "who's",
        "what is",
        "what's the",
        "remind me",
        "what does",
        "mean",
        "why did we",
        "when did we",
        "do we have a rule",
        "what was",
        "what port",
        "who to ask",
    ),
}


@dataclass(frozen=True)
class Intent:
    """The classified intent, a possible second one, and how sure the classifier is."""

    label: str
    confidence: float
    secondary: str | None = None
    scores: dict[str, float] | None = None


def _score(text: str) -> dict[str, float]:
    low = f" {text.lower()} "
    scores = dict.fromkeys(INTENTS, 0.0)
    for intent, cues in CUES.items():
        for cue in cues:
            pattern = r"(?<![\w])" + re.escape(cue.strip()) + r"(?![\w])"
            hits = len(re.findall(pattern, low))
            if hits:
                weight = 1.0 + 0.5 * cue.count(" ")
                scores[intent] += weight * min(hits, 2)
    first = low.strip().split(" ", 1)[0]
    for intent in INTENTS:
        if first in CUES[intent]:
            scores[intent] += 1.0  # an imperative verb up front is the strongest cue
    if low.strip().endswith("?") and scores["recall"] + scores["explain"] == 0:
        scores["explain"] += 0.5
    return scores


def classify(request: str) -> Intent:
    """The intent of `request`; an empty or cue-less request is a low-confidence `implement`."""
    scores = _score(request[:5000])
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, top), (second, runner) = ranked[0], ranked[1]
    if top <= 0:
        return Intent("implement", 0.0, None, scores)
    confidence = round(min(1.0, (top - runner) / top * 0.7 + min(top, 3.0) / 10), 3)
    secondary = second if runner > 0 and runner >= top * 0.5 else None
    return Intent(best, confidence, secondary, scores)
