"""The brief lists the files a change may touch: excerpts for the best, one line for the next."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kenning.engine.classify import Intent
from kenning.engine.pack import Packet
from kenning.engine.route import PLANS
from kenning.workspace import Workspace

TOPICS = (
    "invoices",
    "refunds",
    "credits",
    "taxes",
    "discounts",
    "payouts",
    "fees",
    "receipts",
    "statements",
    "quotes",
    "subscriptions",
    "deposits",
)
REQUEST = "round every total to whole cents before it is stored"
CODE_CHANGE = Intent("implement", 0.9)


def _module(topic: str) -> str:
    return f'''"""{topic.title()}: totals in cents."""


def {topic}_total(amounts: list[float]) -> float:
    """The {topic} total; rounding to whole cents happens when the total is stored."""
    total = sum(amounts)
    return total


def store_{topic}_total(db: dict[str, float], key: str, total: float) -> None:
    """Store one {topic} total (cents, not yet rounded)."""
    db[key] = total
'''


@pytest.fixture
def billing(tmp_path: Path) -> Iterator[Workspace]:
    """Twelve modules that all compute and store a total: every one is a file the change
    touches, far more than a packet can quote."""
    root = tmp_path / "billing"
    (root / "billing").mkdir(parents=True)
    (root / "billing" / "__init__.py").write_text("")
    for topic in TOPICS:
        (root / "billing" / f"{topic}.py").write_text(_module(topic))
    ws = Workspace.open(root)
    ws.index(embed=False)
    yield ws
    ws.close()


def files_of(packet: Packet) -> list[str]:
    """The packet's files in packet order (how the files-touched benchmark reads it)."""
    paths = [i.ref.rsplit(":", 1)[0] for i in packet.items if i.kind in ("file", "symbol")]
    return list(dict.fromkeys(paths))


def test_a_code_change_packet_names_more_files_than_it_quotes(billing: Workspace) -> None:
    packet = billing.brief(REQUEST, budget=2000, intent=CODE_CHANGE, use_dense=False)
    excerpts = [i for i in packet.items if i.kind in ("file", "symbol") and not i.listing]
    listed = [i for i in packet.items if i.listing]
    assert len(excerpts) <= PLANS["implement"].quotas["code"]
    assert len(files_of(packet)) >= 10
    assert 1 <= len(listed) <= PLANS["implement"].files
    # A listed file is not also quoted, and each listing is one short line.
    quoted = {i.ref.rsplit(":", 1)[0] for i in excerpts}
    assert not quoted & {i.ref.rsplit(":", 1)[0] for i in listed}
    assert all("\n" not in i.text and i.tokens <= 60 for i in listed)
    assert packet.tokens <= 2000


def test_listed_files_follow_the_file_ranking(billing: Workspace) -> None:
    packet = billing.brief(REQUEST, budget=2000, intent=CODE_CHANGE, use_dense=False)
    ranked = [f.path for f in billing.engine.retriever.ranked_files]
    listed = [i.ref.rsplit(":", 1)[0] for i in packet.items if i.listing]
    assert listed == [p for p in ranked if p in listed]


def test_a_listed_file_says_where_what_and_why(billing: Workspace) -> None:
    packet = billing.brief(REQUEST, budget=2000, intent=CODE_CHANGE, use_dense=False)
    data = packet.to_dict()
    listed = [i for i in data["items"] if i.get("listing")]
    assert listed
    for item in listed:
        assert item["kind"] == "file"
        path, _, span = item["ref"].rpartition(":")
        assert path.startswith("billing/") and "-" in span
        assert item["text"].startswith("def ") and item["why"]
    markdown = packet.to_markdown()
    section = markdown.split("## Other files likely involved", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.strip()]
    assert len(lines) == len(listed)
    assert all(line.startswith("- `billing/") for line in lines)


def test_routing_decides_how_many_files_a_packet_names(billing: Workspace) -> None:
    def named(intent: Intent | None, routed: bool = True) -> int:
        packet = billing.brief(REQUEST, budget=2000, intent=intent, routed=routed, use_dense=False)
        return len(files_of(packet))

    change = named(CODE_CHANGE)
    assert change > named(Intent("recall", 0.9))
    assert change > named(CODE_CHANGE, routed=False)


def test_a_tight_budget_still_lists_within_it(billing: Workspace) -> None:
    packet = billing.brief(REQUEST, budget=300, intent=CODE_CHANGE, use_dense=False)
    assert packet.tokens <= 300
    assert len(files_of(packet)) >= 2
