"""The packet: a token-budgeted, ordered, explained list of context items, and its renderings.

Conflicts come first, then the rules whose scope covers the files in play, then code and memories
by score within the plan's quotas. Code items are cut to the lines that matter (the definition's
first line plus the window with the most request terms), so a long function costs what its
relevant part costs. After the excerpts, the plan's `files` more candidate files are *listed*:
one line each (path and line range of its best chunk, that chunk's first line, why), a few
tokens apiece, so a packet names many of the files a change may touch without quoting them all.
A listed file is a `file` item with `listing: true` in the JSON. Markdown is for people and
models; `to_dict` is the `--json` contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kenning.engine.conflicts import Conflict
from kenning.tokens import count_tokens, truncate_to_tokens

CODE_ITEM_KINDS = ("file", "symbol", "doc")


@dataclass
class PacketItem:
    """One piece of context: what it is, where it comes from, and why it is here."""

    kind: str
    ref: str
    title: str
    text: str
    score: float
    why: str
    tokens: int = 0
    status: str = "active"
    date: str | None = None
    # A one-line listing of a file (its best chunk's first line), not an excerpt.
    listing: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "ref": self.ref,
            "title": self.title,
            "text": self.text,
            "score": round(self.score, 4),
            "why": self.why,
            "tokens": self.tokens,
        }
        if self.status != "active":
            data["status"] = self.status
        if self.date:
            data["date"] = self.date
        if self.listing:
            data["listing"] = True
        return data


@dataclass
class Packet:
    """The answer to one request: the `brief --json` object."""

    request: str
    intent: str
    confidence: float
    budget: int
    items: list[PacketItem] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    secondary: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)
    elapsed_ms: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return sum(item.tokens for item in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "intent": self.intent,
            "confidence": self.confidence,
            "secondary_intent": self.secondary,
            "budget": self.budget,
            "tokens": self.tokens,
            "elapsed_ms": round(self.elapsed_ms, 2),
            "items": [item.to_dict() for item in self.items],
            "conflicts": [c.to_dict() for c in self.conflicts],
            "entities": self.entities,
            "plan": self.plan,
            "notes": self.notes,
        }

    def to_markdown(self) -> str:
        """The packet as Markdown: conflicts first, then each item with its why."""
        lines = [
            f"# Context for: {self.request.strip()[:200]}",
            "",
            f"intent: **{self.intent}** ({self.confidence:.2f})"
            + (f", also {self.secondary}" if self.secondary else "")
            + f" · {self.tokens:,} / {self.budget:,} tokens · {self.elapsed_ms:.0f} ms",
        ]
        for note in self.notes:
            lines += ["", f"> {note}"]
        if self.conflicts:
            lines += ["", "## Conflicts: read these first"]
            for c in self.conflicts:
                when = f", {c.date}" if c.date else ""
                lines.append(f"- **{c.title}** ({c.kind} `{c.ref}`{when}): {c.reason}")
        sections = (
            ("Rules that apply", ("rule",)),
            ("Code", ("symbol", "file")),
            ("Docs", ("doc",)),
            ("Decisions", ("decision",)),
            ("Preferences", ("preference",)),
            ("People", ("person",)),
            ("Terms", ("term",)),
            ("Facts and notes", ("fact", "note")),
        )
        listed = [i for i in self.items if i.listing]
        for heading, kinds in sections:
            items = [i for i in self.items if i.kind in kinds and not i.listing]
            if heading == "Docs" and listed:
                lines += ["", "## Other files likely involved", ""]
                lines += [listing_line(item) for item in listed]
            if not items:
                continue
            lines += ["", f"## {heading}"]
            for item in items:
                lines += [
                    "",
                    f"### {item.title} · `{item.ref}`"
                    + (f" · **{item.status}**" if item.status != "active" else "")
                    if item.kind not in CODE_ITEM_KINDS
                    else f"### `{item.ref}`"
                    + (f" · {item.title}" if item.title != item.ref.split(":")[0] else ""),
                ]
                lines.append(f"*why: {item.why}*")
                if item.kind in ("symbol", "file"):
                    lang = _fence_lang(item.ref)
                    lines += [f"```{lang}", item.text.rstrip(), "```"]
                else:  # its own paragraph, not run on after the why line
                    lines += ["", item.text.rstrip()]
        if not self.items and not self.conflicts:
            lines += ["", "_Nothing in this project's index matches the request._"]
        return "\n".join(lines).rstrip() + "\n"


_FENCES = {
    "py": "python",
    "ts": "typescript",
    "tsx": "tsx",
    "js": "javascript",
    "go": "go",
    "rs": "rust",
    "java": "java",
    "sql": "sql",
    "sh": "bash",
    "toml": "toml",
    "yaml": "yaml",
    "yml": "yaml",
    "json": "json",
}


def _fence_lang(ref: str) -> str:
    path = ref.rsplit(":", 1)[0]
    return _FENCES.get(path.rsplit(".", 1)[-1].lower(), "") if "." in path else ""


def focus_lines(
    text: str, start_line: int, terms: list[str], max_tokens: int
) -> tuple[str, int, int]:
    """The part of a code chunk worth sending: its first line plus the densest window of terms.

    Returns (text, first line number, last line number).
    """
    lines = text.splitlines()
    if not lines:
        return text, start_line, start_line
    if count_tokens(text) <= max_tokens:
        return text, start_line, start_line + len(lines) - 1
    low = [line.lower() for line in lines]
    # Terms are matched by stem ("retries" finds "retry") and weighted by rarity inside the
    # chunk, so the window lands on the lines about the request, not on the ones naming the class.
    # A phrase term ("sqlite master") is a snake_case name: matched whole, as written in code.
    words = [t for t in terms if " " not in t]
    stems = {t[:-3] if t.endswith("ies") else t.rstrip("s") if len(t) > 4 else t for t in words}
    stems = {s[:5] if len(s) > 6 else s for s in stems}
    stems |= {t.replace(" ", "_") for t in terms if " " in t}
    spread = {s: sum(1 for line in low if s in line) for s in stems}
    rarity = {s: 1.0 / (1.0 + n) for s, n in spread.items() if n}
    weights = [sum(w for s, w in rarity.items() if s in line) for line in low]
    costs = [count_tokens(line) + 1 for line in lines]
    head_cost = costs[0]
    best = (-1.0, 1, 1)
    right = 1
    used = 0
    score = 0.0
    for left in range(1, len(lines)):
        if right < left:
            right, used, score = left, 0, 0
        while right < len(lines) and used + costs[right] <= max_tokens - head_cost - 2:
            used += costs[right]
            score += weights[right]
            right += 1
        if score > best[0]:
            best = (score, left, right)
        if right > left:
            used -= costs[left]
            score -= weights[left]
    _, left, right = best
    if right <= left:
        body = truncate_to_tokens("\n".join(lines), max_tokens)
        return body, start_line, start_line + len(body.splitlines()) - 1
    parts = [lines[0]]
    if left > 1:
        parts.append("    …")
    parts += lines[left:right]
    if right < len(lines):
        parts.append("    …")
    return "\n".join(parts), start_line, start_line + right - 1


def listing_line(item: PacketItem) -> str:
    """A listed file as one Markdown line: where, what, and why."""
    path = item.ref.rsplit(":", 1)[0]
    title = f" · `{item.title}`" if item.title and item.title != path else ""
    text = f" · `{item.text}`" if item.text else ""
    return f"- `{item.ref}`{title}{text}: {item.why}"


def listing_text(text: str, max_tokens: int = 24) -> str:
    """The line that says what a chunk is: its first line of code (a signature, a docstring's
    opening), skipping blank lines, decorators and comments; cut to `max_tokens`."""
    first = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(("@", "#", "//")):
            first = stripped
            break
    first = first.strip("\"'` ").rstrip(":{").strip()
    cut = truncate_to_tokens(first, max_tokens)
    if cut != first:
        cut = cut.removesuffix("\n…").rstrip(" ,(") + " …"
    return cut.replace("`", "'")


def fit_memory_text(title: str, text: str, max_tokens: int, lead: str = "") -> str:
    """A memory's text without a repeated title, cut to `max_tokens`. A `lead` sentence (the
    one a conflict quotes) goes first when the cut would leave it out."""
    body = text.strip()
    if body.startswith(title):
        body = body[len(title) :].strip()
    if not body:
        return ""
    fitted = truncate_to_tokens(body, max_tokens)
    lead = " ".join(lead.split())
    if lead and lead not in " ".join(fitted.split()) and lead != title:
        fitted = truncate_to_tokens(f"{lead}\n\n{body}", max_tokens)
    return fitted


# At most this share of the budget goes to pinned items (conflicts, scoped rules, named memories),
# so a packet about code always has room for code.
PINNED_SHARE = 0.5
MIN_SHRUNK_TOKENS = 60
# At most this share of what the pinned items leave is set aside for listed files.
LISTING_SHARE = 0.3


@dataclass
class Candidate:
    """An item that may enter the packet; `quota` names the plan quota it counts against
    (None: pinned items, which are not counted). Code candidates keep their source chunk so
    they can be re-cut to a smaller window when the remaining budget is tight."""

    item: PacketItem
    quota: str | None
    source: Any = None
    terms: Sequence[str] = ()


def item_tokens(item: PacketItem) -> int:
    """What an item costs in the rendered packet (text, title, why and its framing)."""
    if item.listing:
        return count_tokens(listing_line(item))
    return count_tokens(item.text) + count_tokens(item.title) + count_tokens(item.why) + 8


def _shrink(candidate: Candidate, room: int) -> PacketItem | None:
    """A smaller version of a candidate that fits `room` tokens, or None."""
    item = candidate.item
    overhead = count_tokens(item.title) + count_tokens(item.why) + 8
    if room - overhead < MIN_SHRUNK_TOKENS:
        return None
    source = candidate.source
    if source is not None and getattr(source, "text", None) is not None:
        text, first, last = focus_lines(
            source.text, source.start_line or 1, list(candidate.terms), room - overhead
        )
        ref = f"{source.path}:{first}-{last}"
    else:
        text, ref = truncate_to_tokens(item.text, room - overhead), item.ref
    smaller = PacketItem(
        item.kind, ref, item.title, text, item.score, item.why, status=item.status, date=item.date
    )
    smaller.tokens = item_tokens(smaller)
    return smaller if smaller.tokens <= room else None


def fit_budget(
    pinned: Sequence[Candidate],
    code: Sequence[Candidate],
    memories: Sequence[Candidate],
    budget: int,
    code_share: float,
    quotas: dict[str, int],
    first_refs: Sequence[str] = (),
    listing: Sequence[Candidate] = (),
    listing_quota: int = 0,
) -> list[PacketItem]:
    """Choose the packet's items: pinned first (capped at PINNED_SHARE of the budget, the first
    one always), then code and memories by score, each within its share and the plan's quotas,
    then up to `listing_quota` listed files (in the order given, each a file with no item yet;
    their tokens are set aside before the shares are split, at most LISTING_SHARE of what is
    left); what one side leaves unused goes to the other. Items are re-cut rather than dropped
    when a smaller window fits. Pure: no I/O."""
    chosen: list[PacketItem] = []
    taken: set[str] = set()
    counts: dict[str, int] = {}
    used = 0

    def take(candidate: Candidate, limit: int) -> int:
        nonlocal used
        item = candidate.item
        if item.ref in taken or (candidate.source is not None and _overlaps(item.ref, taken)):
            return 0
        if candidate.quota is not None and counts.get(candidate.quota, 0) >= quotas.get(
            candidate.quota, 0
        ):
            return 0
        item.tokens = item_tokens(item)
        room = min(limit, budget - used)
        if item.tokens > room:
            smaller = _shrink(candidate, room)
            if smaller is None:
                return 0
            item = smaller
        chosen.append(item)
        taken.add(item.ref)
        used += item.tokens
        if candidate.quota is not None:
            counts[candidate.quota] = counts.get(candidate.quota, 0) + 1
        return item.tokens

    pinned_cap = max(int(budget * PINNED_SHARE), 1)
    pinned_used = 0
    for n, candidate in enumerate(pinned):
        limit = budget if n == 0 else pinned_cap - pinned_used
        if limit > 0:
            pinned_used += take(candidate, limit)
    rest = budget - used
    listing = list(listing)
    reserve = min(
        sum(item_tokens(c.item) for c in listing[: max(0, listing_quota)]),
        int(rest * LISTING_SHARE),
    )
    rest -= reserve
    code_cap = int(rest * code_share) if code else 0
    memory_cap = rest - code_cap
    listed = 0
    for n in range(2):  # the second pass hands each side what the other left
        code_used = 0
        for candidate in sorted(code, key=lambda c: -c.item.score):
            code_used += take(candidate, code_cap - code_used)
        memory_used = 0
        for candidate in sorted(memories, key=lambda c: -c.item.score):
            memory_used += take(candidate, memory_cap - memory_used)
        if n == 0:
            # Listed files come after the excerpts, so a file already quoted is not listed.
            in_packet = {i.ref.rpartition(":")[0] for i in chosen if i.kind in CODE_ITEM_KINDS}
            for candidate in listing:
                if listed >= listing_quota:
                    break
                path = candidate.item.ref.rpartition(":")[0] or candidate.item.ref
                if path in in_packet:
                    continue
                if take(candidate, budget - used):
                    listed += 1
                    in_packet.add(path)
        spare = budget - used
        if spare < MIN_SHRUNK_TOKENS:
            break
        code_cap, memory_cap = spare, spare
    first = set(first_refs)
    chosen.sort(key=lambda i: (0 if i.ref in first else 1, 0 if i.kind == "rule" else 1, -i.score))
    return chosen


def _overlaps(ref: str, taken: set[str]) -> bool:
    """True when a code ref's line span overlaps one already in the packet (same file)."""
    path, _, span = ref.rpartition(":")
    if not path or "-" not in span:
        return False
    start, _, end = span.partition("-")
    if not (start.isdigit() and end.isdigit()):
        return False
    for other in taken:
        o_path, _, o_span = other.rpartition(":")
        if o_path != path or "-" not in o_span:
            continue
        o_start, _, o_end = o_span.partition("-")
        if (
            o_start.isdigit()
            and o_end.isdigit()
            and int(start) <= int(o_end)
            and int(o_start) <= int(end)
        ):
            return True
    return False
