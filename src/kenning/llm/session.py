"""One conversation with a local model about a project: a packet per turn, history kept.

``kenning ask`` is a one-turn conversation; ``kenning chat`` keeps going. Each turn:

1. ``brief(question)`` returns the packet (the caller binds it to a workspace and a budget);
2. :func:`kenning.llm.prompt.assess` grades it; an empty packet is not sent to the model
   unless the caller asked for that, so the model is never invited to invent;
3. :func:`kenning.llm.prompt.build_prompt` fits it, with the history, into the model's window;
4. the answer streams; when it is done, the turn joins the history.

This module knows nothing about the terminal: the CLI renders what it returns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

from kenning.llm.base import ChatModel, TokenCounter
from kenning.llm.prompt import (
    DEFAULT_MIN_SCORE,
    ConflictLike,
    Exchange,
    PacketItemLike,
    PacketLike,
    Prompt,
    Support,
    assess,
    build_prompt,
    estimate_tokens,
    support_notice,
)

Brief = Callable[[str], PacketLike]

#: Memory kinds a chat can store (the core's kinds).
KINDS = ("decision", "rule", "preference", "person", "term", "fact", "note")


@dataclass(slots=True)
class Reply:
    """One turn, prepared: the packet, how well it supports an answer, and the prompt."""

    question: str
    packet: PacketLike
    support: Support
    prompt: Prompt
    will_answer: bool
    answer: str = ""
    finished: bool = False

    @property
    def notice(self) -> str | None:
        """What to tell the user before the answer (empty or weak context), if anything."""
        return support_notice(self.support, self.will_answer)

    @property
    def sources(self) -> list[PacketItemLike]:
        """The packet items the model could see this turn, in rank order."""
        return list(self.prompt.used)

    @property
    def conflicts(self) -> list[ConflictLike]:
        """Decisions and rules the question goes against."""
        return list(self.prompt.conflicts)


@dataclass
class Conversation:
    """A model, a way to get a packet, and the turns so far.

    ``strict`` (``kenning ask``): the model is asked only when the packet backs an answer.
    Not strict (``kenning chat``): a weak packet is answered with a notice, and an empty one
    too once earlier turns hold context ("and why?" brings no packet of its own).
    ``answer_without_context`` (``--anyway``) always asks the model.
    """

    model: ChatModel
    brief: Brief
    max_answer_tokens: int = 384
    temperature: float = 0.0
    min_score: float = DEFAULT_MIN_SCORE
    strict: bool = True
    answer_without_context: bool = False
    history: list[Exchange] = field(default_factory=list)

    def count_tokens(self, text: str) -> int:
        """The model's exact count when it has a tokenizer, else the estimate."""
        if isinstance(self.model, TokenCounter):
            return self.model.count_tokens(text)
        return estimate_tokens(text)

    def prepare(self, question: str) -> Reply:
        """Fetch the packet for ``question`` and build the prompt; nothing is generated yet."""
        packet = self.brief(question)
        support = assess(packet, question, self.min_score)
        prompt = build_prompt(
            packet,
            question,
            context_window=self.model.context_window,
            max_answer_tokens=self.max_answer_tokens,
            history=self.history,
            count_tokens=self.count_tokens,
        )
        return Reply(question, packet, support, prompt, self._will_answer(support))

    def _will_answer(self, support: Support) -> bool:
        if support is Support.OK or self.answer_without_context:
            return True
        if self.strict:
            return False
        return support is Support.WEAK or bool(self.history)

    def stream(self, reply: Reply) -> Generator[str, None, None]:
        """Stream the answer to a prepared reply; the turn joins the history at the end.

        Yields nothing when the reply will not be answered (see the class). If the caller stops
        early, the partial answer still joins the history.
        """
        if not reply.will_answer:
            return
        pieces: list[str] = []
        try:
            for piece in self.model.stream(
                reply.prompt.messages,
                max_tokens=self.max_answer_tokens,
                temperature=self.temperature,
            ):
                pieces.append(piece)
                yield piece
            reply.finished = True
        finally:
            reply.answer = "".join(pieces).strip()
            if reply.answer:
                self.history.append(reply.prompt.exchange(reply.answer))

    def ask(self, question: str) -> Reply:
        """Prepare and answer in one call (no streaming); for programs and tests."""
        reply = self.prepare(question)
        for _ in self.stream(reply):
            pass
        return reply


_KIND_PREFIX = re.compile(r"^\s*(?P<kind>[a-z]+)\s*:\s*(?P<body>.+)$", re.IGNORECASE | re.DOTALL)
_KIND_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("decision", r"\b(we|i)\s+(decided|chose|picked|went with|settled on|ruled out)\b"),
        ("decision", r"\bdecision\b"),
        ("preference", r"\b(i|we)\s+(prefer|like|would rather|'d rather)\b|\bprefer"),
        ("rule", r"^\s*(always|never|do not|don't|must|every|no)\b|\bmust( not)?\b"),
        ("term", r"\b(means|stands for|is short for)\b"),
    )
)


def parse_remember(text: str, default_kind: str | None = None) -> tuple[str, str]:
    """Split a ``/remember`` argument into (kind, text).

    ``decision: we use Postgres`` names the kind; otherwise ``default_kind`` is used when
    given, else the kind is inferred from the wording (``we decided`` → decision, ``always`` /
    ``never`` → rule, ``I prefer`` → preference, ``X means Y`` → term), else ``note``.
    """
    match = _KIND_PREFIX.match(text)
    if match and match.group("kind").lower() in KINDS:
        return match.group("kind").lower(), match.group("body").strip()
    body = text.strip()
    if default_kind is not None:
        return default_kind, body
    for kind, pattern in _KIND_HINTS:
        if pattern.search(body):
            return kind, body
    return "note", body
