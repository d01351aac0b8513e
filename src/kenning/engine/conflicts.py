"""Conflicts: the decisions and rules a request (or a diff) goes against.

No model is needed for the common cases; every check is a reading of the memory's own words:

- **Prohibitions.** Sentences with "never", "no", "don't", "ruled out", "avoid", "X is not
  used", "we chose A over B", "A instead of B", "rather than", "moved off", "replaces", "needs a
  new decision" name what is off the table. Each is cut into items ("UPDATE or DELETE ledger
  entries" → update ledger entries, delete ledger entries) and an item is asked for when all of
  its key words are in the request (or in the lines a diff adds), outside a negation.
- **Negated requests** are not conflicts: "make sure we don't use Celery", "instead of reaching
  for mongo", "convert the styled-components to CSS modules", "remove the Redux section".
- **Superseded choices revived.** A request that asks again for what a superseded decision
  chose ("go back to three fixed retries") conflicts with the active decision that replaced it,
  never with the superseded one.
- **Scoped rules** apply only when a touched path (given, or read from the diff) is in their
  scope. With a diff they are also checked line by line: a forbidden token on an added line, an
  edit to a file the rule freezes, or added code that lacks every token the rule requires
  ("every consumer dedupes on event_id").
- **Exclusive choices**: "Tuesdays and Thursdays only", "all data stays in eu-central-1", "JSON
  fields are snake_case", "access tokens live 15 minutes": a request naming another weekday,
  region, case style, pagination or deletion style, or another duration for the same thing.
- **Preconditions**: "never X without Y" is satisfied when the request says Y happened ("the
  privacy review is done", "we agreed to add it").

Questions and write-ups about a decision ("why did we rule out Celery?") conflict with nothing.
Each conflict names the memory, its date, the sentence that conflicts and what in the request
(or diff) triggered it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any

import pathspec

from kenning.index.terms import STOP_WORDS, split_identifier

# ---- vocabulary ------------------------------------------------------------------------------

GENERIC = frozenset(
    """use used uses using code file files function functions thing things way new old data value
    values call calls run time times make change test code-path one two always also any every
    each other more less only directly direct raw plain own custom extra hand-rolled just
    bring back add adding added introduce allowed allow build building anything something
    instead rather than anywhere there here ever yet again still same our your their its
    sdk agent library lib package framework tool service api client module layer approach
    without first do doing done need needs needed should must may can inline require requires
    required""".split()
)
# Words that are the same thing for conflict purposes (lowercase), on both sides.
SYNONYMS: dict[str, str] = {
    "mongo": "mongodb",
    "k8s": "kubernetes",
    "kube": "kubernetes",
    "postgresql": "postgres",
    "moment.js": "moment",
    "momentjs": "moment",
    "rtk": "redux",
    "jwts": "jwt",
    "pii": "personal",
}
# What a word in a request or a diff also counts as (one way: a ban on `print()` is not a ban
# on logging, but `print(email)` does log an email).
IMPLIES: dict[str, str] = {
    "opensearch": "elasticsearch",
    "ddtrace": "datadog",
    "@data": "lombok",
    "@builder": "lombok",
    "@getter": "lombok",
    "@setter": "lombok",
    "@value": "lombok",
    "@requiredargsconstructor": "lombok",
    "@allargsconstructor": "lombok",
    "@noargsconstructor": "lombok",
    "@slf4j": "lombok",
    "@tostring": "lombok",
    "@equalsandhashcode": "lombok",
    "eks": "kubernetes",
    "gke": "kubernetes",
    "aks": "kubernetes",
    "print": "log",
    "printf": "log",
    "println": "log",
    "console.log": "log",
    "logger": "log",
    "logging": "log",
    "email": "personal",
    "phone": "personal",
    "unittest.mock": "mock",
    "mock.patch": "mock",
    "public": "edge",
    "external": "edge",
}
# Mutually exclusive values: a memory that settles on one makes a request for another a conflict.
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
_DAY_OF = {alias: day for day, aliases in _WEEKDAYS.items() for alias in aliases}
_DURATION = re.compile(
    r"\b(\d+(?:\.\d+)?)\s*-?\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w)\b"
)
_ONE_UNIT = re.compile(r"\b(?:every|each|per|once an?)\s+(second|minute|hour|day|week)\b")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

# ---- sentence patterns -----------------------------------------------------------------------

# Sentences end at . ! ? ; or a paragraph or list break: Markdown memories are hard-wrapped,
# so a single newline is not a boundary.
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n\s*\n+|\n(?=\s*(?:[-*+>#]|\d+\.)\s)|:\s+(?=[A-Z])")
_PROHIBIT = re.compile(
    r"\b(?:never|don't|do not|dont|must not|mustn't|should not|shouldn't|cannot|can't|avoid|"
    r"no longer|not allowed|forbidden|banned?|ruled out|rule out|rejected|we did not|"
    r"we deliberately did not|did not|instead of|rather than|not use|stop using|moved off|"
    r"move off|migrated off|replaces|replaced|not|(?<!has )(?<!have )(?<!had )no)\b",
    re.IGNORECASE,
)
_CHOSE_OVER = re.compile(
    r"\b(?:chose|choose|picked|prefer|went with|use|using|selected)\s+(.{1,60}?)\s+over\s+"
    r"(.{1,80}?)(?=[(;:.]|$)",
    re.IGNORECASE,
)
_AFTER_BANNED = re.compile(
    r"([\w .+#/'-]{2,60}?)\s+(?:was|were|is|are|got|has been|have been)\s+(?:ruled out|rejected|"
    r"dropped|banned|deprecated|forbidden|not allowed|not used|removed)",
    re.IGNORECASE,
)
_TITLE_NOT = re.compile(r"^(.{2,60}?),\s*not\s+(.{2,80})$", re.IGNORECASE)
_NEEDS_DECISION = re.compile(
    r"\b([\w-]+(?:ing)?)\s+(?:\w+\s+){0,2}needs? a new (?:decision|adr)\b", re.IGNORECASE
)
_ONLY_IN = re.compile(
    r"([\w:.+ -]{2,40}?)\s+(?:(?:is|are)\s+)?(?:(?:allowed|permitted|used)\s+)?only\s+"
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
_SPLIT_ITEMS = re.compile(r",|\s+or\s+|\s+and\s+|\s+nor\s+|/", re.IGNORECASE)
_REPLACEMENT = re.compile(r"\b(?:replac\w*|supersed\w*|moved off|instead of|switched)\b", re.I)

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
_POST_NEGATORS = re.compile(
    r"\b(?:isn't|aren't|wasn't|weren't|won't|leftovers?|remnants?|is gone|are gone)\b", re.I
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
    r"to describe)\b",
    re.IGNORECASE,
)
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
_TOKEN = re.compile(
    r"@?[A-Za-z0-9_]+(?:[.+#/-][A-Za-z0-9_]+)*(?:\(\))?|[\^~]|(?<=\.)\*", re.IGNORECASE
)
_SELECT_STAR = re.compile(r"\bselect\s+(?:\w+\.)?\*|,\s*\w+\.\*", re.IGNORECASE)


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


# ---- words -----------------------------------------------------------------------------------


def _stem(word: str) -> str:
    """A light stemmer: caches/cache, deleted/deletes/delete, retries/retry map together."""
    if word in ("ids", "ips", "urls", "uris"):
        return word[:-1]
    if not word.isalpha() or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif re.search(r"(?:s|x|ch|sh|z)es$", word):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    elif word.endswith("ing") and len(word) > 5:
        word = word[:-3]
        if re.search(r"([^aeiouls])\1$", word):
            word = word[:-1]  # formatting → format, logging → log
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
        if re.search(r"([^aeiouls])\1$", word):
            word = word[:-1]
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def _norm(word: str, exact: bool = False) -> str:
    word = word.lower().strip("-.")
    word = SYNONYMS.get(word, word)
    if exact:
        return word
    stemmed = _stem(word)
    return SYNONYMS.get(stemmed, stemmed)


def _variants(raw: str) -> set[str]:
    """A token and the words inside it: `orderRepository` → order, repository, orderrepository.

    Also the unstemmed spelling, and what the word implies (`print` → log).
    """
    out = {_norm(raw), _norm(raw, exact=True)}
    low = raw.lower()
    bare = low[:-2] if low.endswith("()") else low
    out.add(_norm(bare))
    for piece in re.split(r"[./+#:]", raw):
        if not piece:
            continue
        out.add(_norm(piece))
        for part in split_identifier(piece.replace("-", "_")):
            out.add(_norm(part))
        if "-" in piece:
            out.add(_norm(piece.replace("-", " ").replace(" ", "")))
    out.add(_norm(raw.replace("-", "")))
    implied = {IMPLIES[w] for w in out if w in IMPLIES}
    bare_low = bare.strip("-.")
    if bare_low in IMPLIES:
        implied.add(IMPLIES[bare_low])
    out |= implied | {_norm(w) for w in implied}
    return {w for w in out if w}


def _prepare(text: str) -> str:
    return _SELECT_STAR.sub(" select_star ", text)


def _tokens(text: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group(0)) for m in _TOKEN.finditer(_prepare(text))]


def _bag(text: str) -> set[str]:
    out: set[str] = set()
    for _, raw in _tokens(text):
        out |= _variants(raw)
    return out


def _key_words(phrase: str, exact: bool = False) -> tuple[str, ...]:
    words: list[str] = []
    for _, raw in _tokens(phrase):
        low = raw.lower()
        short = len(low) <= 2 and low not in ("^", "~") and not raw.isupper()
        if low in STOP_WORDS or low in GENERIC or short:
            continue
        # `print()` is print; `datetime.now()` stays a call with no arguments.
        bare = raw[:-2] if raw.endswith("()") and "." not in raw else raw
        norm = _norm(bare, exact)
        if norm in GENERIC or norm in STOP_WORDS:
            continue
        words.append(norm)
    return tuple(dict.fromkeys(words))


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
    words = list(_key_words(item, exact))
    if len(parts) > 1 and first in _LIGHT_VERBS:
        words = list(_key_words(" ".join(parts[1:]), exact)) or words  # "call fetch directly"
    elif len(parts) > 1 and first in _VERBS:
        # "UPDATE ledger entries": the verb must be there too, the object written together.
        verb, words = _norm(first), list(_key_words(" ".join(parts[1:]), exact))
    elif len(parts) > 1 and first.endswith("ing") and first not in _KEEP_ING:
        words = list(_key_words(" ".join(parts[1:]), exact)) or words  # "shipping torch"
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
    """What one memory settles: bans, what it chose, requirements, durations, weekdays."""

    bans: tuple[Ban, ...]
    chosen: frozenset[str]
    freezes: str | None
    requires: tuple[tuple[frozenset[str], str], ...]
    must_do: tuple[tuple[str, tuple[tuple[str, ...], ...], str], ...]
    durations: tuple[tuple[float, frozenset[str], str], ...]
    weekdays: tuple[frozenset[str], str] | None
    categories: tuple[tuple[str, frozenset[str], str], ...]


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

    def add(phrase: str, unless: tuple[str, ...] = (), allowed_in: tuple[str, ...] = ()) -> None:
        # `httpx/requests`: names of libraries or calls, matched as spelled (no stemming).
        exact = bool(re.search(r"\w/\w", phrase))
        for item in _items(phrase):
            ban = _ban(item, clean, exact, unless, allowed_in)
            if ban is not None:
                bans.append(ban)

    unless: tuple[str, ...] = ()
    found = _WITHOUT.search(clean)
    if found and _PROHIBIT.search(clean[: found.start()]):
        unless = _key_words(found.group(1))
        clean_for_bans = clean[: found.start()]
    else:
        clean_for_bans = clean
    for match in _CHOSE_OVER.finditer(clean_for_bans):
        add(match.group(2))
    for match in _AFTER_BANNED.finditer(clean_for_bans):
        words = _key_words(match.group(1))[-3:]
        if words:
            bans.append(Ban(words, clean, unless, phrases=(words,)))
    for match in _NEEDS_DECISION.finditer(clean_for_bans):
        add(match.group(1))
    for match in _ONLY_IN.finditer(clean_for_bans):
        # "anyhow is allowed only in src/main.rs", "REST only at the edge": the thing is the
        # last words before "only", the places are what follows.
        subject = re.split(r"[,;:]|\bto\b", match.group(1))[-1]
        words = _key_words(subject)[-2:]
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
        add(tail, unless)
    return bans


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
        for _, raw in _tokens(sentence)
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
                words.add(_norm(low[:-2] if low.endswith("()") else low))
    return frozenset(words), sentence


def _durations(text: str) -> list[tuple[float, frozenset[str], str]]:
    """(seconds, words around it, sentence); the sentence starts with `<=` or `>=` for
    "5 minutes or less" / "at least 30 days"."""
    out: list[tuple[float, frozenset[str], str]] = []
    for sentence in _SENTENCE.split(text):
        low = sentence.lower()
        found = [
            (m.start(), m.end(), float(m.group(1)) * _UNIT_SECONDS[m.group(2)[0]])
            for m in _DURATION.finditer(low)
        ]
        found += [
            (m.start(), m.end(), float(_UNIT_SECONDS[m.group(1)[0]]))
            for m in _ONE_UNIT.finditer(low)
        ]
        for start, end, value in found:
            before = sentence[max(0, start - 40) : start]
            after = sentence[end : end + 25]
            subject = frozenset(_key_words(before)[-3:] + _key_words(after)[:1])
            bound = ""
            if re.match(r"\s*(?:or less|or fewer|at most|max)", low[end:]) or re.search(
                r"(?:at most|up to|no more than|max(?:imum)?)\s*$", low[:start]
            ):
                bound = "<="
            elif re.match(r"\s*or (?:more|longer)", low[end:]) or re.search(
                r"(?:at least|minimum|no less than)\s*$", low[:start]
            ):
                bound = ">="
            out.append((value, subject, bound + sentence.strip()))
    return out


def _weekdays(text: str) -> tuple[frozenset[str], str] | None:
    for sentence in _SENTENCE.split(text):
        low = sentence.lower()
        if not re.search(r"\bonly\b|\bwindows?\b", low):
            continue
        days = {_DAY_OF[w] for w in re.findall(r"[a-z]+", low) if w in _DAY_OF}
        pairs = re.findall(r"\b([a-z]{3})/([a-z]{3})\b", low)
        days |= {_DAY_OF[w] for pair in pairs for w in pair if w in _DAY_OF}
        if days:
            return frozenset(days), sentence.strip()
    return None


def _category_values(text: str) -> dict[str, set[str]]:
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


@lru_cache(maxsize=8192)
def stance(title: str, text: str) -> Stance:
    """What a memory settles, read from its title and text (cached: memories repeat)."""
    bans: list[Ban] = _title_bans(title)
    requires: list[tuple[frozenset[str], str]] = []
    must_do: list[tuple[str, tuple[tuple[str, ...], ...], str]] = []
    freezes: str | None = None
    for sentence in [title, *_SENTENCE.split(text)]:
        sentence = sentence.strip()
        if not sentence:
            continue
        bans += _bans_in(sentence)
        action = _MUST_DO.match(sentence)
        if action:
            things = tuple(
                w for w in (_key_words(i) for i in _SPLIT_ITEMS.split(action.group(2))) if w
            )
            if things:
                must_do.append((_norm(action.group(1)), things, sentence))
        req = _requirements(sentence)
        if req:
            requires.append(req)
        if freezes is None and _FREEZES.search(sentence):
            freezes = sentence
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
    for sentence in [title, *_SENTENCE.split(text)]:
        for match in _EXCEPT.finditer(sentence):
            thing, context = _norm(match.group(1)), _key_words(match.group(2))
            for key, ban in merged.items():
                if thing in ban.words and context:
                    merged[key] = replace(ban, except_for=ban.except_for + context)
    bans = list(merged.values())
    banned_words = {w for b in bans for w in b.words}
    chosen = frozenset(_key_words(title)) - banned_words
    categories: list[tuple[str, frozenset[str], str]] = []
    whole = f"{title}. {text}"
    for name, values in _category_values(whole).items():
        banned_values = {v for v in values if set(_key_words(v)) <= banned_words}
        settled = values - banned_values
        if settled:
            categories.append((name, frozenset(settled), title))
    return Stance(
        tuple(bans),
        chosen,
        freezes,
        tuple(requires),
        tuple(must_do),
        tuple(_durations(whole)),
        _weekdays(whole),
        tuple(categories),
    )


def prohibitions(text: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """(sentence, prohibited words) for each prohibition in a memory's text."""
    found = stance("", text)
    return tuple((b.sentence, frozenset(b.words)) for b in found.bans)


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

    @classmethod
    def read(cls, request: str) -> RequestView:
        text = request[:20_000]
        tokens = _tokens(text)
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
        for sentence_start, sentence_end in _sentences(text):
            piece = text[sentence_start:sentence_end]
            for match in _REMOVALS.finditer(piece):
                negate(sentence_start + match.end(), sentence_end)
        wanted: set[str] = set()
        negated: set[str] = set()
        stream: list[frozenset[str]] = []
        for pos, raw in tokens:
            variants = _variants(raw)
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
        )


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
    return tuple(frozenset(_variants(raw)) for _, raw in _tokens(text))


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
    words = {w for p in ban.allowed_in if p.lower() not in paths for w in _key_words(p)}
    file_words = {w for f in files for w in _bag(f)}
    return bool(words & (wanted | file_words))


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _seconds_of(text: str) -> list[tuple[float, frozenset[str]]]:
    return [(v, s) for v, s, _ in _durations(text)]


def _check(
    memory: MemoryView,
    found: Stance,
    request: RequestView,
    diff: Diff,
    diff_bag: frozenset[str],
    files: Sequence[str],
    replaced: list[MemoryView],
    diff_stream: Sequence[frozenset[str]] = (),
) -> tuple[str, str, str] | None:
    """(how, sentence, trigger) of the strongest reason `memory` conflicts, else None."""
    scoped = bool(memory.scope)
    touched_in_scope = [f for f in files if in_scope(memory.scope, f)] if scoped else list(files)
    if scoped and files and not touched_in_scope:
        return None
    # 1. Prohibited things the request or the added lines ask for.
    for ban in found.bans:
        if ban.unless and (request.satisfied or _has(ban.unless, request.wanted)):
            continue
        if _allowed_here(ban, files, request.wanted):
            continue
        if ban.except_for and set(ban.except_for) & request.wanted:
            continue
        if not request.informational and _ban_hit(ban, request.wanted, request.stream):
            return "prohibition", ban.sentence, " ".join(ban.words)
        if diff.added and _ban_hit(ban, diff_bag, diff_stream):
            if not scoped or touched_in_scope or not diff.files:
                return "diff", ban.sentence, " ".join(ban.words)
    # 2. A scoped rule that freezes files, and a diff that edits one of them.
    if scoped and found.freezes and diff.modified:
        edited = [f for f in diff.modified if in_scope(memory.scope, f)]
        if edited:
            return "edit", found.freezes, edited[0]
    # 3. A scoped rule's requirement that added code in its scope does not meet.
    if scoped and found.requires and diff.added:
        for path, added in diff.added_by_file.items():
            if not path or not in_scope(memory.scope, path) or not added.strip():
                continue
            bag = _bag(added)
            for words, sentence in found.requires:
                if not any(w in bag for w in words):
                    return "requirement", sentence, path
    # 4. A scoped rule that says what must be done to some things ("hash emails ...").
    if scoped and touched_in_scope and found.must_do:
        seen = request.wanted | diff_bag
        for verb, things, sentence in found.must_do:
            named = [t for t in things if _has(t, seen)]
            if named and verb not in seen:
                return "requirement", sentence, " ".join(named[0])
    if request.informational and not diff.added:
        return None
    # 5. A superseded choice asked for again.
    for old in replaced:
        old_title = set(_key_words(old.title))
        old_words = old_title | set(_key_words(old.text))
        new_words = set(_key_words(memory.title)) - old_words
        overlap = (old_words & request.wanted) - found.chosen
        if len(overlap) >= 2 and overlap & old_title:
            if not (new_words & request.wanted) or request.revival:
                return "superseded", old.title, ", ".join(sorted(overlap))
    # 6. Exclusive choices: weekdays, regions, styles, durations.
    if found.weekdays:
        days, sentence = found.weekdays
        asked = {_DAY_OF[w] for w in re.findall(r"[a-z]+", request.text.lower()) if w in _DAY_OF}
        if asked and not asked & days:
            return "exclusive", sentence, ", ".join(sorted(asked))
    asked_values = _category_values(request.text)
    for name, values, sentence in found.categories:
        wanted = asked_values.get(name, set())
        wanted = {v for v in wanted if not _has(_key_words(v), request.negated) or v in values}
        if wanted and not wanted & values:
            return "exclusive", sentence, ", ".join(sorted(wanted))
    settled_values = {v for v, _, s in found.durations if not s.startswith(("<=", ">="))}
    for value, subject in _seconds_of(request.text):
        if value in settled_values:
            continue
        for settled, about, sentence in found.durations:
            if not (subject & about or (about & request.wanted and len(about) > 1)):
                continue
            if sentence.startswith("<=") and value <= settled:
                continue
            if sentence.startswith(">=") and value >= settled:
                continue
            return "exclusive", sentence.lstrip("<>="), _human(value)
    return None


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
    view = RequestView.read(request)
    parsed = parse_diff(diff)
    touched = list(dict.fromkeys([*files, *parsed.files]))
    diff_bag = frozenset(_bag(parsed.added)) if parsed.added else frozenset()
    diff_stream = _stream(parsed.added) if parsed.added else ()
    active = [
        m for m in memories if m.kind in ("decision", "rule", "preference") and m.status == "active"
    ]
    superseded = [m for m in memories if m.status == "superseded"]
    found: list[tuple[int, Conflict]] = []
    order = {"diff": 0, "edit": 0, "requirement": 1, "prohibition": 1, "superseded": 2}
    for memory in active:
        settled = stance(memory.title, memory.text)
        replaced = [old for old in superseded if _replaces(memory, old)]
        hit = _check(memory, settled, view, parsed, diff_bag, touched, replaced, diff_stream)
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
    if not _REPLACEMENT.search(text):
        return False
    return bool(set(_key_words(old.title)) & set(_key_words(text)))


def _reason(how: str, memory: MemoryView, sentence: str, trigger: str) -> str:
    quoted = f"“{sentence[:200]}”"
    if how == "prohibition":
        return f"the request asks for {trigger}; this {memory.kind} says: {quoted}"
    if how == "diff":
        return f"the change adds {trigger}; this {memory.kind} says: {quoted}"
    if how == "edit":
        return f"the change edits {trigger}, which this {memory.kind} freezes: {quoted}"
    if how == "requirement":
        return f"the code added to {trigger} does not do what this rule requires: {quoted}"
    if how == "superseded":
        return (
            f"the request goes back to “{sentence[:120]}” ({trigger}), which this "
            f"{memory.kind} replaced"
        )
    return f"the request asks for {trigger}; this {memory.kind} settled on: {quoted}"


def conflicts_to_dicts(conflicts: Iterable[Conflict]) -> list[dict[str, Any]]:
    return [c.to_dict() for c in conflicts]
