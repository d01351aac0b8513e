"""Conflicts: the decisions and rules a request (or a diff) goes against.

No model is needed for the common cases; every check is a reading of the memory's own words:

- **Prohibitions.** Sentences with "never", "no", "don't", "ruled out", "avoid", "X is not
  used", "we chose A over B", "A instead of B", "rather than", "moved off", "replaces", "needs a
  new decision" name what is off the table. Each is cut into items ("UPDATE or DELETE ledger
  entries" → update ledger entries, delete ledger entries) and an item is asked for when all of
  its key words are in the request (or in the lines a diff adds), outside a negation.
- **Negated requests** are not conflicts: "make sure we don't use Celery", "instead of reaching
  for mongo", "convert the styled-components to CSS modules", "remove the Redux section"; nor
  is history the request tells: "requests was replaced by httpx", "the old Heroku review apps",
  "we used to keep backups for 14 days".
- **Qualified bans**: "never call env() outside config files" allows it in config files; "no
  deploys on Fridays or weekends" applies on those days only.
- **Superseded choices revived.** A request that asks again for what a superseded decision
  chose ("go back to three fixed retries") conflicts with the active decision that replaced it,
  never with the superseded one.
- **Scoped rules** apply only when a touched path (given, or read from the diff) is in their
  scope. With a diff they are also checked line by line: a forbidden token on an added line, an
  edit to a file the rule freezes, or added code that lacks every token the rule requires
  ("every consumer dedupes on event_id").
- **Code shapes**: a scoped rule that says public functions carry type hints is checked on the
  `def` lines a diff adds in its scope.
- **Exclusive choices**: "Tuesdays and Thursdays only", "all data stays in eu-central-1", "JSON
  fields are snake_case", "access tokens live 15 minutes", "loads run at 02:00 UTC": a request
  naming another weekday, region, case style, pagination or deletion style, duration or time of
  day for the same thing.
- **Preconditions**: "never X without Y" is satisfied when the request says Y happened ("the
  privacy review is done", "we agreed to add it").

Questions and write-ups about a decision ("why did we rule out Celery?") conflict with nothing.
Each conflict names the memory, its date, the sentence that conflicts and what in the request
(or diff) triggered it.

Reading a memory (its `Stance`) lives in `kenning.engine._stance`, comparing words in
`kenning.engine._words`; this module reads the request
and the diff once (`_Change`) and runs the checks in `_CHECKS` and `_REQUEST_CHECKS`, in order,
against each active memory: the first that fires is that memory's reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any

import pathspec

from kenning.engine._stance import (
    REPLACEMENT,
    STANCE_CACHE,
    Ban,
    Stance,
    category_values,
    clock_times_in,
    code_durations_in,
    days_named,
    durations_in,
    prohibitions,
    shape_violation,
    stance,
)
from kenning.engine._words import bag_of, key_words, tokens_of, variants_of

__all__ = [
    "Conflict",
    "Diff",
    "MemoryView",
    "RequestView",
    "conflicts_to_dicts",
    "find_conflicts",
    "in_scope",
    "parse_diff",
    "prohibitions",
    "stance",
]

# ---- request patterns ------------------------------------------------------------------------

_NEGATORS = re.compile(
    r"\b(?:don't|dont|do not|does not|doesn't|never|no|not|nothing|without|avoid|instead of|"
    r"rather than|stop using|migrate off|move off|moved off|off of|away from|nor)\b",
    re.IGNORECASE,
)
# Removal verbs negate their whole list: "remove the leftovers: a, b and c".
_REMOVALS = re.compile(
    r"\b(?:remove|removing|drop|dropping|delete|deleting|get rid of|rip out|retire|deprecate|"
    r"kill|purge|clean up|uninstall)\b",
    re.IGNORECASE,
)
# "X isn't", "the X leftovers", "X was dropped": the few words before are not asked for.
_POST_NEGATORS = re.compile(
    r"\b(?:isn't|aren't|wasn't|weren't|won't|leftovers?|remnants?|is gone|are gone|"
    r"(?:was|were|got|has been|have been) (?:replaced|dropped|removed|retired|deprecated|"
    r"ruled out|rejected))\b",
    re.I,
)
# "convert X to Y", "replace X with Y", "from X to Y", "swap X for Y": X is what goes away.
_CONVERSION = re.compile(
    r"\b(?:convert|converting|replace|replacing|swap|swapping|migrate|migrating|port|porting|"
    r"switch|switching|move|moving|from|turn|rewrite|rehash|re-hash|re-encrypt|reencrypt|"
    r"upgrade|upgrading)\b(.{1,80}?)\b(?:to|with|for|into|onto)\b",
    re.IGNORECASE,
)
_INFORMATIONAL = re.compile(
    r"^\s*(?:why|what|what's|whats|who|whom|when|where|which|how|did|does|do|is|are|was|were|"
    r"has|have|had)\b|\b(?:write up|summari[sz]e|no code yet|the options|pros and cons|"
    r"(?:doc|docs|readme|section|page)\b.{0,20}\b(?:describes?|mentions?|says|refers? to)|"
    r"to describe|(?:mention|note|say|explain|describe)s? (?:that|how|why))\b",
    re.IGNORECASE,
)
# Only the start of a request is read: a pasted megabyte costs no more than this much text.
MAX_REQUEST_CHARS = 20_000
_HISTORY = re.compile(r"\b(?:the|our|that) (?:old|former|previous|earlier)\b", re.I)
# "we used to keep backups for 14 days": the rest of the clause is history.
_USED_TO = re.compile(r"\b(?:used to|back when|at the time)\b", re.I)
_REVIVAL = re.compile(
    r"\b(?:go back to|back to|revert to|bring back|again|like before|same as the old|as before|"
    r"restore)\b",
    re.IGNORECASE,
)
_SATISFIED = re.compile(
    r"\b(?:agreed|approved|signed|is done|are done|was done|reviewed|ok'd|okayed|green-?lit|"
    r"asked|sign-?off|signed off)\b",
    re.IGNORECASE,
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
    how: str = "prohibition"
    trigger: str = ""

    def to_dict(self) -> dict[str, str | None]:
        return {
            "ref": self.ref,
            "title": self.title,
            "reason": self.reason,
            "kind": self.kind,
            "date": self.date,
            "sentence": self.sentence,
            "how": self.how,
            "trigger": self.trigger,
        }


@dataclass(frozen=True)
class MemoryView:
    """What conflict detection needs of a memory (`scope`: path globs, for rules)."""

    ref: str
    kind: str
    title: str
    text: str
    status: str = "active"
    created: float | None = None
    superseded_by: str | None = None
    scope: tuple[str, ...] = ()
    supersedes: str | None = None


@dataclass(frozen=True)
class Diff:
    """The parts of a unified diff conflict checks read."""

    added: str = ""
    removed: str = ""
    modified: tuple[str, ...] = ()  # files that existed before the change
    created: tuple[str, ...] = ()  # files the diff creates

    @property
    def files(self) -> tuple[str, ...]:
        return self.modified + self.created

    @property
    def added_by_file(self) -> dict[str, str]:
        return dict(self._by_file)

    _by_file: tuple[tuple[str, str], ...] = field(default=(), repr=False)


def parse_diff(text: str | None) -> Diff:
    """Added and removed lines, and which files a unified diff modifies or creates.

    Text that is not a unified diff (a plan, a snippet) counts as added lines of no file.
    """
    if not text or not text.strip():
        return Diff()
    if "\n+++ " not in f"\n{text}" and "\n@@" not in f"\n{text}":
        return Diff(added=text)
    added: list[str] = []
    removed: list[str] = []
    modified: list[str] = []
    created: list[str] = []
    by_file: dict[str, list[str]] = {}
    old: str | None = None
    current = ""
    for line in text.splitlines():
        if line.startswith("--- "):
            old = line[4:].strip()
        elif line.startswith("+++ "):
            new = _diff_path(line[4:].strip())
            current = new
            if old is not None and _diff_path(old) == "/dev/null":
                created.append(new)
            elif new != "/dev/null":
                modified.append(new)
            old = None
        elif line.startswith("+"):
            added.append(line[1:])
            by_file.setdefault(current, []).append(line[1:])
        elif line.startswith("-"):
            removed.append(line[1:])
    return Diff(
        "\n".join(added),
        "\n".join(removed),
        tuple(dict.fromkeys(modified)),
        tuple(dict.fromkeys(created)),
        tuple((k, "\n".join(v)) for k, v in by_file.items()),
    )


def _diff_path(raw: str) -> str:
    raw = raw.split("\t", 1)[0].strip()
    if raw.startswith(("a/", "b/")):
        return raw[2:]
    return raw


# ---- reading a request -----------------------------------------------------------------------


@dataclass(frozen=True)
class RequestView:
    """The words a request asks for (negated ones left out), and what it negates."""

    wanted: frozenset[str]
    negated: frozenset[str]
    informational: bool
    revival: bool
    satisfied: bool
    text: str
    stream: tuple[frozenset[str], ...] = ()
    # The text without the clauses that tell history ("we used to keep backups for 14 days"):
    # the amounts, days and styles the request asks for are read from this.
    now: str = ""

    @classmethod
    def read(cls, request: str) -> RequestView:
        history: list[tuple[int, int]] = []
        text = request[:MAX_REQUEST_CHARS]
        tokens = tokens_of(text)
        negated_at: set[int] = set()

        def negate(lo: int, hi: int) -> None:
            negated_at.update(p for p, _ in tokens if lo <= p < hi)

        clauses = _clauses(text)
        for n, (start, end) in enumerate(clauses):
            piece = text[start:end]
            for match in _NEGATORS.finditer(piece):
                negate(start + match.end(), end)
            for match in _POST_NEGATORS.finditer(piece):
                before = [p for p, _ in tokens if start <= p < start + match.start()]
                negated_at.update(before[-3:])
            for match in _CONVERSION.finditer(piece):
                if re.fullmatch(r"\s*(?:that|this|it|them|those|these)\s*", match.group(1)):
                    # "mock.patch stripe's SDK; swap that for respx": what "that" points at.
                    if n:
                        negate(*clauses[n - 1])
                    continue
                negate(start + match.start(1), start + match.end(1))
        if not _REVIVAL.search(text):
            # "the old Heroku review apps were handy": history named, not asked for again.
            for match in _HISTORY.finditer(text):
                after = [p for p, _ in tokens if p >= match.end()]
                negated_at.update(after[:2])
            for start, end in clauses:
                used = _USED_TO.search(text, start, end)
                if used:
                    negate(used.end(), end)
                    history.append((used.start(), end))
        for sentence_start, sentence_end in _sentences(text):
            piece = text[sentence_start:sentence_end]
            for match in _REMOVALS.finditer(piece):
                negate(sentence_start + match.end(), sentence_end)
        wanted: set[str] = set()
        negated: set[str] = set()
        stream: list[frozenset[str]] = []
        for pos, raw in tokens:
            variants = variants_of(raw)
            if pos in negated_at:
                negated.update(variants)
            else:
                wanted.update(variants)
                stream.append(frozenset(variants))
        return cls(
            frozenset(wanted),
            frozenset(negated),
            bool(_INFORMATIONAL.search(text)),
            bool(_REVIVAL.search(text)),
            bool(_SATISFIED.search(text)),
            text,
            tuple(stream),
            _blank(text, history),
        )


def _blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _sentences(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = 0
    for match in re.finditer(r"[;.!?](?:\s|$)|\bbut\b|\bthen\b|\n", text):
        out.append((start, match.start()))
        start = match.end()
    out.append((start, len(text)))
    return out


def _clauses(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = 0
    for match in re.finditer(r"[;.!?]\s|[,:]\s|\bbut\b|\band\b|\n", text):
        out.append((start, match.start()))
        start = match.end()
    out.append((start, len(text)))
    return out


# ---- matching --------------------------------------------------------------------------------


def _date(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).date().isoformat()


@lru_cache(maxsize=4096)
def _spec(glob: str) -> pathspec.PathSpec[Any]:
    return pathspec.GitIgnoreSpec.from_lines([glob.strip().removeprefix("./")])


def in_scope(scope: Sequence[str], path: str) -> bool:
    """gitignore semantics: does one of the scope globs cover `path`?"""
    return any(g.strip() and not g.startswith("!") and _spec(g).match_file(path) for g in scope)


def _stream(text: str) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(variants_of(raw)) for _, raw in tokens_of(text))


def _phrase_in(phrase: Sequence[str], stream: Sequence[frozenset[str]]) -> bool:
    """Are the words of `phrase` written together in `stream` (within len + 1 tokens)?"""
    if len(phrase) == 1:
        return any(phrase[0] in token for token in stream)
    width = len(phrase) + 1
    for start, token in enumerate(stream):
        if not any(word in token for word in phrase):
            continue
        window = stream[start : start + width]
        if all(any(word in t for t in window) for word in phrase):
            return True
    return False


def _ban_hit(ban: Ban, bag: frozenset[str], stream: Sequence[frozenset[str]]) -> bool:
    if ban.verb and ban.verb not in bag:
        return False
    phrases = ban.phrases or (ban.words,)
    return all(_phrase_in(p, stream) for p in phrases if p)


def _has(words: Iterable[str], bag: frozenset[str] | set[str]) -> bool:
    words = tuple(words)
    return bool(words) and all(w in bag for w in words)


def _allowed_here(ban: Ban, files: Sequence[str], wanted: frozenset[str]) -> bool:
    """Is the request working where an "only in" ban allows the thing?"""
    if not ban.allowed_in:
        return False
    paths = [p.lower() for p in ban.allowed_in if "/" in p or re.search(r"\.\w+$", p)]
    names = {PurePosixPath(p).name for p in paths}
    for path in files:
        low = path.lower()
        if PurePosixPath(low).name in names or any(low.endswith(p) for p in paths):
            return True
    words = {w for p in ban.allowed_in if p.lower() not in paths for w in key_words(p)}
    file_words = {w for f in files for w in bag_of(f)}
    return bool(words & (wanted | file_words))


def _human(seconds: float) -> str:
    if seconds == math.inf:
        return "forever"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _seconds_of(text: str) -> list[tuple[float, frozenset[str]]]:
    return [(v, s) for v, s, _ in durations_in(text)]


@dataclass(frozen=True)
class _Change:
    """What the request brings, read once per call: its words, its diff, the paths in play."""

    request: RequestView
    diff: Diff
    files: tuple[str, ...]
    diff_bag: frozenset[str] = frozenset()
    diff_stream: tuple[frozenset[str], ...] = ()

    @classmethod
    def read(cls, request: str, diff: str | None, files: Sequence[str]) -> _Change:
        parsed = parse_diff(diff)
        return cls(
            RequestView.read(request),
            parsed,
            tuple(dict.fromkeys([*files, *parsed.files])),
            frozenset(bag_of(parsed.added)) if parsed.added else frozenset(),
            _stream(parsed.added) if parsed.added else (),
        )


@dataclass(frozen=True)
class _Subject:
    """One active memory as the checks see it: its stance, scope, and what it replaced."""

    memory: MemoryView
    stance: Stance
    replaced: tuple[MemoryView, ...]
    touched_in_scope: tuple[str, ...]

    @property
    def scoped(self) -> bool:
        return bool(self.memory.scope)


# A hit: (how, the memory's sentence, what in the request or diff triggered it).
_Hit = tuple[str, str, str]


def _check_bans(m: _Subject, c: _Change) -> _Hit | None:
    """Prohibited things the request or the lines a diff adds ask for."""
    request = c.request
    for ban in m.stance.bans:
        if ban.unless and (request.satisfied or _has(ban.unless, request.wanted)):
            continue
        if _allowed_here(ban, c.files, request.wanted):
            continue
        if ban.except_for and set(ban.except_for) & request.wanted:
            continue
        if ban.when and not set(ban.when) & days_named(request.text):
            continue
        if not request.informational and _ban_hit(ban, request.wanted, request.stream):
            return "prohibition", ban.sentence, " ".join(ban.words)
        if c.diff.added and _ban_hit(ban, c.diff_bag, c.diff_stream):
            if not m.scoped or m.touched_in_scope or not c.diff.files:
                return "diff", ban.sentence, " ".join(ban.words)
    return None


def _check_frozen(m: _Subject, c: _Change) -> _Hit | None:
    """A scoped rule that freezes files, and a diff that edits one of them."""
    if not (m.scoped and m.stance.freezes and c.diff.modified):
        return None
    edited = [f for f in c.diff.modified if in_scope(m.memory.scope, f)]
    return ("edit", m.stance.freezes, edited[0]) if edited else None


def _check_requirements(m: _Subject, c: _Change) -> _Hit | None:
    """A scoped rule's requirement that the code added in its scope does not meet."""
    if not (m.scoped and (m.stance.requires or m.stance.shapes) and c.diff.added):
        return None
    for path, added in c.diff.added_by_file.items():
        if not path or not in_scope(m.memory.scope, path) or not added.strip():
            continue
        bag = bag_of(added) if m.stance.requires else frozenset()
        for words, sentence in m.stance.requires:
            if not any(w in bag for w in words):
                return "requirement", sentence, path
        for shape, sentence in m.stance.shapes:
            line = shape_violation(shape, added)
            if line:
                return "requirement", sentence, f"{path}: {line}"
    return None


def _check_must_do(m: _Subject, c: _Change) -> _Hit | None:
    """A scoped rule that says what must be done to some things ("hash emails ...")."""
    if not (m.scoped and m.touched_in_scope and m.stance.must_do):
        return None
    seen = c.request.wanted | c.diff_bag
    for verb, things, sentence in m.stance.must_do:
        named = [t for t in things if _has(t, seen)]
        if named and verb not in seen:
            return "requirement", sentence, " ".join(named[0])
    return None


def _check_superseded(m: _Subject, c: _Change) -> _Hit | None:
    """A choice that a memory this one replaced made, asked for again."""
    request = c.request
    for old in m.replaced:
        old_title = set(key_words(old.title))
        old_words = old_title | set(key_words(old.text))
        new_words = set(key_words(m.memory.title)) - old_words
        overlap = (old_words & request.wanted) - m.stance.chosen
        if len(overlap) >= 2 and overlap & old_title:
            if not (new_words & request.wanted) or request.revival:
                return "superseded", old.title, ", ".join(sorted(overlap))
    return None


def _check_exclusive(m: _Subject, c: _Change) -> _Hit | None:
    """Another value where the memory settled on one: weekdays, regions, styles, durations."""
    found, request = m.stance, c.request
    if found.weekdays:
        days, sentence = found.weekdays
        asked = days_named(request.now) - {"holiday"}
        if asked and not asked & days:
            return "exclusive", sentence, ", ".join(sorted(asked))
    asked_values = category_values(request.now)
    for name, values, sentence in found.categories:
        wanted = asked_values.get(name, set())
        wanted = {v for v in wanted if not _has(key_words(v), request.negated) or v in values}
        if wanted and not wanted & values:
            return "exclusive", sentence, ", ".join(sorted(wanted))
    amounts = _seconds_of(request.now) + code_durations_in(c.diff.added)
    hit = _other_amount(found.durations, amounts, request, _human)
    if hit:
        return hit
    times = [(v, s) for v, s, _ in clock_times_in(request.now)]
    return _other_amount(found.clock_times, times, request, _clock)


def _other_amount(
    settled: Sequence[tuple[float, frozenset[str], str]],
    asked: Sequence[tuple[float, frozenset[str]]],
    request: RequestView,
    show: Callable[[float], str],
) -> _Hit | None:
    """An amount (a duration, a time of day) the request names for what the memory fixed."""
    settled_values = {v for v, _, s in settled if not s.startswith(("<=", ">="))}
    for value, subject in asked:
        if value in settled_values:
            continue
        for fixed, about, sentence in settled:
            if not (subject & about or (about & request.wanted and len(about) > 1)):
                continue
            if sentence.startswith("<=") and value <= fixed:
                continue
            if sentence.startswith(">=") and value >= fixed:
                continue
            return "exclusive", sentence.lstrip("<>="), show(value)
    return None


def _clock(minutes: float) -> str:
    return f"{int(minutes) // 60:02d}:{int(minutes) % 60:02d}"


# Strongest first within a memory: the first check that fires is its reason. Informational
# requests (questions, write-ups) stop after the checks that read a diff or scoped rules.
_CHECKS: tuple[Callable[[_Subject, _Change], _Hit | None], ...] = (
    _check_bans,
    _check_frozen,
    _check_requirements,
    _check_must_do,
)
_REQUEST_CHECKS: tuple[Callable[[_Subject, _Change], _Hit | None], ...] = (
    _check_superseded,
    _check_exclusive,
)


def _check(m: _Subject, c: _Change) -> _Hit | None:
    """(how, sentence, trigger) of the strongest reason the memory conflicts, else None."""
    if m.scoped and c.files and not m.touched_in_scope:
        return None
    for check in _CHECKS:
        hit = check(m, c)
        if hit:
            return hit
    if c.request.informational and not c.diff.added:
        return None
    for check in _REQUEST_CHECKS:
        hit = check(m, c)
        if hit:
            return hit
    return None


def prepare(memories: Iterable[tuple[str, str]]) -> int:
    """Read the stance of each (title, text) ahead of the briefs that will need it.

    A stance costs ~0.5 ms to read and is cached; until a server has met every memory, a brief
    at 5k memories meets ~9 new ones (most of its conflict check). Reads at most half the
    cache, in the order given; returns how many it read.
    """
    read = 0
    for title, text in memories:
        if read >= STANCE_CACHE // 2:
            break
        stance(title, text)
        read += 1
    return read


def find_conflicts(
    request: str,
    memories: Sequence[MemoryView],
    limit: int = 3,
    *,
    diff: str | None = None,
    files: Sequence[str] = (),
) -> list[Conflict]:
    """Active decisions, rules and preferences the request (or its diff) contradicts.

    Args:
        request: the user's request.
        memories: the candidates (a brief passes the retrieved decisions, rules and
            preferences plus the rules scoped to the paths in play); superseded ones are
            used to recognise a revived choice, never reported themselves.
        limit: at most this many conflicts, strongest first.
        diff: an optional unified diff (or any plan text) the request comes with.
        files: paths the request touches; a diff's paths are added to them.
    """
    change = _Change.read(request, diff, files)
    active = [
        m for m in memories if m.kind in ("decision", "rule", "preference") and m.status == "active"
    ]
    superseded = [m for m in memories if m.status == "superseded"]
    found: list[tuple[int, Conflict]] = []
    order = {"diff": 0, "edit": 0, "requirement": 1, "prohibition": 1, "superseded": 2}
    for memory in active:
        scoped = tuple(f for f in change.files if in_scope(memory.scope, f))
        subject = _Subject(
            memory,
            stance(memory.title, memory.text),
            tuple(old for old in superseded if _replaces(memory, old)),
            scoped if memory.scope else change.files,
        )
        hit = _check(subject, change)
        if hit is None:
            continue
        how, sentence, trigger = hit
        found.append(
            (
                order.get(how, 3),
                Conflict(
                    memory.ref,
                    memory.title,
                    _reason(how, memory, sentence, trigger),
                    memory.kind,
                    _date(memory.created),
                    sentence[:300],
                    how,
                    trigger,
                ),
            )
        )
    found.sort(key=lambda item: item[0])
    seen: set[str] = set()
    out: list[Conflict] = []
    for _, conflict in found:
        if conflict.ref not in seen:
            seen.add(conflict.ref)
            out.append(conflict)
    return out[:limit]


def _replaces(new: MemoryView, old: MemoryView) -> bool:
    if old.superseded_by:
        return old.superseded_by == new.ref
    if new.supersedes:
        return new.supersedes == old.ref
    text = f"{new.title}. {new.text}"
    if not REPLACEMENT.search(text):
        return False
    return bool(set(key_words(old.title)) & set(key_words(text)))


def _clip(text: str, limit: int) -> str:
    """`text` on one line, cut at a word boundary to about `limit` characters (with `…`)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(" ,;:") + " …"


# How a reason's clause leads into the memory's quoted sentence, by kind of conflict.
_LEAD_INS = {
    "prohibition": "; this {kind} says:",
    "diff": "; this {kind} says:",
    "edit": ", which this {kind} freezes:",
    "requirement": ":",
}


def _reason(how: str, memory: MemoryView, sentence: str, trigger: str) -> str:
    if how == "superseded":
        return (
            f"the request goes back to “{_clip(sentence, 120)}” ({trigger}), which this "
            f"{memory.kind} replaced"
        )
    lead_in = _LEAD_INS.get(how, "; this {kind} settled on:").format(kind=memory.kind)
    return f"{_clause(how, memory.kind, trigger)}{lead_in} “{_clip(sentence, 200)}”"


def _clause(how: str, kind: str, trigger: str) -> str:
    if how == "diff":
        return f"the change adds {trigger}"
    if how == "edit":
        return f"the change edits {trigger}"
    if how == "requirement":
        return f"the code added to {trigger} does not do what this rule requires"
    if how == "superseded":
        return f"the request goes back to what this {kind} replaced ({trigger})"
    return f"the request asks for {trigger}"


def short_reason(conflict: Conflict) -> str:
    """The reason without the quote: the packet's item shows the memory's text under it, and
    the quote is in the packet's conflicts already."""
    return _clause(conflict.how, conflict.kind, conflict.trigger)


def conflicts_to_dicts(conflicts: Iterable[Conflict]) -> list[dict[str, Any]]:
    return [c.to_dict() for c in conflicts]
