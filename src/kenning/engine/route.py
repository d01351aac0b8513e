"""Routing: from an intent to a plan of what to fetch and how to spend the token budget.

Every intent has one row in `PLANS`, readable as a table: how many items of each kind may enter
the packet, how many more files it lists in one line each (`files`: the file ranking's next
candidates, path + best symbol, a few tokens apiece, after the code excerpts), what share of the
budget code may use, how strongly graph expansion from the linked entities counts, and which
*expansions* to run from the entities the request names:

- `callers`: code that calls a named symbol (a `fix` or a `refactor` needs to know who breaks);
- `tests`: the tests that exercise a named symbol or file;
- `recent_decisions`: the newest decisions and rules that mention the named or touched code;
- `docs`: documentation that mentions what the request names.

(The definitions of named symbols and the rules scoped to touched paths are in every packet; no
expansion is needed for them.) A low-confidence intent gets the `balanced` plan, which expands
nothing. Users override any row in `.kenning/config.toml`:

    [route.fix]
    quotas = { code = 8, decision = 1 }
    files = 12
    code_share = 0.75
    expand = ["callers", "tests"]

This module is pure: it decides, `kenning.engine.expand` runs the expansions.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from kenning.engine.classify import Intent

# Below this probability the classifier's guess is not trusted with a specialised plan.
LOW_CONFIDENCE = 0.45
KINDS = ("code", "doc", "decision", "rule", "preference", "person", "term", "fact", "note")
EXPANSIONS = ("callers", "tests", "recent_decisions", "docs")


@dataclass(frozen=True)
class Plan:
    """Quotas per kind (items), the code share of the budget, graph weight and expansions."""

    name: str
    quotas: dict[str, int] = field(default_factory=dict)
    files: int = 0
    code_share: float = 0.6
    graph_weight: float = 0.6
    max_item_tokens: int = 450
    expand: tuple[str, ...] = ()
    why: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "quotas": dict(self.quotas),
            "files": self.files,
            "code_share": self.code_share,
            "graph_weight": self.graph_weight,
            "max_item_tokens": self.max_item_tokens,
            "expand": list(self.expand),
            "why": self.why,
        }


def _row(
    name: str,
    counts: tuple[int, int, int, int, int, int, int, int, int],
    files: int,
    code_share: float,
    graph: float,
    expand: tuple[str, ...],
    why: str,
) -> Plan:
    quotas = dict(zip(KINDS, counts, strict=True))
    return Plan(name, quotas, files, code_share, graph, 450, expand, why)


_FIX = ("callers", "tests", "recent_decisions")
_REVIEW = ("recent_decisions", "tests")

# fmt: off
# `files`: how many files beyond the code excerpts are listed in one line each. A change
# (implement, fix, refactor, test, review; ops and docs, which edit config, build files and the
# code whose docstrings they fix) is about which files to open, so those plans list many;
# recall and decide are about memories and list few.
#                      code doc dec rule pref pers term fact note  files code%  graph  expand
PLANS: dict[str, Plan] = {p.name: p for p in (
    _row("implement", (5, 1, 2, 3, 2, 1, 2, 1, 1), 12, 0.60, 0.6, ("recent_decisions",),
         "code to change and the decisions and rules it must respect"),
    _row("fix",       (6, 1, 2, 2, 1, 1, 1, 2, 1), 12, 0.70, 0.8, _FIX,
         "the failing code, its callers and tests, and recent decisions about it"),
    _row("refactor",  (6, 0, 2, 3, 2, 0, 1, 1, 1), 12, 0.65, 0.8, ("callers", "tests"),
         "the code, everything that calls it, and the tests that pin its behaviour"),
    _row("explain",   (5, 2, 2, 1, 0, 1, 3, 1, 1),  6, 0.60, 0.6, ("docs",),
         "definitions, docs and the glossary"),
    _row("review",    (4, 0, 3, 4, 2, 1, 1, 1, 1), 12, 0.50, 0.6, _REVIEW,
         "rules scoped to the touched paths and recent decisions about them"),
    _row("test",      (5, 0, 1, 3, 2, 0, 1, 2, 1), 12, 0.65, 0.7, ("tests",),
         "the code under test, its existing tests and the testing rules"),
    _row("docs",      (3, 3, 2, 2, 2, 1, 3, 1, 1),  8, 0.40, 0.4, ("docs",),
         "the docs to change, the code they describe and the glossary"),
    _row("ops",       (4, 2, 2, 3, 1, 1, 1, 3, 2),  8, 0.45, 0.5, ("docs",),
         "config, runbooks and the facts about environments"),
    _row("decide",    (2, 1, 4, 3, 2, 1, 2, 2, 2),  4, 0.30, 0.5, ("recent_decisions",),
         "past decisions and what was ruled out"),
    _row("recall",    (2, 1, 4, 2, 2, 3, 3, 4, 6),  2, 0.20, 0.5, ("recent_decisions",),
         "memories over code"),
    _row("balanced",  (5, 1, 3, 3, 2, 2, 2, 2, 2),  6, 0.50, 0.6, (),
         "no confident intent: a little of everything"),
)}
# fmt: on


def plan_for(intent: Intent, overrides: dict[str, Any] | None = None) -> Plan:
    """The plan for `intent`, with the user's `[route.<name>]` overrides applied.

    An intent below `LOW_CONFIDENCE` (or one not in the table) gets the balanced plan.
    """
    confident = intent.confidence >= LOW_CONFIDENCE and intent.label in PLANS
    name = intent.label if confident else "balanced"
    plan = PLANS[name]
    if name == "balanced" and intent.label in PLANS and intent.label != "balanced":
        plan = replace(plan, why=f"{plan.why} (best guess {intent.label}, {intent.confidence:.2f})")
    return apply_overrides(plan, (overrides or {}).get(name))


def apply_overrides(plan: Plan, custom: Any) -> Plan:
    """`plan` with the fields a `[route.<name>]` table sets; unknown keys and kinds are ignored."""
    if not isinstance(custom, dict):
        return plan
    quotas = dict(plan.quotas)
    raw_quotas = custom.get("quotas")
    if isinstance(raw_quotas, dict):
        for kind, value in raw_quotas.items():
            if kind in quotas:
                quotas[kind] = max(0, _int(value, quotas[kind]))
    expand = plan.expand
    raw_expand = custom.get("expand")
    if isinstance(raw_expand, list | tuple):
        expand = tuple(str(e) for e in raw_expand if str(e) in EXPANSIONS)
    return replace(
        plan,
        quotas=quotas,
        files=max(0, _int(custom.get("files"), plan.files)),
        code_share=_fraction(custom.get("code_share"), plan.code_share),
        graph_weight=_fraction(custom.get("graph_weight"), plan.graph_weight, top=5.0),
        max_item_tokens=max(40, _int(custom.get("max_item_tokens"), plan.max_item_tokens)),
        expand=expand,
        why=plan.why + " (with your overrides)",
    )


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _fraction(value: Any, default: float, top: float = 1.0) -> float:
    try:
        return min(top, max(0.0, float(value)))
    except (TypeError, ValueError):
        return default
