"""Turn a packet and a question (and the chat so far) into the messages a model sees.

The job: give a small local model the packet as its only source of truth, in a shape it can
cite, and make the whole prompt fit the model's context window with room left for the answer.

Layout of the messages, chosen so llama.cpp can reuse its KV cache across chat turns (a
follow-up only evaluates what is new):

    system     the instructions (never changes)
    user       context block of turn 1 + question 1   } earlier turns, kept verbatim while
    assistant  answer 1                               } they fit, so the prefix matches
    ...
    user       context block of this turn + question

A context block lists each packet item once, headed by its ref in square brackets; an item
already shown in a kept earlier turn is not repeated. When the prompt is too long, the oldest
context blocks are dropped first, then the oldest turns, then the lowest-ranked items of this
turn's packet.

Honesty: :func:`assess` grades a packet ``empty``, ``weak`` (items, but none named by the
request, scope-matched, or sharing a word with it: what vector search returns for an
off-topic question) or ``ok``, so the caller can say so up front instead of letting the model
invent.

Everything here is pure: no model, no disk.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from kenning.llm.base import Message
from kenning.tokens import count_tokens

SYSTEM_PROMPT = """\
You answer questions about the user's software project. Use only the context the user gives \
you: it holds the project's code, decisions, rules and preferences, and each item starts with \
its reference in square brackets. Cite the reference of every item you use, like [ref]. If the \
context does not hold the answer, say "The context does not say." and stop: never guess and \
never use outside knowledge. Follow the rules and decisions in the context; if the question \
goes against one, say so. Answer briefly."""

#: Tokens a chat template adds around each message (role markers, separators); generous.
MESSAGE_OVERHEAD = 8

#: Items scoring at least this support an answer outright: kenning's packets give 1.0 to what
#: the request names (and to rules scoped to its files, see ``supports``); fused retrieval
#: scores sit far below.
DEFAULT_MIN_SCORE = 0.5

#: Words too common to show that an item is about the question.
STOPWORDS = frozenset(
    """a about all also am an and any are as at be been but by can could did do does doing for
    from had has have how i if in into is it its just me my no not of on or our out over should
    so some than that the their them then there these they this those to too under up us was we
    were what when where which while who whom why will with would you your""".split()
)

_WORD = re.compile(r"[a-z0-9][a-z0-9_]+")


class PacketItemLike(Protocol):
    """What the prompt builder reads from a packet item (``kenning.engine.pack.PacketItem``)."""

    @property
    def kind(self) -> str: ...
    @property
    def ref(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def score(self) -> float: ...


class ConflictLike(Protocol):
    """A decision or rule that goes against the request."""

    @property
    def ref(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def reason(self) -> str: ...


class PacketLike(Protocol):
    """What the prompt builder reads from a packet (``kenning.engine.pack.Packet``)."""

    @property
    def request(self) -> str: ...
    @property
    def items(self) -> Sequence[PacketItemLike]: ...
    @property
    def conflicts(self) -> Sequence[ConflictLike]: ...


class Support(enum.Enum):
    """How much the packet can back an answer."""

    EMPTY = "empty"
    WEAK = "weak"
    OK = "ok"


def question_terms(question: str) -> set[str]:
    """The words of ``question`` that can show an item is about it (no stopwords, no plural s)."""
    return {_stem(w) for w in _WORD.findall(question.lower()) if w not in STOPWORDS}


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def supports(item: PacketItemLike, terms: set[str], min_score: float) -> bool:
    """True when ``item`` shares a term with the question, or was named by it.

    Named items score ``min_score`` or more. Rules are the exception: a rule scores 1.0 when
    its path scope covers a file in the packet, and that file may itself be only a vector
    neighbour of an off-topic question, so a rule's score proves nothing about the question.
    """
    if item.score >= min_score and item.kind != "rule":
        return True
    words = {_stem(w) for w in _WORD.findall(f"{item.title} {item.text}".lower())}
    return not terms.isdisjoint(words)


def assess(
    packet: PacketLike, question: str | None = None, min_score: float = DEFAULT_MIN_SCORE
) -> Support:
    """Grade the packet for ``question`` (default: the packet's request).

    ``EMPTY``: no items and no conflicts. ``OK``: a conflict, or an item that shares a word
    with the question or was named by it (see :func:`supports`). ``WEAK``: items, but none of
    those: what a vector search returns when nothing in the project is about the question.
    """
    if not packet.items and not packet.conflicts:
        return Support.EMPTY
    terms = question_terms(packet.request if question is None else question)
    if packet.conflicts or any(supports(item, terms, min_score) for item in packet.items):
        return Support.OK
    return Support.WEAK


def support_notice(support: Support, answering: bool) -> str | None:
    """The sentence to show before the answer, or None when the packet backs one.

    ``answering`` says whether the model will still be asked (``--anyway``, or a chat whose
    earlier turns may hold the answer).
    """
    if support is Support.OK:
        return None
    if answering:
        return (
            "kenning found nothing in this project clearly about that question; the answer "
            "below is not backed by it. Check the sources."
        )
    if support is Support.EMPTY:
        return (
            "kenning found nothing in this project about that question, so the model has no "
            "context to answer from and was not asked. Index the project (`kenning index`), "
            "store the fact (`kenning remember`), or rephrase; --anyway asks the model regardless."
        )
    return (
        "kenning found only loose matches for that question in this project, so an answer "
        "would be the model's guess and it was not asked. Rephrase with the names your project "
        "uses, or store the fact (`kenning remember`); --anyway asks the model regardless."
    )


def estimate_tokens(text: str) -> int:
    """kenning's tokenizer-free estimate (errs high), used when the model has no tokenizer."""
    return count_tokens(text)


def render_item(item: PacketItemLike) -> str:
    """One context entry: ``[ref] kind: title`` then the text."""
    head = f"[{item.ref}] {item.kind}: {item.title}".rstrip()
    body = item.text.strip()
    return f"{head}\n{body}" if body and body != item.title.strip() else head


def render_conflict(conflict: ConflictLike) -> str:
    """One warning entry for a decision or rule the request goes against."""
    return f"[{conflict.ref}] WARNING, this goes against: {conflict.title}. {conflict.reason}"


def render_turn(context: str, question: str) -> str:
    """The user message of one turn: its context block (may be empty) and the question."""
    if not context:
        return f"Context: none new.\n\nQuestion: {question}"
    return f"Context:\n{context}\n\nQuestion: {question}"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One finished turn of a chat, as it was sent and answered."""

    question: str
    context: str
    refs: tuple[str, ...]
    answer: str


@dataclass(frozen=True, slots=True)
class Prompt:
    """The messages to send, and what of the packet made it in.

    ``used`` are the packet items the model can see (in this turn's context block or in an
    earlier turn's block still in the prompt): the sources to show. ``context`` and
    ``context_refs`` are only what this turn's block adds.
    """

    question: str
    messages: list[Message]
    context: str
    context_refs: tuple[str, ...]
    used: list[PacketItemLike]
    dropped: list[PacketItemLike]
    conflicts: list[ConflictLike]
    history_kept: int
    tokens: int

    def exchange(self, answer: str) -> Exchange:
        """This turn as history for the next one."""
        return Exchange(self.question, self.context, self.context_refs, answer)


def build_prompt(
    packet: PacketLike,
    question: str,
    *,
    context_window: int,
    max_answer_tokens: int = 512,
    history: Sequence[Exchange] = (),
    count_tokens: Callable[[str], int] = estimate_tokens,
    system: str = SYSTEM_PROMPT,
) -> Prompt:
    """Build the messages for ``question`` with ``packet`` as context, fitted to the window.

    Args:
        packet: the packet for this turn; its items are taken in rank order.
        question: what the user asked this turn.
        context_window: the model's window in tokens (prompt and answer share it).
        max_answer_tokens: tokens kept free for the answer.
        history: earlier turns, oldest first.
        count_tokens: the model's tokenizer count, or the estimate.
        system: the system prompt.

    Returns:
        The messages, and which packet items were used or dropped to fit.
    """
    limit = context_window - max_answer_tokens
    conflicts = list(packet.conflicts)
    items = list(packet.items)
    keep_context = [True] * len(history)  # per earlier turn: is its context block still sent?
    first_turn = 0  # earlier turns before this one are dropped entirely
    n_items = len(items)  # this turn's packet items kept, in rank order
    counted: dict[str, int] = {}

    def count(text: str) -> int:
        if text not in counted:
            counted[text] = count_tokens(text) + MESSAGE_OVERHEAD
        return counted[text]

    while True:
        messages = [Message("system", system)]
        seen: set[str] = set()
        for index in range(first_turn, len(history)):
            turn = history[index]
            if keep_context[index]:
                seen.update(turn.refs)
                messages.append(Message("user", render_turn(turn.context, turn.question)))
            else:
                messages.append(Message("user", turn.question))
            messages.append(Message("assistant", turn.answer))
        new_conflicts = [c for c in conflicts if c.ref not in seen]
        new_items = [item for item in items[:n_items] if item.ref not in seen]
        context = "\n\n".join(
            [render_conflict(c) for c in new_conflicts] + [render_item(i) for i in new_items]
        )
        messages.append(Message("user", render_turn(context, question)))
        tokens = sum(count(m.content) for m in messages)
        if tokens <= limit:
            break
        # Trigger: too long. Why: the answer needs its room. Outcome: shed the least useful
        # part first: old context, then old turns, then this turn's lowest-ranked items.
        kept = [i for i in range(first_turn, len(history)) if keep_context[i]]
        if kept:
            keep_context[kept[0]] = False
        elif first_turn < len(history):
            first_turn += 1
        elif n_items > 0:
            n_items -= 1
        elif conflicts:
            conflicts.pop()
        else:
            break  # the question alone overflows: send it anyway, the backend will say so.

    return Prompt(
        question=question,
        messages=messages,
        context=context,
        context_refs=tuple(c.ref for c in new_conflicts) + tuple(i.ref for i in new_items),
        used=items[:n_items],
        dropped=items[n_items:],
        conflicts=conflicts,
        history_kept=len(history) - first_turn,
        tokens=tokens,
    )
