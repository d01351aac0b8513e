"""The packet: a token-budgeted, ordered, explained list of context items, and its renderings.

Conflicts come first, then the rules whose scope covers the files in play, then code and memories
by score within the plan's quotas. Code items are cut to the lines that matter (the definition's
first line plus the window with the most request terms), so a long function costs what its
relevant part costs. Markdown is for people and models; `to_dict` is the `--json` contract.
"""

from __future__ import annotations

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
        for heading, kinds in sections:
            items = [i for i in self.items if i.kind in kinds]
            if not items:
                continue
            lines += ["", f"## {heading}"]
            for item in items:
                lines += [
                    "",
                    f"### {item.title} · `{item.ref}`"
                    if item.kind not in CODE_ITEM_KINDS
                    else f"### `{item.ref}`"
                    + (f" · {item.title}" if item.title != item.ref.split(":")[0] else ""),
                ]
                lines.append(f"*why: {item.why}*")
                if item.kind in ("symbol", "file"):
                    lang = _fence_lang(item.ref)
                    lines += [f"```{lang}", item.text.rstrip(), "```"]
                else:
                    lines.append(item.text.rstrip())
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
    weights = [sum(1 for t in terms if t in line) for line in low]
    costs = [count_tokens(line) + 1 for line in lines]
    head_cost = costs[0]
    best = (-1.0, 1, 1)
    right = 1
    used = 0
    score = 0
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


def fit_memory_text(title: str, text: str, max_tokens: int) -> str:
    """A memory's text without a repeated title, cut to `max_tokens`."""
    body = text.strip()
    if body.startswith(title):
        body = body[len(title) :].strip()
    return truncate_to_tokens(body, max_tokens) if body else ""
