"""Near-duplicate detection at write time: lexical overlap plus embedding similarity.

Two statements are duplicates when they say the same thing, not when they are about the same
thing. So besides the two similarities (Dice overlap of stemmed content words; cosine of the
bundled MiniLM embeddings) two guards decide:

- **different numbers** ("retry 3 times" / "retry 5 times") or names with digits (`s3` / `gcs`,
  `py311` / `py312`) make an update or another thing, not a duplicate;
- **a contradiction**: one statement rules out something the other asks for ("always use X" /
  "never use X", "chose A over B" / "chose B over A"), read with the conflict detector's
  prohibition patterns.

Thresholds were set on the development half of `bench/data/hygiene/duplicates.jsonl` and are
reported on the other half by `bench/hygiene.py`. With no embedder (model files missing) the
lexical rule alone decides, with a stricter threshold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from kenning.errors import InvalidMemory
from kenning.index.terms import STOP_WORDS
from kenning.memory import Memory

# Dense-only, dense-plus-lexical and lexical-only rules (see `is_duplicate`).
DENSE_ALONE = 0.85
DENSE_WITH_LEXICAL = (0.70, 0.30)
LEXICAL_ALONE = (0.70, 0.0)
LEXICAL_NO_EMBEDDER = 0.55
MAX_DENSE_CANDIDATES = 400

_WORD = re.compile(r"[a-z0-9][a-z0-9+#]*")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?(?:\s*(?:%|ms|s|kb|mb|gb|x|k|m)\b)?", re.I)
_MIXED = re.compile(r"(?<![\w-])(?=[\w-]*[A-Za-z])(?=[\w-]*\d)[\w-]+")
_NUMBER_WORDS = {
    w: str(n)
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
    if w not in ("zero", "one")  # "one transaction", "one owner": a determiner more often
}
_OPPOSITES = (
    ("enable", "disable"),
    ("allow", "forbid"),
    ("allow", "disallow"),
    ("include", "exclude"),
    ("sync", "async"),
    ("public", "private"),
    ("increase", "decrease"),
    ("accept", "reject"),
    ("add", "remove"),
    ("frontend", "backend"),
    ("client", "server"),
    ("before", "after"),
    ("upper", "lower"),
    ("min", "max"),
    ("encrypt", "decrypt"),
    ("mutable", "immutable"),
    ("optional", "required"),
)
_NEGATED = re.compile(
    r"\b(?:never|not|no|don't|dont|do not|doesn't|must not|mustn't|shouldn't|cannot|can't|"
    r"avoid|without|instead of|rather than|no longer)\b",
    re.I,
)
_GENERIC = frozenset("always must should use uses used we our the it".split())


class NearDuplicate(InvalidMemory):
    """A new memory says what an active one already says; nothing was written."""

    def __init__(self, existing: Memory, score: float) -> None:
        self.existing = existing
        self.score = score
        self._args = (existing, score)
        super().__init__(
            f"not stored: `{existing.id}` ({existing.kind}) already says this "
            f"({score:.0%} similar): {existing.title}. To replace it, record it with "
            f"supersedes {existing.id}; to add to it, merge (on_duplicate='merge'); to store "
            "both anyway, on_duplicate='keep'"
        )

    def __reduce__(self) -> tuple[type[NearDuplicate], tuple[Memory, float]]:
        # Exceptions are pickled by their args; this one is built from (existing, score), so a
        # worker process can raise it to its parent (multiprocessing, concurrent.futures).
        return (type(self), self._args)


@dataclass(frozen=True)
class Similarity:
    """How alike two statements are, and whether the guards call them different."""

    lexical: float
    containment: float
    dense: float | None
    numbers_differ: bool
    contradicts: bool

    @property
    def score(self) -> float:
        """One number for messages: the dense similarity when known, else the lexical one."""
        return self.dense if self.dense is not None else self.lexical


def _stem(word: str) -> str:
    for suffix in ("ing", "ies", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    # "rebase" and "rebasing", "use" and "using" meet at the same stem.
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def content_words(text: str) -> set[str]:
    """Stemmed words that carry meaning (stop words and generic verbs left out)."""
    return {
        _stem(w)
        for w in _WORD.findall(text.lower().replace("'", ""))
        if w not in STOP_WORDS and w not in _GENERIC and (len(w) > 1 or w.isdigit())
    }


def numbers(text: str) -> set[str]:
    """The numbers (with a unit, when one follows) a statement contains; "three" counts as 3."""
    words = re.sub(
        r"\b(" + "|".join(_NUMBER_WORDS) + r")\b",
        lambda m: _NUMBER_WORDS[m.group(1).lower()],
        text,
        flags=re.I,
    )
    found = {re.sub(r"\s+", "", n.lower()).replace(",", ".") for n in _NUMBER.findall(words)}
    # Names with digits in them (`s3`, `py311`, `v2`) distinguish statements like numbers do.
    found |= {w.lower() for w in _MIXED.findall(text)}
    return found


_SKIP = (
    r"(?:(?:use|using|used|run|running|call|calling|add|adding|put|store|import|write|make|"
    r"the|a|an|any|to|be|ever|for)\s+)*"
)
_OBJECT = r"([a-z0-9][\w+#.-]*)"
_RULED_OUT = (
    re.compile(
        r"\b(?:never|don't|dont|do not|does not|doesn't|must not|mustn't|should not|shouldn't|"
        r"cannot|can't|avoid|no longer|not|stop|no|without|instead of|rather than|ban|forbid)"
        rf"\s+{_SKIP}{_OBJECT}",
        re.I,
    ),
    re.compile(
        rf"{_OBJECT}\s+(?:is|are|was|were|has been|have been|got|gets)\s+"
        r"(?:(?:never|not)\s+(?:allowed|permitted|ok|okay|acceptable|wanted)|ruled out|rejected|"
        r"dropped|banned|deprecated|forbidden)",
        re.I,
    ),
    # "chose A over B", "prefer A over B", or a line that starts "A over B": B is what lost.
    # Not "events over Kafka" (a channel) nor "over 100 lines".
    re.compile(
        r"(?:\b(?:chose|choose|chosen|picked|pick|prefer|prefers|preferred|went with|go with|"
        r"use|using|favou?r)\s+[\w .+#-]{1,40}?|^\s*[\w+#.-]+)\s+over\s+(?:the\s+)?(?![0-9])"
        + _OBJECT,
        re.I | re.M,
    ),
)
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n+|,\s+(?=not\b|never\b|no\b)")


def prohibited(text: str) -> set[str]:
    """Stemmed words `text` rules out ("never use floats" → {"float"})."""
    out: set[str] = set()
    for pattern in _RULED_OUT:
        for match in pattern.finditer(text):
            words = _WORD.findall(match.group(1).lower().replace("'", ""))
            if words and words[0] not in STOP_WORDS and words[0] not in _GENERIC:
                out.add(_stem(words[0]))
    return out


def asserted(text: str) -> set[str]:
    """Content words `text` says are so: its sentences without a negation, less what lost."""
    out: set[str] = set()
    for sentence in _SENTENCE.split(text):
        if not _NEGATED.search(sentence):
            out |= content_words(sentence) - prohibited(sentence)
    return out


def contradicts(a: str, b: str) -> bool:
    """True when one statement rules out what the other asserts, or they use opposite words."""
    pa, pb = prohibited(a), prohibited(b)
    if (pa - pb) & asserted(b) or (pb - pa) & asserted(a):
        return True
    wa, wb = content_words(a), content_words(b)
    return any(
        (x in wa and y in wb and y not in wa) or (y in wa and x in wb and x not in wa)
        for x, y in ((_stem(p), _stem(q)) for p, q in _OPPOSITES)
    )


def compare(a: str, b: str, dense: float | None = None) -> Similarity:
    """The similarity of two statements (pass the embeddings' cosine as `dense` when known)."""
    wa, wb = content_words(a), content_words(b)
    common = len(wa & wb)
    lexical = 2 * common / (len(wa) + len(wb)) if wa and wb else 0.0
    containment = common / min(len(wa), len(wb)) if wa and wb else 0.0
    na, nb = numbers(a), numbers(b)
    # A number on one side only is added detail ("in 2024", "under 300 lines"), not an update.
    return Similarity(lexical, containment, dense, bool(na and nb) and na != nb, contradicts(a, b))


def is_duplicate(sim: Similarity) -> bool:
    """The decision rule over a `Similarity`."""
    if sim.numbers_differ or sim.contradicts:
        return False
    if sim.dense is None:
        return sim.lexical >= LEXICAL_NO_EMBEDDER
    low, lexical_floor = DENSE_WITH_LEXICAL
    lexical_high, dense_floor = LEXICAL_ALONE
    return (
        sim.dense >= DENSE_ALONE
        or (sim.dense >= low and sim.lexical >= lexical_floor)
        or (sim.lexical >= lexical_high and sim.dense >= dense_floor)
    )


Embed = Callable[[Sequence[str]], "np.ndarray[Any, Any] | None"]


def default_embed(texts: Sequence[str]) -> np.ndarray[Any, Any] | None:
    """Embeddings from the bundled model, or None when it cannot run here."""
    from kenning.engine.vectors import embed_texts, embedder_key

    if embedder_key() is None:
        return None
    return embed_texts([t[:2000] for t in texts])


def statement(memory: Memory) -> str:
    """The text two memories are compared by: title and body."""
    return f"{memory.title}\n{memory.body}".strip()


def find_near_duplicate(
    text: str,
    candidates: Sequence[Memory],
    embed: Embed | None = default_embed,
    known: dict[str, np.ndarray[Any, Any]] | None = None,
) -> tuple[Memory, Similarity] | None:
    """The active candidate that `text` duplicates (the most similar one), or None.

    `known` holds vectors the index already has, by memory id; the others are embedded, at most
    `MAX_DENSE_CANDIDATES` of them (the lexically closest).
    """
    pool = [m for m in candidates if m.active]
    if not pool or not text.strip():
        return None
    known = known or {}
    texts = [statement(m) for m in pool]
    lexical = [compare(text, t) for t in texts]
    by_overlap = sorted(range(len(pool)), key=lambda i: -lexical[i].lexical)
    unknown = [i for i in by_overlap if pool[i].id not in known][:MAX_DENSE_CANDIDATES]
    vectors: dict[int, np.ndarray[Any, Any]] = {
        i: known[m.id] for i, m in enumerate(pool) if m.id in known
    }
    query: np.ndarray[Any, Any] | None = None
    if embed is not None:
        embedded = embed([text, *(texts[i] for i in unknown)])
        if embedded is not None:
            query = embedded[0]
            vectors.update({i: embedded[n + 1] for n, i in enumerate(unknown)})
    best: tuple[float, int, Similarity] | None = None
    for i in range(len(pool)):
        vec = vectors.get(i)
        dense = float(query @ vec) if query is not None and vec is not None else None
        if dense is None and query is not None:
            continue  # not among the embedded candidates: too far apart lexically to matter
        sim = replace(lexical[i], dense=dense)
        if is_duplicate(sim) and (best is None or sim.score > best[0]):
            best = (sim.score, i, sim)
    return (pool[best[1]], best[2]) if best is not None else None


def merge(existing: Memory, new: Memory) -> Memory:
    """`existing` with what `new` adds: sentences it lacks, tags, scope, aliases and anchors."""
    have = {_sentence_key(s) for s in _sentences(statement(existing))}
    added = [s for s in _sentences(new.body or new.title) if _sentence_key(s) not in have]
    added = [s for s in added if content_words(s) - content_words(statement(existing))]
    body = existing.body
    if added:
        body = (body + "\n\n" if body else "") + " ".join(added)
    extra = dict(existing.extra)
    anchors = list(extra.get("anchors") or []) if isinstance(extra.get("anchors"), list) else []
    for anchor in new.extra.get("anchors") or []:
        if anchor not in anchors:
            anchors.append(anchor)
    if anchors:
        extra["anchors"] = anchors
    return replace(
        existing,
        body=body,
        updated=datetime.now(UTC).replace(microsecond=0),
        scope=tuple(dict.fromkeys([*existing.scope, *new.scope])),
        aliases=tuple(dict.fromkeys([*existing.aliases, *new.aliases])),
        tags=tuple(dict.fromkeys([*existing.tags, *new.tags])),
        extra=extra,
    )


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def _sentence_key(sentence: str) -> str:
    return " ".join(sorted(content_words(sentence)))
