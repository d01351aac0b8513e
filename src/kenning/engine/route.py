"""Routing: from an intent to a plan of what to fetch and how to spend the token budget.

Every intent has one row in `PLANS`: how many items of each kind may enter the packet, what share
of the budget code may use, and how strongly graph expansion from linked entities counts. Users
override rows in `.kenning/config.toml` under `[route.<intent>]`. A low-confidence intent gets
the balanced plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from kenning.engine.classify import Intent

LOW_CONFIDENCE = 0.2


@dataclass(frozen=True)
class Plan:
    """Quotas per kind (items), the code share of the budget, and graph weight."""

    name: str
    quotas: dict[str, int] = field(default_factory=dict)
    code_share: float = 0.6
    graph_weight: float = 0.6
    max_item_tokens: int = 450

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "quotas": dict(self.quotas),
            "code_share": self.code_share,
            "graph_weight": self.graph_weight,
            "max_item_tokens": self.max_item_tokens,
        }


def _q(
    code: int,
    doc: int,
    decision: int,
    rule: int,
    preference: int,
    person: int,
    term: int,
    fact: int,
    note: int,
) -> dict[str, int]:
    return {
        "code": code,
        "doc": doc,
        "decision": decision,
        "rule": rule,
        "preference": preference,
        "person": person,
        "term": term,
        "fact": fact,
        "note": note,
    }


#                          code doc dec rule pref pers term fact note   code_share graph
PLANS: dict[str, Plan] = {
    "implement": Plan("implement", _q(5, 1, 2, 3, 2, 1, 2, 1, 1), 0.60, 0.6),
    "fix": Plan("fix", _q(6, 1, 2, 2, 1, 1, 1, 2, 1), 0.70, 0.8),
    "refactor": Plan("refactor", _q(6, 0, 2, 3, 2, 0, 1, 1, 1), 0.65, 0.8),
    "explain": Plan("explain", _q(5, 2, 2, 1, 0, 1, 3, 1, 1), 0.60, 0.6),
    "review": Plan("review", _q(4, 0, 3, 4, 2, 1, 1, 1, 1), 0.50, 0.6),
    "test": Plan("test", _q(5, 0, 1, 3, 2, 0, 1, 2, 1), 0.65, 0.7),
    "docs": Plan("docs", _q(3, 3, 2, 2, 2, 1, 3, 1, 1), 0.40, 0.4),
    "ops": Plan("ops", _q(4, 2, 2, 3, 1, 1, 1, 3, 2), 0.45, 0.5),
    "decide": Plan("decide", _q(2, 1, 4, 3, 2, 1, 2, 2, 2), 0.30, 0.5),
    "recall": Plan("recall", _q(2, 1, 4, 2, 2, 3, 3, 3, 3), 0.20, 0.5),
    "balanced": Plan("balanced", _q(5, 1, 3, 3, 2, 2, 2, 2, 2), 0.50, 0.6),
}


def plan_for(intent: Intent, overrides: dict[str, Any] | None = None) -> Plan:
    """The plan for `intent`, with the user's `[route.<name>]` overrides applied."""
    name = intent.label if intent.confidence >= LOW_CONFIDENCE else "balanced"
    plan = PLANS.get(name, PLANS["balanced"])
    custom = (overrides or {}).get(name)
    if isinstance(custom, dict):
        quotas = dict(plan.quotas)
        quotas.update({k: int(v) for k, v in custom.get("quotas", {}).items() if k in quotas})
        plan = replace(
            plan,
            quotas=quotas,
            code_share=float(custom.get("code_share", plan.code_share)),
            graph_weight=float(custom.get("graph_weight", plan.graph_weight)),
        )
    return plan
