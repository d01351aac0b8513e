"""Conflicts: the decisions and rules a request (or a diff) appears to go against.

No model is needed for the common cases. A memory's prohibitions are read from its sentences
("never use floats for money", "we ruled out Celery", "we chose Postgres over DynamoDB", "instead
of X", "don't …"); the request conflicts when it asks for a prohibited thing (and does not itself
negate it: "make sure we don't use Celery" is not a conflict). A request that revives the choice
of a superseded decision conflicts with the decision that replaced it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from kenning.index.terms import STOP_WORDS

_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_WORD = re.compile(r"[a-z0-9][a-z0-9+#.-]*[a-z0-9+#]|[a-z0-9]")
_PROHIBIT = re.compile(
    r"\b(?:never|don't|do not|dont|must not|mustn't|should not|shouldn't|avoid|no longer|"
    r"not allowed|forbidden|banned?|ruled out|rule out|rejected|reject|instead of|rather than|"
    r"not use|stop using|drop(?:ped)?|no)\b",
    re.IGNORECASE,
)
_CHOSE_OVER = re.compile(
    r"\b(?:chose|choose|picked|prefer|went with|use)\s+(.{1,40}?)\s+over\s+(.{1,40})", re.IGNORECASE
)
_RULED_OUT_AFTER = re.compile(
    r"([\w .+#-]{2,40}?)\s+(?:was|were|is|are|got|has been)\s+(?:ruled out|rejected|dropped|banned|deprecated)",
    re.IGNORECASE,
)
_REQUEST_NEGATION = re.compile(
    r"\b(?:without|not|never|don't|do not|avoid|remove|drop|instead of|rather than|no|get rid of|"
    r"replace|stop using|migrate off|migrate away from)\b(?:\s+\w+){0,3}\s*$",
    re.IGNORECASE,
)
GENERIC = frozenset(
    """use used using code file files function functions thing things way new old data value
    values call calls run time times make change test tests code-path one two always also any
    every each other more less""".split()
)


@dataclass(frozen=True)
class Conflict:
    """A memory the request goes against, with the sentence that says so."""

    ref: str
    title: str
    reason: str
    kind: str = "decision"
    date: str | None = None
    sentence: str = ""

    def to_dict(self) -> dict[str, str | None]:
        return {
            "ref": self.ref,
            "title": self.title,
            "reason": self.reason,
            "kind": self.kind,
            "date": self.date,
            "sentence": self.sentence,
        }


@dataclass(frozen=True)
class MemoryView:
    """What conflict detection needs of a memory."""

    ref: str
    kind: str
    title: str
    text: str
    status: str = "active"
    created: float | None = None
    superseded_by: str | None = None


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _stem(word: str) -> str:
    for suffix in ("ing", "es", "s", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _content(words: list[str]) -> list[str]:
    return [w for w in words if w not in STOP_WORDS and w not in GENERIC and len(w) > 2]


@lru_cache(maxsize=8192)
def prohibitions(text: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """(sentence, prohibited terms) for each sentence of a memory that forbids something.

    Cached: the same memories are checked request after request in a warm server.
    """
    out: list[tuple[str, frozenset[str]]] = []
    for sentence in _SENTENCE.split(text):
        sentence = sentence.strip(" -*#>\t")
        if not sentence:
            continue
        banned: set[str] = set()
        for match in _CHOSE_OVER.finditer(sentence):
            banned |= set(_content(_words(match.group(2)))[:3])
        for match in _RULED_OUT_AFTER.finditer(sentence):
            banned |= set(_content(_words(match.group(1)))[-2:])
        for match in _PROHIBIT.finditer(sentence):
            tail = sentence[match.end() :]
            tail = re.split(r"[,;:()]|\bbecause\b|\bsince\b|\bas\b|\bso\b|\bbut\b", tail)[0]
            banned |= set(_content(_words(tail))[:3])
        if banned:
            out.append((sentence, frozenset(_stem(w) for w in banned)))
    return tuple(out)


def request_terms(request: str) -> set[str]:
    """Stemmed content terms the request asks for (terms it negates are left out)."""
    wanted: set[str] = set()
    low = request.lower()
    for match in _WORD.finditer(low):
        word = match.group(0)
        if word in STOP_WORDS or word in GENERIC or len(word) <= 2:
            continue
        if _REQUEST_NEGATION.search(low[: match.start()]):
            continue
        wanted.add(_stem(word))
    return wanted


def _date(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).date().isoformat()


def find_conflicts(request: str, memories: list[MemoryView], limit: int = 3) -> list[Conflict]:
    """Active decisions and rules the request contradicts, strongest first."""
    wanted = request_terms(request)
    if not wanted:
        return []
    found: list[tuple[int, Conflict]] = []
    for memory in memories:
        if memory.kind not in ("decision", "rule", "preference"):
            continue
        if memory.status == "superseded" and memory.superseded_by:
            continue  # handled through the replacing memory below
        if memory.status != "active":
            continue
        best: tuple[int, str, frozenset[str]] | None = None
        for sentence, banned in prohibitions(f"{memory.title}. {memory.text}"):
            hit = banned & wanted
            if hit and (best is None or len(hit) > best[0]):
                best = (len(hit), sentence, hit)
        if best is not None:
            terms = ", ".join(sorted(best[2]))
            reason = f"the request asks for {terms}; this {memory.kind} says: “{best[1][:200]}”"
            found.append(
                (
                    best[0],
                    Conflict(
                        memory.ref,
                        memory.title,
                        reason,
                        memory.kind,
                        _date(memory.created),
                        best[1][:300],
                    ),
                )
            )
    found.sort(key=lambda item: -item[0])
    seen: set[str] = set()
    out: list[Conflict] = []
    for _, conflict in found:
        if conflict.ref not in seen:
            seen.add(conflict.ref)
            out.append(conflict)
    return out[:limit]
