"""Capture: propose memories from a finished conversation or a range of commits, by cues.

Deterministic and conservative: a proposal needs an explicit cue, and the user accepts it
(`kenning capture --accept`) before anything is written. Cues, strongest first:

- **trailers and fields**: `Decision: …`, `Rule: …`, `Convention: …`, `Preference: …` lines (git
  commit trailers, or a line of their own in a conversation);
- **ADR sections**: the paragraph under a `## Decision` heading, titled by the ADR's own title;
- **decision phrases**: "we decided / agreed / chose / settled on / went with / ruled out",
  "let's go with", "the decision is", "X over Y" after chose or prefer;
- **standing rules**: "from now on", "going forward", "always …", "never …", "don't …", "make
  sure to …", "must (not) …" when they open the sentence or follow "we" / "you" / "please";
- **preferences**: "I prefer", "I'd rather", "I like … better", "prefer X over Y", "please
  always / never …".

What is left out: questions and hypotheticals ("should we…?", "what if", "maybe"), code blocks
and quoted output, "don't worry" / "I don't know"-style phrases, sentences under four or over
sixty words, assistant turns that only promise ("I'll always…"), and commit subject lines
(they describe a change, not a standing rule). An optional local model may refine proposals
later; this module needs none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kenning.hygiene import git
from kenning.memory import normalized

MIN_WORDS = 4
MAX_WORDS = 60


@dataclass(frozen=True)
class Proposal:
    """A memory `capture` suggests: kind, title and text, and the cue and place it came from."""

    kind: str
    title: str
    text: str
    cue: str
    source: str
    line: int | None = None
    confidence: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "text": self.text,
            "cue": self.cue,
            "source": self.source,
            "line": self.line,
            "confidence": round(self.confidence, 2),
        }


_TRAILER = re.compile(
    r"^\s*(?:[-*]\s*)?\**(decision|decided|rule|convention|constraint|policy|preference|"
    r"remember|solution)\**\s*:\s*(.{8,})$",
    re.I,
)
_TRAILER_KIND = {
    "decision": "decision",
    "decided": "decision",
    "rule": "rule",
    "convention": "rule",
    "constraint": "rule",
    "policy": "rule",
    "preference": "preference",
    "remember": "rule",
    "solution": "decision",
}
_SPEAKER = re.compile(
    r"^\s*(?:\*\*)?(user|human|me|you|dev|developer|assistant|ai|claude|model|gpt|codex|"
    r"copilot|cursor|bot)(?:\*\*)?\s*[:>]\s*",
    re.I,
)
_ASSISTANTS = frozenset("assistant ai claude model gpt codex copilot cursor bot".split())
_HEADING = re.compile(r"^\s*#{1,6}\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SENTENCE_END = re.compile(r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\betc\.)(?<!\bvs\.)(?<=[.!?])\s+")

_DECISION = re.compile(
    r"\b(?:we(?:'ve| have)?|team|i)\s+(?:(?:all|finally|just|already|now)\s+)?"
    r"(?:decided|agreed|chose|chosen|picked|settled on|went with|ruled out|standardi[sz]ed on|"
    r"are going with|'re going with|will go with|'ll go with|are sticking with|'ll stick with|"
    r"switched to|moved to|migrated to|switched from|moved off)\b"
    r"|\blet'?s (?:go with|use|stick with|standardi[sz]e on|keep)\b"
    r"|\bthe decision (?:is|was)\b|\bdecision:\s"
    r"|\b(?:chose|picked|went with)\s+[\w .+#/-]{1,40}?\s+(?:over|instead of)\s+\w"
    r"|\bwe use [\w .+#/-]{1,40}? now,? not\b",
    re.I,
)
_STANDING = re.compile(r"\b(?:from now on|going forward|as a rule|by convention)\b", re.I)
# A rule opens a clause: "never log …", "Typing: always fill in …", "No direct pushes …".
_IMPERATIVE = re.compile(
    r"^(?:(?:we|you|please|and|so|also|then)\s+)*(?:always|never|don't|do not|must not|must|"
    r"make sure to|make sure we|remember to|avoid|prefer|no (?!idea|problem|worries|thanks|need|"
    r"one|longer|more|way|matter|doubt)(?=\w))\b",
    re.I,
)
_MODAL_RULE = re.compile(
    r"\b(?:we|you|code|tests?|everything|everyone|all \w+)\s+(?:must|should)\s+(?:always|never|not)\b"
    r"|\b(?:is|are)\s+not\s+allowed\b|\b(?:is|are)\s+forbidden\b"
    r"|\b(?:is|are|must be|should be)\s+(?:always|never)\b"
    r"|\b(?:every|each|all)\s+[\w-]+(?:\s+[\w-]+)?\s+(?:must|needs? to|has to|have to|needs)\b"
    r"|^(?!this\b|that\b|it\b|which\b|there\b|these\b|those\b)[\w.`'()=-]+(?: [\w.`'()=-]+){0,3} "
    r"must (?:not |never |always )?(?:be|include|match|have|use|go|run|raise|return)\b",
    re.I,
)
# "X should be optional", "History should not be reverse-order": a design decision, stated.
_SHOULD = re.compile(
    r"^(?!this\b|that\b|it\b|which\b|there\b|these\b|those\b|we\b|you\b|i\b)"
    r"[\w.`'()=-]+(?: [\w.`'()=-]+){0,3} should (?:not |never |always |only )?"
    r"(?:be|include|apply|mean|live|happen|go|use|return|raise|match)\b",
    re.I,
)
_PREFERENCE = re.compile(
    r"\bi(?:'d| would)? (?:prefer|rather|like \w+(?: \w+)? better|like it when|want you to always)\b"
    r"|\bmy preference\b|\bi (?:like|love) (?!this\b|that\b|it\b|the idea|your\b|how\b)\w+",
    re.I,
)
_NOT_A_RULE = re.compile(
    r"\b(?:don't|do not) (?:worry|know|think|understand|see|remember|have|need to worry|care|"
    r"mind|get|want|be confused)\b|\bnever mind\b|\bnever (?:seen|heard|used it)\b"
    r"|\b(?:yet|for now|temporarily|for the moment)\b",
    re.I,
)
_HYPOTHETICAL = re.compile(
    r"^(?:should|could|would|can|do|does|did|is|are|shall|what|why|how|which|when|maybe|"
    r"perhaps|if|whether)\b|\b(?:what if|should we|could we|shall we|do we want|might|maybe|"
    r"perhaps|not sure|i wonder|or should)\b",
    re.I,
)
_PROMISE = re.compile(r"^(?:i'll|i will|i'm going to|let me|i can|i've|i have|sure|ok)\b", re.I)
_LEAD = re.compile(
    r"^(?:(?:ok(?:ay)?|so|alright|right|great|perfect|yes|yep|sure|cool|good|fine|also|and|then|"
    r"note|ps|fyi|ugh|hmm|thanks)[,:.!]?\s+)+"
    r"|^(?:we(?:'ve| have)?\s+(?:all\s+|finally\s+)?(?:decided|agreed)\s+(?:that\s+|to\s+)?)"
    r"|^(?:from now on|going forward|as a rule|by convention)[,:]?\s+"
    r"|^(?:let'?s\s+)|^(?:the decision is(?: to| that)?[,:]?\s+)|^(?:please\s+)"
    r"|^(?:then\s+)?write this down:\s+",
    re.I,
)
_CLAUSE = re.compile(r"\s*(?::|;|\s[-–—]\s)\s+")
_CUT = re.compile(r"\s+(?:because|since|as|so that|given that)\s+|\s+[-–—]\s+|[;:]\s+|\s+\(")


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(" *_>-").strip()


def _title(sentence: str) -> str:
    """A short title: the sentence without its lead-in and its reason."""
    head = sentence
    for _ in range(3):
        trimmed = _LEAD.sub("", head).strip()
        if trimmed == head:
            break
        head = trimmed
    head = _CUT.split(head, maxsplit=1)[0].strip().rstrip(".!,")
    if len(head.split()) < 3:
        head = sentence.rstrip(".!")
    if len(head) > 100:
        head = head[:100].rsplit(" ", 1)[0] + "…"
    return head[:1].upper() + head[1:]


def _strip_lead(sentence: str) -> str:
    for _ in range(3):
        trimmed = _LEAD.sub("", sentence).strip()
        if trimmed == sentence:
            break
        sentence = trimmed
    return sentence


def _classify(
    sentence: str, assistant: bool, commit: bool = False
) -> tuple[str, str, float] | None:
    """(kind, cue, confidence) for one sentence, or None when it proposes nothing.

    In a commit message an imperative "don't …" describes the change being made, not a
    standing rule, so only "always" / "never" imperatives count there.
    """
    words = sentence.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return None
    if sentence.rstrip().endswith("?") or _HYPOTHETICAL.search(sentence):
        return None
    if _NOT_A_RULE.search(sentence):
        return None
    if assistant and _PROMISE.search(sentence):
        return None
    penalty = 0.2 if assistant else 0.0
    if _DECISION.search(sentence):
        return "decision", "decision phrase", 0.8 - penalty
    if _PREFERENCE.search(sentence):
        return "preference", "preference", 0.75 - penalty
    if _STANDING.search(sentence):
        return "rule", "standing rule", 0.75 - penalty
    body = _strip_lead(sentence)
    clauses = [body, *(c for c in _CLAUSE.split(body)[1:] if c)]
    for n, clause in enumerate(clauses):
        match = _IMPERATIVE.match(clause)
        if match is None:
            continue
        cue = match.group(0).lower().split()[-1]
        if commit and cue not in ("always", "never"):
            continue
        if n and cue == "no":  # "error: No module named …" is not a rule
            continue
        return "rule", "imperative", 0.65 - penalty
    if _MODAL_RULE.search(body):
        return "rule", "must", 0.6 - penalty
    if _SHOULD.search(body):
        return "decision", "should", 0.55 - penalty
    return None


_LIST_ITEM = re.compile(r"^(?:[-*+•]|\d+[.)])\s+")
_CODE_LINE = re.compile(r"[=(){};]|^\s*(?:def|class|import|from|return|if|for)\b")


def _units(text: str) -> list[tuple[list[tuple[int, int]], str, bool]]:
    """(line starts, paragraph, said by an assistant) for the prose of `text`.

    Line starts are (offset in the paragraph, line number) pairs, to place each sentence.

    Wrapped lines are joined into paragraphs (commit bodies wrap at 72 columns); list items,
    headings, speaker changes and blank lines start a new one; code blocks, indented code,
    quotes, tables and diffs are dropped.
    """
    out: list[tuple[list[tuple[int, int]], str, bool]] = []
    current: list[str] = []
    starts: list[tuple[int, int]] = []
    in_code = False
    assistant = False

    def flush() -> None:
        if current:
            out.append((list(starts), " ".join(current), assistant))
            current.clear()
            starts.clear()

    for number, raw in enumerate(text.splitlines(), 1):
        if _FENCE.match(raw):
            flush()
            in_code = not in_code
            continue
        if in_code:
            continue
        speaker = _SPEAKER.match(raw)
        if speaker:
            flush()
            assistant = speaker.group(1).lower() in _ASSISTANTS
            raw = raw[speaker.end() :]
        stripped = raw.strip()
        indented_code = raw.startswith(("    ", "\t")) and bool(_CODE_LINE.search(stripped))
        if (
            not stripped
            or indented_code
            or stripped.startswith((">", "|", "$ ", "+", "@@", "diff --git", "```"))
            or _HEADING.match(raw)
        ):
            flush()
            continue
        item = _LIST_ITEM.match(stripped)
        if item or _TRAILER.match(stripped):
            flush()
            stripped = stripped[item.end() :] if item else stripped
        starts.append((sum(len(c) + 1 for c in current), number))
        current.append(stripped)
        if _TRAILER.match(stripped):
            flush()
    flush()
    return out


def _adr_decisions(text: str, source: str) -> list[Proposal]:
    """The paragraph under an ADR's `## Decision` heading, titled by the ADR title."""
    lines = text.splitlines()
    title: str | None = None
    out: list[Proposal] = []
    for i, line in enumerate(lines):
        heading = _HEADING.match(line)
        if not heading:
            continue
        name = heading.group(1).strip()
        if line.lstrip().startswith("# ") and title is None:
            title = re.sub(r"^(?:adr[- ]?\d+[:.]?\s*|\d+[.:]\s*)", "", name, flags=re.I)
        if name.lower().rstrip(":") not in ("decision", "decision outcome", "the decision"):
            continue
        body: list[str] = []
        for follow in lines[i + 1 :]:
            if _HEADING.match(follow):
                break
            body.append(follow)
        paragraph = _clean(" ".join(b for b in body if b.strip()))
        if len(paragraph.split()) >= MIN_WORDS:
            out.append(
                Proposal(
                    "decision",
                    _title(title or paragraph),
                    paragraph,
                    "ADR decision section",
                    source,
                    i + 1,
                    0.9,
                )
            )
    return out


def propose_memories(text: str, source: str, *, commit: bool = False) -> list[Proposal]:
    """Memories `text` (a finished conversation, notes, an ADR) suggests recording.

    Args:
        text: the conversation or document, as plain text or Markdown.
        source: where it came from (a file name, "claude-code session 42"); each proposal
            keeps it, with the line number, so the user can check the context.
        commit: `text` is a commit message body (imperatives there describe the change).
    """
    proposals = _adr_decisions(text, source)
    taken = {normalized(p.text) for p in proposals}
    for starts, line, assistant in _units(text):
        trailer = _TRAILER.match(line)
        candidates: list[tuple[str, str, str, float, int]] = []
        if trailer:
            kind = _TRAILER_KIND[trailer.group(1).lower()]
            body = _clean(trailer.group(2))
            candidates.append((body, kind, f"{trailer.group(1).title()}: line", 0.9, 0))
        else:
            offset = 0
            for sentence in _SENTENCE_END.split(line):
                at = line.find(sentence, offset)
                offset = max(offset, at)
                verdict = _classify(_clean(sentence), assistant, commit)
                if verdict is not None:
                    candidates.append((_clean(sentence), *verdict, offset))
        for body, kind, cue, confidence, at in candidates:
            number = max((n for start, n in starts if start <= at), default=starts[0][1])
            key = normalized(body)
            if not key or key in taken or len(body.split()) < MIN_WORDS - 1:
                continue
            taken.add(key)
            proposals.append(Proposal(kind, _title(body), body, cue, source, number, confidence))
    return proposals


def propose_from_commits(root: Path, rev_range: str) -> list[Proposal]:
    """Proposals from the messages of the commits in `rev_range` (e.g. `main~20..main`).

    Subject lines are skipped (they say what changed); bodies and trailers are read.
    """
    log = git.run(root, "log", "--no-merges", "--format=%H%x00%B%x01", rev_range, timeout=60.0)
    if not log:
        return []
    out: list[Proposal] = []
    for entry in log.split("\x01"):
        commit, _, message = entry.strip("\n").partition("\x00")
        if not commit:
            continue
        _, _, body = message.strip().partition("\n")
        out += propose_memories(body, f"commit:{commit[:12]}", commit=True)
    return out
