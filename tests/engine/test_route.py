"""Routing: the plan table, overrides, expansions on the sample project, and `kenning route`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kenning.cli import cli
from kenning.engine.classify import INTENTS, Intent
from kenning.engine.route import EXPANSIONS, KINDS, LOW_CONFIDENCE, PLANS, apply_overrides, plan_for


def test_every_intent_has_one_plan_row_and_the_balanced_fallback() -> None:
    assert set(PLANS) == {*INTENTS, "balanced"}
    for plan in PLANS.values():
        assert set(plan.quotas) == set(KINDS)
        assert 0.0 < plan.code_share <= 1.0
        assert set(plan.expand) <= set(EXPANSIONS)
        assert plan.why
    assert PLANS["balanced"].expand == ()
    assert {"callers", "tests"} <= set(PLANS["fix"].expand)
    assert "recent_decisions" in PLANS["review"].expand
    assert PLANS["recall"].code_share < PLANS["fix"].code_share


def test_a_low_confidence_intent_gets_the_balanced_plan_and_says_what_it_guessed() -> None:
    plan = plan_for(Intent("fix", LOW_CONFIDENCE - 0.01))
    assert plan.name == "balanced"
    assert "fix" in plan.why
    assert plan_for(Intent("fix", 0.9)).name == "fix"
    assert plan_for(Intent("nonsense", 0.99)).name == "balanced"


def test_user_overrides_change_only_what_they_name() -> None:
    overrides = {
        "fix": {"quotas": {"code": 9, "bogus": 3}, "code_share": 0.8, "expand": ["tests", "x"]}
    }
    plan = plan_for(Intent("fix", 0.9), overrides)
    assert plan.quotas["code"] == 9
    assert "bogus" not in plan.quotas
    assert plan.quotas["rule"] == PLANS["fix"].quotas["rule"]
    assert plan.code_share == 0.8
    assert plan.expand == ("tests",)
    assert plan_for(Intent("review", 0.9), overrides) == PLANS["review"]


@pytest.mark.parametrize(
    "custom",
    [
        {"code_share": "lots"},
        {"code_share": 7},
        {"quotas": "many"},
        {"quotas": {"code": "x"}},
        {"expand": "callers"},
        "not a table",
    ],
)
def test_bad_override_values_fall_back_to_the_table(custom: Any) -> None:
    plan = apply_overrides(PLANS["fix"], custom)
    assert 0.0 <= plan.code_share <= 1.0
    assert plan.quotas["code"] == PLANS["fix"].quotas["code"]
    assert set(plan.expand) <= set(EXPANSIONS)


def test_plan_json_names_its_expansions() -> None:
    data = PLANS["fix"].to_dict()
    assert data["expand"] == list(PLANS["fix"].expand)
    assert {"name", "quotas", "code_share", "graph_weight", "max_item_tokens", "why"} <= set(data)


def refs(packet: Any) -> list[str]:
    return [i.ref for i in packet.items]


def test_a_fix_pulls_the_named_symbols_callers_and_tests(indexed_sample: Any) -> None:
    packet = indexed_sample.brief(
        "compute_invoice_total returns the wrong tax when there's a discount", 2000
    )
    assert packet.intent == "fix"
    whys = [i.why for i in packet.items]
    assert any(w.startswith("calls `compute_invoice_total`") for w in whys)
    assert any(w.startswith("tests `compute_invoice_total`") for w in whys)
    unrouted = indexed_sample.brief(
        "compute_invoice_total returns the wrong tax when there's a discount", 2000, routed=False
    )
    assert unrouted.plan["name"] == "balanced"
    assert not any(i.why.startswith("calls `") for i in unrouted.items)


def test_a_review_pulls_recent_decisions_about_the_named_code(indexed_sample: Any) -> None:
    packet = indexed_sample.brief("review my change to WebhookSender.send", 2000)
    assert packet.intent == "review"
    decision = next(
        i for i in packet.items if i.ref == "webhook-retries-capped-jittered-backoff-a73f"
    )
    assert decision.why.startswith("recent decision about")


def test_a_diff_passed_to_the_brief_is_checked_for_conflicts(indexed_sample: Any) -> None:
    diff = (
        "--- a/src/tidewater/ledger/entries.py\n+++ b/src/tidewater/ledger/entries.py\n"
        "@@ -1,2 +1,3 @@\n"
        '+    conn.execute("UPDATE ledger_entries SET amount_cents = %s WHERE id = %s", (c, i))\n'
    )
    packet = indexed_sample.brief("correct the amount on entry 77", 1500, diff=diff)
    assert "ledger-is-append-only-d402" in [c.ref for c in packet.conflicts]
    assert packet.items[0].ref == packet.conflicts[0].ref


def run(sample: Path, *args: str, stdin: str | None = None) -> Any:
    result = CliRunner().invoke(cli, ["-C", str(sample), "route", *args], input=stdin)
    assert result.exit_code == 0, result.output
    return result


def test_route_prints_intent_entities_and_plan(indexed_sample: Any) -> None:
    out = run(indexed_sample.root, "fix the webook sender retry on 429").output
    assert "intent: fix" in out
    assert "WebhookSender" in out
    assert "plan: fix" in out
    assert "callers" in out
    assert f"list {PLANS['fix'].files} more files" in out


def test_route_json_and_explain(indexed_sample: Any) -> None:
    out = run(indexed_sample.root, "who is the client?", "--json", "--explain").output
    data = json.loads(out)
    assert data["intent"]["label"] == "recall"
    assert any(e["node"] == "mem:dana-whitfield-7e21" for e in data["entities"])
    assert data["plan"]["name"] in ("recall", "balanced")
    assert data["packet"]["items"]
    assert all(item["why"] for item in data["packet"]["items"])


def test_route_reports_ambiguity_and_conflicts_from_a_diff_on_stdin(indexed_sample: Any) -> None:
    diff = "--- /dev/null\n+++ b/src/tidewater/payments/fx.py\n+rate = float(raw)\n"
    out = run(
        indexed_sample.root, "store the VAT amount as a float", "--diff", "-", stdin=diff
    ).output
    assert "conflicts" in out.lower()
    assert "money-is-integer-cents-b41a" in out


@pytest.mark.parametrize("request_text", ["", "   ", "\x00\x01", "x" * 1_000_000, "日本語の質問"])
def test_route_never_fails_on_bad_input(indexed_sample: Any, request_text: str) -> None:
    result = CliRunner().invoke(cli, ["-C", str(indexed_sample.root), "route", request_text])
    assert result.exit_code in (0, 1)
    assert "Traceback" not in result.output
    assert result.output.strip()


def test_route_says_when_a_named_file_does_not_exist(indexed_sample: Any) -> None:
    out = run(indexed_sample.root, "fix src/tidewater/nope.py", "--file", "src/nope.py").output
    assert "src/nope.py" in out


def test_route_overrides_in_the_project_config_reach_the_plan(sample: Path) -> None:
    (sample / ".kenning" / "config.toml").write_text(
        '[route.fix]\nquotas = { code = 9 }\nexpand = ["tests"]\ncode_share = 0.8\n'
    )
    out = run(sample, "fix the crash in compute_invoice_total", "--json").output
    plan = json.loads(out)["plan"]
    assert plan["name"] == "fix"
    assert plan["quotas"]["code"] == 9
    assert plan["expand"] == ["tests"]
    assert plan["code_share"] == 0.8


def test_a_name_in_most_of_a_large_repository_is_not_expanded(
    indexed_sample: Any, monkeypatch: Any
) -> None:
    """Callers and tests of a name found everywhere (`get` at 10k files) are noise, and scoring
    every chunk that holds it cost ~120 ms; the thresholds are lowered here to this small repo."""
    from kenning.engine import expand

    request = "compute_invoice_total returns the wrong tax when there's a discount"
    monkeypatch.setattr(expand, "COMMON_NAME_ROWS", 0)
    monkeypatch.setattr(expand, "COMMON_NAME_SHARE", 0.0)
    packet = indexed_sample.brief(request, 2000)
    assert packet.intent == "fix"
    assert not any(i.why.startswith(("calls `", "tests `")) for i in packet.items)
