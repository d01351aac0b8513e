"""Review: the memories that need a person's eye, and what each answer does to the store.

Three kinds of items, in this order:

- **stale**: the index flagged the memory (its anchored code was deleted, renamed, moved or
  rewritten, or its scope matches nothing); see `kenning.hygiene.staleness`;
- **conflict**: two active decisions, rules or preferences where one rules out what the other
  asserts ("use Celery" / "Celery was ruled out");
- **duplicate**: two active memories of a kind that say the same thing.

The answers:

- *keep* a stale memory: it is still true. Anchors that moved are pointed at the new place,
  rewritten code is re-fingerprinted, dead anchors go to `anchors_ignored:`. Keeping a conflict
  or duplicate pair records each in the other's `reviewed_with:` so it is not asked again;
- *update*: new text for the memory (re-anchored to the code as it is now);
- *supersede*: a new memory replaces it (the old one leaves every packet; `kenning history`
  keeps the chain);
- *retire*: it leaves every packet; the file stays.

Every answer is a normal store write, so it is in the audit log.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from kenning.hygiene.anchors import Code, read_anchors, resolve_anchors
from kenning.hygiene.dedupe import compare, content_words, contradicts, is_duplicate, statement
from kenning.hygiene.staleness import Finding, stale_findings
from kenning.memory import Memory
from kenning.workspace import Workspace

CONFLICT_KINDS = ("decision", "rule", "preference")
MIN_SHARED_WORDS = 2


@dataclass
class ReviewItem:
    """One thing to review: a stale memory, or a conflicting or duplicate pair."""

    kind: str  # stale | conflict | duplicate
    memory: Memory
    reasons: list[str] = field(default_factory=list)
    other: Memory | None = None
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "id": self.memory.id,
            "title": self.memory.title,
            "memory_kind": self.memory.kind,
            "reasons": self.reasons,
        }
        if self.other is not None:
            data["other"] = {"id": self.other.id, "title": self.other.title}
        if self.findings:
            data["findings"] = [f.to_dict() for f in self.findings]
        return data


def _reviewed(memory: Memory) -> set[str]:
    value = memory.extra.get("reviewed_with")
    items = value if isinstance(value, list) else [value] if value else []
    return {str(v) for v in items}


def _pairs(memories: list[Memory]) -> list[tuple[Memory, Memory]]:
    """Pairs of memories of one kind sharing enough content words to be compared."""
    words = {m.id: content_words(statement(m)) for m in memories}
    by_word: dict[tuple[str, str], list[Memory]] = defaultdict(list)
    for m in memories:
        for word in words[m.id]:
            by_word[(m.kind, word)].append(m)
    shared: dict[tuple[str, str], int] = defaultdict(int)
    for group in by_word.values():
        if len(group) > 200:  # a word this common says nothing about two memories
            continue
        for a, b in combinations(sorted(group, key=lambda m: m.id), 2):
            shared[(a.id, b.id)] += 1
    by_id = {m.id: m for m in memories}
    return [
        (by_id[a], by_id[b])
        for (a, b), count in sorted(shared.items())
        if count >= MIN_SHARED_WORDS
    ]


def review_items(
    ws: Workspace, kinds: tuple[str, ...] = ("stale", "conflict", "duplicate")
) -> list[ReviewItem]:
    """What to review now (the index is brought up to date first, so flags are current)."""
    ws.index(embed=False)
    memories = ws.memories()
    by_id = {m.id: m for m in memories}
    items: list[ReviewItem] = []
    if "stale" in kinds:
        for memory_id, found in sorted(stale_findings(ws.db).items()):
            memory = by_id.get(memory_id)
            if memory is not None:
                items.append(ReviewItem("stale", memory, [f.reason for f in found], findings=found))
    if "conflict" in kinds or "duplicate" in kinds:
        for a, b in _pairs([m for m in memories if not m.personal]):
            if b.id in _reviewed(a) or a.id in _reviewed(b):
                continue
            older, newer = sorted((a, b), key=lambda m: (m.created, m.id))
            if (
                "conflict" in kinds
                and a.kind in CONFLICT_KINDS
                and contradicts(statement(a), statement(b))
            ):
                reason = f"“{newer.title}” goes against “{older.title}”"
                items.append(ReviewItem("conflict", older, [reason], other=newer))
            elif "duplicate" in kinds and is_duplicate(compare(statement(a), statement(b))):
                reason = f"says the same as `{newer.id}`: {newer.title}"
                items.append(ReviewItem("duplicate", older, [reason], other=newer))
    return items


# ---- answers ---------------------------------------------------------------------------------


def reanchor(ws: Workspace, memory: Memory, findings: list[Finding]) -> dict[str, Any]:
    """`memory`'s front-matter extras after keeping it: anchors follow the code, dead ones ignored."""
    code = Code(ws.root, ws.db)
    anchors = {a.key: a for a in read_anchors(memory.extra)}
    ignored = list(memory.extra.get("anchors_ignored") or [])
    for finding in findings:
        recorded = finding.anchor in anchors
        if finding.cause in ("renamed", "moved") and finding.target and recorded:
            del anchors[finding.anchor]
            for anchor in resolve_anchors("", code, [finding.target]):
                if anchor.symbol or "::" not in finding.target:
                    anchors[anchor.key] = anchor
        elif finding.cause == "changed" and recorded:
            fresh = resolve_anchors("", code, [finding.anchor])
            anchors.update({a.key: a for a in fresh if a.key == finding.anchor})
        elif finding.anchor not in ignored:
            anchors.pop(finding.anchor, None)
            ignored.append(finding.anchor)
    extra = dict(memory.extra)
    extra["anchors"] = [a.render() for a in anchors.values()]
    if not extra["anchors"]:
        del extra["anchors"]
    if ignored:
        extra["anchors_ignored"] = ignored
    return extra


def keep(ws: Workspace, item: ReviewItem) -> Memory:
    """The memory is still true: re-anchor it (stale) or stop asking about the pair."""
    if item.kind == "stale":
        return ws.update(item.memory.id, extra=reanchor(ws, item.memory, item.findings))
    assert item.other is not None
    for one, two in ((item.memory, item.other), (item.other, item.memory)):
        current = ws.get(one.id)
        seen = sorted(_reviewed(current) | {two.id})
        ws.update(one.id, extra={**current.extra, "reviewed_with": seen})
    return ws.get(item.memory.id)


def update(ws: Workspace, memory_id: str, text: str) -> Memory:
    """New text for a memory; its anchors are taken again from the new text and the code now."""
    memory = ws.get(memory_id)
    head, _, body = text.strip().partition("\n")
    extra = dict(memory.extra)
    files = [a.key for a in read_anchors(memory.extra)]
    anchors = resolve_anchors(text, Code(ws.root, ws.db), files if files else ())
    extra["anchors"] = [a.render() for a in anchors]
    if not extra["anchors"]:
        del extra["anchors"]
    return ws.update(memory_id, title=" ".join(head.split()), body=body.strip(), extra=extra)


def supersede(ws: Workspace, memory_id: str, text: str) -> Memory:
    """A new memory of the same kind replaces `memory_id`."""
    old = ws.get(memory_id)
    return ws.remember(
        text,
        old.kind,
        supersedes=old.id,
        scope=old.scope,
        tags=old.tags,
        aliases=old.aliases,
        personal=old.personal,
    )


def merge_pair(ws: Workspace, item: ReviewItem) -> Memory:
    """Fold the newer of a duplicate pair into the older one and retire the newer."""
    assert item.other is not None
    from kenning.hygiene.dedupe import merge

    older, newer = ws.get(item.memory.id), ws.get(item.other.id)
    merged = merge(older, newer)
    kept = ws.update(
        older.id,
        body=merged.body,
        tags=merged.tags,
        scope=merged.scope,
        aliases=merged.aliases,
        extra=merged.extra,
    )
    ws.forget(newer.id)
    return kept


def describe(memory: Memory) -> str:
    """One line about a memory for the review prompt."""
    anchors = ", ".join(a.key for a in read_anchors(memory.extra)) or "none"
    return (
        f"{memory.kind} `{memory.id}` · recorded {memory.created.date().isoformat()} by "
        f"{memory.source} · anchors: {anchors}"
    )


def retire(ws: Workspace, memory_id: str) -> Memory:
    """It leaves every packet; the file stays (status: retired)."""
    return ws.forget(memory_id)
