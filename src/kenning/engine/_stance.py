"""What a memory settles: the things it rules out, chooses, requires or fixes to one value.

The reading half of conflict detection (`kenning.engine.conflicts` is the matching half). A
memory's title and text are cut into sentences; each sentence is read for prohibitions ("never",
"ruled out", "we chose A over B", "A instead of B", "X was dropped"), requirements ("every
consumer dedupes on event_id"), things that must be done to some data ("hash emails ..."), files
it freezes, and exclusive values (weekdays, regions, case styles, durations, times of day). The
result is a `Stance`, cached per (title, text): memories repeat across requests.

Words are compared through `kenning.engine._words` (lowercase, light stemming, synonyms,
identifier parts, implied words), the same on the memory side and the request side.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import PurePosixPath

from kenning.engine._words import GENERIC, key_words, norm, tokens_of

CATEGORIES: dict[str, dict[str, tuple[str, ...]]] = {
    "case style": {
        "snake_case": (r"\bsnake[_ -]?case\b",),
        "camelCase": (r"\bcamel[_ -]?case\b",),
        "PascalCase": (r"\bpascal[_ -]?case\b",),
        "kebab-case": (r"\bkebab[_ -]?case\b",),
    },
    "pagination": {
        "cursor": (r"\bcursors?\b",),
        "offset": (r"\boffset\b", r"[?&]page=", r"\bper_page\b", r"\bpage numbers?\b"),
    },
    "deletion": {
        "hard delete": (r"\bhard[ -]delet", r"\breally delete"),
        "soft delete": (r"\bsoft[ -]delet", r"\bdeleted_at\b", r"\bis_deleted\b"),
    },
    "region": {},  # filled from the text: AWS-style region names
}
_REGION = re.compile(r"\b(?:us|eu|ap|sa|ca|me|af|il)-(?:north|south|east|west|central)\w*-\d\b")
_WEEKDAYS = {
    "monday": ("monday", "mondays", "mon"),
    "tuesday": ("tuesday", "tuesdays", "tue", "tues"),
    "wednesday": ("wednesday", "wednesdays", "wed"),
    "thursday": ("thursday", "thursdays", "thu", "thurs"),
    "friday": ("friday", "fridays", "fri"),
    "saturday": ("saturday", "saturdays", "sat"),
    "sunday": ("sunday", "sundays", "sun"),
}
DAY_OF = {alias: day for day, aliases in _WEEKDAYS.items() for alias in aliases}
_DURATION = re.compile(
    r"\b(\d+(?:\.\d+)?)\s*-?\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w)\b"
)
_ONE_UNIT = re.compile(r"\b(?:every|each|per|once an?)\s+(second|minute|hour|day|week)\b")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

# ---- sentence patterns -----------------------------------------------------------------------

# Sentences end at . ! ? ; or a paragraph or list break: Markdown memories are hard-wrapped,
# so a single newline is not a boundary.
_SENTENCE = re.compile(
    r"(?<=[.!?;])(?<!\.\.\.)\s+|\n\s*\n+|\n(?=\s*(?:[-*+>#]|\d+\.)\s)|:\s+(?=[A-Z])"
)
_CODE_SPAN = re.compile(r"`[^`\n]+`")


def split_sentences(text: str) -> list[str]:
    """The sentences of a memory's text. A boundary inside a `code span` is not one (`bigint
    ... _cents`, `a.b; c`), nor is an ellipsis: a conflict quotes the whole sentence."""
    spans = [m.span() for m in _CODE_SPAN.finditer(text)] if "`" in text else []
    out: list[str] = []
    last = 0
    for match in _SENTENCE.finditer(text):
        if any(start < match.start() < end for start, end in spans):
            continue
        out.append(text[last : match.start()])
        last = match.end()
    out.append(text[last:])
    return out


_PROHIBIT = re.compile(
    r"\b(?:never|don't|do not|dont|must not|mustn't|should not|shouldn't|cannot|can't|avoid|"
    r"no longer|not allowed|forbidden|banned?|ruled out|rule out|rejected|we did not|"
    r"we deliberately did not|did not|instead of|rather than|not use|stop using|moved off|"
    r"move off|migrated off|replaces|replaced|stopped|decided against|opted against|"
    r"voted against|decided not to|chose not to|(?<!was )(?<!were )(?<!is )(?<!are )dropped|"
    r"got rid of|abandoned|not|(?<!has )(?<!have )(?<!had )no)\b",
    re.IGNORECASE,
)
_CHOSE_OVER = re.compile(
    r"\b(?:chose|choose|picked|prefer|went with|use|using|selected)\s+(.{1,60}?)\s+over\s+"
    r"(.{1,80}?)(?=[(;:.]|$)",
    re.IGNORECASE,
)
_AFTER_BANNED = re.compile(
    r"([\w .+#/'-]{2,60}?(?:\(\))?(?:\s+and\s+[\w.+#/'-]+(?:\(\))?)?)\s+"
    r"(?:was|were|is|are|got|has been|have been)\s+(?:ruled out|rejected|"
    r"dropped|banned|deprecated|forbidden|not allowed|not used|removed)",
    re.IGNORECASE,
)
# Words without which `_AFTER_BANNED` / `_ONLY_IN` cannot match. Both patterns open with a lazy
# run of up to 60 characters tried at every position (~50 us a sentence, most of a cold
# `stance`); the gates find the few sentences worth that search.
_AFTER_BANNED_GATE = re.compile(
    r"ruled out|rejected|dropped|banned|deprecated|forbidden|not allowed|not used|removed",
    re.IGNORECASE,
)
_ONLY_IN_GATE = re.compile(r"only\s+(?:in|at|on|inside)", re.IGNORECASE)
_TITLE_NOT = re.compile(r"^(.{2,60}?),\s*not\s+(.{2,80})$", re.IGNORECASE)
_NEEDS_DECISION = re.compile(
    r"\b([\w-]+(?:ing)?)\s+(?:\w+\s+){0,2}needs? a new (?:decision|adr)\b", re.IGNORECASE
)
_ONLY_IN = re.compile(
    r"([\w:.+ -]{2,40}?(?:\(\))?)\s+(?:(?:is|are)\s+)?(?:(?:allowed|permitted|used)\s+)?only\s+"
    r"(?:in|at|on|inside)\s+(.+?)(?=;|\.\s|\.$|$)",
    re.IGNORECASE,
)
_ASK_BEFORE = re.compile(
    r"\bask\b[^.;]*?\bbefore\s+(?:adding|changing|editing|touching)\s+(?:anything\s+|"
    r"something\s+)?(?:to|in)\s+([^;]+?)(?=[;]|\.\s|\.$|,\s+including|$)",
    re.IGNORECASE,
)
_EXCEPT = re.compile(
    r"\b([\w-]+)\s+(?:is|are)\s+(?:allowed|fine|ok|okay|permitted)\s+(?:for|in)\s+"
    r"(.+?)\s+only\b",
    re.IGNORECASE,
)
_WITHOUT = re.compile(r"\bwithout\s+(?:a |an |the )?([\w -]{3,40})", re.IGNORECASE)
_FREEZES = re.compile(
    r"\b(?:never|don't|do not)\s+(?:edit|modify|change|rewrite)\b|\bfrozen\b|"
    r"\bimmutable\b|\bappend-only\b.*\bmigration",
    re.IGNORECASE,
)
# "Hash emails and phone numbers before they reach the warehouse": a rule that says what must be
# done to some things. A change in its scope that names the things and not the verb breaks it.
_MUST_DO = re.compile(
    r"^(hash|encrypt|sign|validate|sanitize|sanitise|escape|redact|mask|anonymi[sz]e|"
    r"pseudonymi[sz]e)\s+(.+?)(?=\s+(?:before|when|with|in|on|at|so)\b|[;.]|$)",
    re.IGNORECASE,
)
_REQUIRES = re.compile(r"\b(?:every|all|must|always|each)\b|^(?:use|return|pass)\b", re.IGNORECASE)
_CUT = re.compile(
    r"[;:]|\((?!\))|(?<!\()\)|\s(?:because|since|as|so|but|after|until|when|unless|which|that|for|to|in|on|at|"
    r"inside|within|from|per|between|without|through|by)\s|\s-\s|$",
    re.IGNORECASE,
)
_PLACES = re.compile(r",|\s+or\s+|\s+and\s+", re.IGNORECASE)
# `httpx/requests` are two things; `pub/sub`, `I/O`, `CI/CD` are one.
_SPLIT_ITEMS = re.compile(
    r",|\s+or\s+|\s+and\s+|\s+nor\s+|(?<=[\w.]{4})/(?=[\w.]{4})", re.IGNORECASE
)
REPLACEMENT = re.compile(r"\b(?:replac\w*|supersed\w*|moved off|instead of|switched)\b", re.I)

# ---- reading a memory ------------------------------------------------------------------------


@dataclass(frozen=True)
class Ban:
    """Something a memory rules out.

    `words` are its key words; a request or diff matches when it has the `verb` (if any) and
    each of the `phrases` written together (words at most two tokens apart, in order).
    `unless`: a precondition that, when the request says it is met, lifts the ban;
    `except_for`: contexts the memory allows ("floats are allowed for display only");
    `allowed_in`: the only places the thing may appear.
    """

    words: tuple[str, ...]
    sentence: str
    unless: tuple[str, ...] = ()
    allowed_in: tuple[str, ...] = ()
    verb: str | None = None
    phrases: tuple[tuple[str, ...], ...] = ()
    except_for: tuple[str, ...] = ()
    when: tuple[str, ...] = ()  # "no deploys on Fridays or weekends": only on these days


def _ban(
    item: str,
    sentence: str,
    exact: bool = False,
    unless: tuple[str, ...] = (),
    allowed_in: tuple[str, ...] = (),
) -> Ban | None:
    """A Ban from one prohibited item ("log session ids", "shipping torch", "gin")."""
    parts = item.split()
    if not parts:
        return None
    first = parts[0].lower()
    verb: str | None = None
    words = list(key_words(item, exact))
    if len(parts) > 1 and first in _LIGHT_VERBS:
        words = list(key_words(" ".join(parts[1:]), exact)) or words  # "call fetch directly"
    elif len(parts) > 1 and first in _VERBS:
        # "UPDATE ledger entries": the verb must be there too, the object written together.
        verb, words = norm(first), list(key_words(" ".join(parts[1:]), exact))
    elif len(parts) > 1 and first.endswith("ing") and first not in _KEEP_ING:
        words = list(key_words(" ".join(parts[1:]), exact)) or words  # "shipping torch"
    if not words:
        if verb is None:
            return None
        words = [verb]
        verb = None
    lead = [verb] if verb is not None else []
    return Ban(
        tuple(lead + words),
        sentence,
        unless,
        allowed_in,
        verb,
        (tuple(words),),
    )


@dataclass(frozen=True)
class Stance:
    """What one memory settles: bans, what it chose, requirements, durations, weekdays,
    times of day, and code shapes its scope must have."""

    bans: tuple[Ban, ...]
    chosen: frozenset[str]
    freezes: str | None
    requires: tuple[tuple[frozenset[str], str], ...]
    must_do: tuple[tuple[str, tuple[tuple[str, ...], ...], str], ...]
    durations: tuple[tuple[float, frozenset[str], str], ...]
    weekdays: tuple[frozenset[str], str] | None
    categories: tuple[tuple[str, frozenset[str], str], ...]
    clock_times: tuple[tuple[float, frozenset[str], str], ...] = ()
    shapes: tuple[tuple[str, str], ...] = ()  # (name in SHAPES, sentence)


def _items(tail: str) -> list[str]:
    """Coordinated items of a prohibited phrase; a lone verb shares the last item's object."""
    tail = _CUT.split(tail, maxsplit=1)[0] if tail else ""
    parts: list[str] = []
    for part in _SPLIT_ITEMS.split(tail):
        part = part.strip()
        if not part:
            continue
        first = part.split()[0].lower()
        if parts and (first in _CLAUSE_START or len(part.split()) > 5):
            break  # ", we ..." / ", so ...": the list has ended
        parts.append(part)
    if len(parts) >= 2:
        last = parts[-1].split()
        if len(last) >= 2:
            head, rest = last[0], " ".join(last[1:])
            for i, part in enumerate(parts[:-1]):
                # "UPDATE or DELETE ledger entries": UPDATE is a verb of the same object.
                if " " not in part and part.lower().rstrip("s") in _VERBS:
                    parts[i] = f"{part} {rest}"
            if head.lower().rstrip("s") in _VERBS:
                parts[-1] = f"{head} {rest}"
        first = parts[0].split()
        if len(first) >= 2 and first[0].lower() in _VERBS:
            # "log session ids, tokens or passwords": the verb governs every item.
            for i in range(1, len(parts)):
                if parts[i].split()[0].lower() not in _VERBS:
                    parts[i] = f"{first[0]} {parts[i]}"
    return parts


# Verbs that say nothing about what is banned: "never call fetch directly" bans fetch.
_LIGHT_VERBS = frozenset("call use run add write put set get touch do make import install".split())
_KEEP_ING = frozenset(("logging", "caching", "mocking", "polling", "tracking", "sharding"))
_CLAUSE_START = frozenset(
    "we it they use so which that this but because then i you he she there".split()
)
_VERBS = frozenset(
    """update delete edit change remove create insert call log write read modify store send
    return put set get run touch commit push merge import install skip sleep mock patch
    catch raise throw force-push rename drop alter truncate""".split()
)


def _bans_in(sentence: str) -> list[Ban]:
    bans: list[Ban] = []
    clean = sentence.strip(" -*#>\t")
    # "We ruled out Celery (and RQ, Dramatiq, ...)": a parenthesis that continues the list.
    clean = re.sub(r"\s*\((?:and|or|e\.g\.|eg|including|incl\.|like)\s+([^()]*)\)", r", \1", clean)
    # "Heroku-specific config (Procfile release phases, Heroku add-ons)": a parenthesised list
    # right after a banned thing gives examples of it, banned as well.
    clean = re.sub(r"\s*\(([^()]*?,[^()]*?)\)", r", \1", clean)

    def add(phrase: str, unless: tuple[str, ...] = (), allowed_in: tuple[str, ...] = ()) -> None:
        # `httpx/requests`: names of libraries or calls, matched as spelled (no stemming).
        exact = bool(re.search(r"[\w.]{4}/[\w.]{4}", phrase))
        for item in _items(phrase):
            ban = _ban(item, clean, exact, unless, allowed_in)
            if ban is not None:
                bans.append(ban)

    unless: tuple[str, ...] = ()
    found = _WITHOUT.search(clean)
    if found and _PROHIBIT.search(clean[: found.start()]):
        unless = key_words(found.group(1))
        clean_for_bans = clean[: found.start()]
    else:
        clean_for_bans = clean
    for match in _CHOSE_OVER.finditer(clean_for_bans):
        add(match.group(2))
    after_banned = _AFTER_BANNED_GATE.search(clean_for_bans) is not None
    for match in _AFTER_BANNED.finditer(clean_for_bans) if after_banned else ():
        subjects = _banned_subjects(match.group(1), clean_for_bans[: match.start()])
        # "malloc() and free() are not allowed outside init code": allowed there only.
        after = _OUTSIDE.match(clean_for_bans[match.end() :].lstrip())
        places = _places(after.group(1)) if after else ()
        bans.extend(Ban(words, clean, unless, places, phrases=(words,)) for words in subjects)
    for match in _NEEDS_DECISION.finditer(clean_for_bans):
        add(match.group(1))
    only_in = _ONLY_IN_GATE.search(clean_for_bans) is not None
    for match in _ONLY_IN.finditer(clean_for_bans) if only_in else ():
        # "anyhow is allowed only in src/main.rs", "REST only at the edge": the thing is the
        # last words before "only", the places are what follows.
        subject = re.split(r"[,;:]|\bto\b", match.group(1))[-1]
        words = key_words(subject)[-2:]
        places = tuple(p.strip() for p in _PLACES.split(match.group(2)) if p.strip())
        if words and places:
            bans.append(Ban(words, clean, (), places, phrases=(words,)))
    for match in _ASK_BEFORE.finditer(clean):
        # "Ask before adding anything to pyproject.toml or package.json": the files are guarded.
        for place in _PLACES.split(match.group(1)):
            name = PurePosixPath(place.strip().strip("`")).name.lower()
            if not name:
                continue
            stem = name.rsplit(".", 1)[0]
            key = stem if stem not in GENERIC and len(stem) > 3 else name
            bans.append(Ban((key,), clean, ("ask",), phrases=((key,),)))
    for match in _PROHIBIT.finditer(clean_for_bans):
        word = match.group(0).lower()
        if word in ("not", "no") and re.match(r"\s*(?:yet|longer|more)\b", clean[match.end() :]):
            continue
        tail = clean_for_bans[match.end() :]
        if word in ("replaces", "replaced") and re.match(r"\s*(?:the|a|an)\b", tail, re.I):
            # "Replaces the Celery decision": the replaced choice is read from that memory.
            tail = re.sub(r"\b(?:decision|choice|policy)\b.*", "", tail, flags=re.I)
        before = len(bans)
        allowed: tuple[str, ...] = ()
        outside = _OUTSIDE.search(tail)
        if outside:
            # "never call env() outside config files": allowed only in what follows.
            allowed = _places(outside.group(1))
            tail = tail[: outside.start()]
        when = _WHEN.match(tail)
        if when:
            tail = when.group(1)
        add(tail, unless, allowed)
        if when:
            days = tuple(sorted(days_named(when.group(2))))
            bans[before:] = [replace(b, when=days) for b in bans[before:]]
    # Read from the cleaned sentence, quoted as written (parentheses and all).
    shown = sentence.strip(" -*#>\t")
    return [replace(b, sentence=shown) for b in bans]


def _places(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in _PLACES.split(text) if p.strip())


_OUTSIDE = re.compile(r"\boutside\s+(?:of\s+)?(?:the\s+)?(.+?)(?=;|\.\s|\.$|$)", re.I)
_DAY_WORDS = r"(?:mon|tues|wednes|thurs|fri|satur|sun)days?|weekends?|holidays?"
_WHEN = re.compile(
    rf"^\s*([\w-]+(?:\s+[\w-]+)?)\s+(?:on|during)\s+((?:{_DAY_WORDS})"
    rf"(?:(?:\s*,\s*|\s+or\s+|\s+and\s+)(?:{_DAY_WORDS}))*)\b",
    re.IGNORECASE,
)
_WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RANGE = re.compile(r"\b([a-z]+)\s*(?:to|through|thru|until|-|–)\s*([a-z]+)\b")


def days_named(text: str) -> set[str]:
    """Weekdays a text names: "Fridays", "Mon-Thu", "Monday to Thursday", "weekends", "holidays"."""
    low = text.lower()
    days = {DAY_OF[w] for w in re.findall(r"[a-z]+", low) if w in DAY_OF}
    for a, b in _RANGE.findall(low):
        if a in DAY_OF and b in DAY_OF:
            i, j = _WEEK.index(DAY_OF[a]), _WEEK.index(DAY_OF[b])
            days |= set(_WEEK[i : j + 1] if i <= j else _WEEK[i:] + _WEEK[: j + 1])
    if re.search(r"\bweekends?\b", low):
        days |= {"saturday", "sunday"}
    if re.search(r"\bholidays?\b", low):
        days.add("holiday")
    return days


_VERSION = re.compile(r"v?\d+(?:\.\d+)*\+?")


def _banned_subjects(subject: str, before: str) -> list[tuple[str, ...]]:
    """Key words of each thing in "X and Y were dropped"; bare versions get their product.

    "Python 3.10+; 3.8 and 3.9 are dropped" bans (python, 3.8) and (python, 3.9): a version
    alone would match any number, so it takes the nearest product name written before it.
    """
    parts = [p for p in _SPLIT_ITEMS.split(subject) if p.strip()]
    if len(parts) < 2:
        words = key_words(subject)[-3:]
        return [words] if words else []
    product = [w for w in key_words(before) if not _VERSION.fullmatch(w)][-1:]
    out: list[tuple[str, ...]] = []
    for part in parts:
        words = key_words(part)[-3:]
        if words and all(_VERSION.fullmatch(w) for w in words):
            if not product:
                continue
            words = (*product, *words)
        if words:
            out.append(words)
    return out


def _title_bans(title: str) -> list[Ban]:
    found = _TITLE_NOT.match(title.strip())
    if not found:
        return []
    return [b for b in (_ban(i, title) for i in _items(found.group(2))) if b is not None]


def _requirements(sentence: str) -> tuple[frozenset[str], str] | None:
    if not _REQUIRES.search(sentence) or _PROHIBIT.search(sentence.split(";")[0]):
        return None
    code = [
        raw
        for _, raw in tokens_of(sentence)
        if any(c in raw for c in "_.()+/") or re.search(r"[a-z][A-Z]", raw) or "-" in raw
    ]
    code = [c for c in code if not re.fullmatch(r"[\d/.-]+", c)]
    if not code:
        return None
    words: set[str] = set()
    for raw in code:
        for piece in raw.split("/"):
            low = piece.lower()
            if low:
                words.add(norm(low[:-2] if low.endswith("()") else low))
    return frozenset(words), sentence


def durations_in(text: str) -> list[tuple[float, frozenset[str], str]]:
    """(seconds, words around it, sentence); the sentence starts with `<=` or `>=` for
    "5 minutes or less" / "at least 30 days"."""
    out: list[tuple[float, frozenset[str], str]] = []
    for sentence in split_sentences(text):
        low = sentence.lower()
        found = [
            (m.start(), m.end(), float(m.group(1)) * _UNIT_SECONDS[m.group(2)[0]])
            for m in _DURATION.finditer(low)
        ]
        found += [
            (m.start(), m.end(), float(_UNIT_SECONDS[m.group(1)[0]]))
            for m in _ONE_UNIT.finditer(low)
        ]
        found += [(m.start(), m.end(), math.inf) for m in _FOREVER.finditer(low)]
        for start, end, value in found:
            before = sentence[max(0, start - 40) : start]
            after = sentence[end : end + 25]
            subject = frozenset(key_words(before)[-3:] + key_words(after)[:1])
            bound = ""
            if re.match(r"\s*(?:or less|or fewer|at most|max)", low[end:]) or re.search(
                r"(?:at most|up to|no more than|max(?:imum)?|within|under)\s*$", low[:start]
            ):
                bound = "<="
            elif re.match(r"\s*or (?:more|longer)", low[end:]) or re.search(
                r"(?:at least|minimum|no less than)\s*$", low[:start]
            ):
                bound = ">="
            out.append((value, subject, bound + sentence.strip()))
    return out


_FOREVER = re.compile(r"\b(?:forever|indefinitely|permanently|for good|never expires?)\b")
# Durations written in code: `ttl=3600`, `max_age_seconds: 60`, `timedelta(hours=1)`.
_CODE_DURATION = re.compile(
    r"\b(?:(\w*?(?:ttl|max_?age|expires?_in|expiry|lifetime)\w*)|\w*?_(secs?|seconds|ms|"
    r"millis|minutes|mins|hours|days))\s*[=:]\s*(\d+(?:\.\d+)?)\b(?!\s*[*/.])|"
    r"\btimedelta\(\s*(weeks|days|hours|minutes|seconds)\s*=\s*(\d+(?:\.\d+)?)",
    re.IGNORECASE,
)
_CODE_UNIT = {"ms": 0.001, "millis": 0.001, "mins": 60.0, "minutes": 60.0, "hours": 3600.0}


def code_durations_in(code: str) -> list[tuple[float, frozenset[str]]]:
    """(seconds, key words of its line) for each duration a line of code sets."""
    out: list[tuple[float, frozenset[str]]] = []
    for line in code.splitlines():
        for m in _CODE_DURATION.finditer(line):
            if m.group(5):
                unit = m.group(4).lower()
                seconds = float(m.group(5)) * _UNIT_SECONDS.get(unit[0], 1)
            else:
                suffix = (m.group(2) or "").lower()
                scale = _CODE_UNIT.get(suffix, 86400.0 if suffix == "days" else 1.0)
                seconds = float(m.group(3)) * scale
            out.append((seconds, frozenset(key_words(line))))
    return out


_CLOCK = re.compile(
    r"\b(?:at\s+)?([01]?\d|2[0-3])(?::([0-5]\d)\s*(am|pm)?|\s*(am|pm))(?![\w:])", re.IGNORECASE
)


def clock_times_in(
    text: str, with_sentence: bool = False
) -> list[tuple[float, frozenset[str], str]]:
    """(minutes after midnight, words just before it, sentence) for each time of day in `text`.

    "02:00 UTC", "at 2am", "14:30": a memory that fixes when something runs, and a request
    that names another time for the same thing, are read the same way.
    """
    out: list[tuple[float, frozenset[str], str]] = []
    for sentence in split_sentences(text) if with_sentence else [text]:
        for match in _CLOCK.finditer(sentence):
            hours, minutes = int(match.group(1)), int(match.group(2) or 0)
            half = (match.group(3) or match.group(4) or "").lower()
            if half == "pm" and hours < 12:
                hours += 12
            elif half == "am" and hours == 12:
                hours = 0
            before = sentence[max(0, match.start() - 40) : match.start()]
            subject = frozenset(key_words(before)[-3:])
            out.append((float(hours * 60 + minutes), subject, sentence.strip()))
    return out


_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(\w+)\s*\((.*)\)\s*(->\s*[^:]+)?:", re.M)


def _unannotated_def(added: str) -> str | None:
    """A public Python `def` on one added line whose return or a parameter lacks a type."""
    for match in _DEF.finditer(added):
        name, params, returns = match.groups()
        if name.startswith("_") and not name.startswith("__"):
            continue
        bare = [
            p.split("=", 1)[0].strip()
            for p in re.split(r",(?![^\[]*\])", params)
            if p.strip() and p.strip() not in ("*", "/", "self", "cls")
        ]
        if not returns or any(":" not in p for p in bare):
            return match.group(0).strip()
    return None


# Rules about the shape of code, checked on the lines a diff adds in the rule's scope:
# name -> (what the rule's sentence says, the first added line that breaks it, if any).
SHAPES: dict[str, tuple[re.Pattern[str], Callable[[str], str | None]]] = {
    "type hints": (
        re.compile(r"\b(?:type hints?|type annotations?|(?:fully )?annotated)\b", re.I),
        _unannotated_def,
    ),
}


def shape_violation(name: str, added: str) -> str | None:
    """The first added line that breaks the code shape `name` of `SHAPES`, else None."""
    found = SHAPES[name][1](added)
    return found[:120] if found else None


def _weekdays(text: str) -> tuple[frozenset[str], str] | None:
    for sentence in split_sentences(text):
        low = sentence.lower()
        if not re.search(r"\bonly\b|\bwindows?\b", low):
            continue
        days = days_named(low) - {"holiday"}
        pairs = re.findall(r"\b([a-z]{3})/([a-z]{3})\b", low)
        days |= {DAY_OF[w] for pair in pairs for w in pair if w in DAY_OF}
        if days:
            return frozenset(days), sentence.strip()
    return None


def category_values(text: str) -> dict[str, set[str]]:
    low = text.lower()
    out: dict[str, set[str]] = {}
    for name, values in CATEGORIES.items():
        for value, patterns in values.items():
            if any(re.search(p, low) for p in patterns):
                out.setdefault(name, set()).add(value)
    regions = set(_REGION.findall(low))
    if regions:
        out["region"] = regions
    return out


def _must_do(sentence: str) -> tuple[str, tuple[tuple[str, ...], ...], str] | None:
    """("hash", ((email,), (phone,)), sentence) for "Hash emails and phones before ..."."""
    action = _MUST_DO.match(sentence)
    if not action:
        return None
    things = tuple(w for w in (key_words(i) for i in _SPLIT_ITEMS.split(action.group(2))) if w)
    return (norm(action.group(1)), things, sentence) if things else None


def _merged(bans: list[Ban], sentences: list[str]) -> list[Ban]:
    """One ban per set of words; "allowed only in" places and exceptions folded in."""
    merged: dict[tuple[str, ...], Ban] = {}
    for ban in bans:
        seen = merged.get(ban.words)
        if seen is None:
            merged[ban.words] = ban
        elif seen.allowed_in and ban.allowed_in:
            merged[ban.words] = replace(seen, allowed_in=seen.allowed_in + ban.allowed_in)
        elif not ban.allowed_in or not seen.allowed_in:
            # One sentence bans it everywhere: that wins over "only in".
            keep = ban if not ban.allowed_in else seen
            merged[ban.words] = replace(keep, unless=seen.unless or ban.unless, allowed_in=())
    # "Floats are allowed for display formatting only": contexts where a ban does not apply.
    for sentence in sentences:
        for match in _EXCEPT.finditer(sentence):
            thing, context = norm(match.group(1)), key_words(match.group(2))
            for key, ban in merged.items():
                if thing in ban.words and context:
                    merged[key] = replace(ban, except_for=ban.except_for + context)
    return list(merged.values())


# Memories whose stance is kept (`stance` is pure, and memories repeat across requests).
STANCE_CACHE = 8192


@lru_cache(maxsize=STANCE_CACHE)
def stance(title: str, text: str) -> Stance:
    """What a memory settles, read from its title and text (cached: memories repeat)."""
    sentences = [title, *split_sentences(text)]
    bans: list[Ban] = _title_bans(title)
    requires: list[tuple[frozenset[str], str]] = []
    must_do: list[tuple[str, tuple[tuple[str, ...], ...], str]] = []
    shapes: list[tuple[str, str]] = []
    freezes: str | None = None
    for sentence in (s.strip() for s in sentences):
        if not sentence:
            continue
        bans += _bans_in(sentence)
        action = _must_do(sentence)
        if action:
            must_do.append(action)
        req = _requirements(sentence)
        if req:
            requires.append(req)
        shapes += [(name, sentence) for name, (rule, _) in SHAPES.items() if rule.search(sentence)]
        if freezes is None and _FREEZES.search(sentence):
            freezes = sentence
    bans = _merged(bans, sentences)
    banned_words = {w for b in bans for w in b.words}
    whole = f"{title}. {text}"
    categories = []
    for name, values in category_values(whole).items():
        settled = {v for v in values if not set(key_words(v)) <= banned_words}
        if settled:
            categories.append((name, frozenset(settled), title))
    return Stance(
        tuple(bans),
        frozenset(key_words(title)) - banned_words,
        freezes,
        tuple(requires),
        tuple(must_do),
        tuple(durations_in(whole)),
        _weekdays(whole),
        tuple(categories),
        tuple(clock_times_in(whole, with_sentence=True)),
        tuple(shapes),
    )


def prohibitions(text: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """(sentence, prohibited words) for each prohibition in a memory's text."""
    found = stance("", text)
    return tuple((b.sentence, frozenset(b.words)) for b in found.bans)
