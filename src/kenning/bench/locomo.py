"""LoCoMo evidence recall: conversation turns stored as memories, questions as requests.

Each of the ten conversations becomes its own project; each turn one `note` memory whose text is
`"speaker: text"`, dated by its session, written straight to `.kenning/memories/note/` in the
documented file format (the same bytes `MemoryStore.add` would write, minus its duplicate check,
which is quadratic over hundreds of turns). The project is indexed, then every question with
evidence is asked of each system and scored by evidence recall@k (|gold ∩ top-k| / |gold|) per
category and overall, with hit@k, tokens returned and latency.

Systems: `bm25` (the plain baseline of `metrics` over each turn's line followed by its session's
date string, which reproduces the floor in the data's README within 0.002), `bm25-text` (the same
over the line alone, exactly what kenning indexes), `kenning-search` (fused search over memories), `kenning-search-lexical` (the same
without vectors), `kenning-search-dense` (the vector ranker alone), `kenning-brief` (the routed packet; memories in packet order), and any peer
handed in (see `kenning.bench.peers`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from kenning.bench.metrics import BM25, RecallTable, words
from kenning.errors import KenningError
from kenning.memory import Memory, render_memory
from kenning.tokens import count_tokens

CATEGORIES = {
    1: "multi-hop",
    2: "temporal",
    3: "open-domain",
    4: "single-hop",
    5: "adversarial",
}
DEFAULT_PATHS = ("../shared/bench/locomo10.json", "../../shared/bench/locomo10.json")
KS = (1, 3, 5, 10)
SYSTEMS = (
    "bm25",
    "bm25-text",
    "kenning-search",
    "kenning-search-lexical",
    "kenning-search-dense",
    "kenning-brief",
)
Progress = Callable[[str, int, int], None]
_EVIDENCE = re.compile(r"^D:?(\d+):0*(\d+)$")


class DataMissing(KenningError):
    """The LoCoMo file is not where it was looked for."""


@dataclass(frozen=True)
class Turn:
    dia_id: str
    speaker: str
    text: str
    when: datetime
    session_date: str = ""

    @property
    def memory_id(self) -> str:
        return self.dia_id.lower().replace(":", "-")

    @property
    def line(self) -> str:
        return f"{self.speaker}: {self.text}"


@dataclass(frozen=True)
class Question:
    question: str
    evidence: tuple[str, ...]
    category: int


@dataclass
class Conversation:
    sample_id: str
    turns: list[Turn]
    questions: list[Question]


@dataclass
class LoadReport:
    conversations: int = 0
    turns: int = 0
    questions: int = 0
    without_evidence: int = 0
    evidence_ids: int = 0
    evidence_normalised: int = 0
    evidence_dropped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def find_data(path: str | Path | None = None, start: Path | None = None) -> Path:
    """The LoCoMo file: `path` when given, else `../shared/bench/locomo10.json` near `start`.

    Raises:
        DataMissing: with where it looked and how to point at the file.
    """
    if path is not None:
        candidate = Path(path).expanduser()
        if candidate.is_file():
            return candidate
        raise DataMissing(f"LoCoMo data not found at {candidate}; pass the path to locomo10.json")
    base = (start or Path.cwd()).resolve()
    looked: list[str] = []
    for folder in (base, *base.parents[:3]):
        for rel in DEFAULT_PATHS:
            candidate = (folder / rel).resolve()
            looked.append(str(candidate))
            if candidate.is_file():
                return candidate
    raise DataMissing(
        "LoCoMo data (locomo10.json) is absent: looked in "
        + ", ".join(dict.fromkeys(looked[:4]))
        + ". Download data/locomo10.json of the public LoCoMo release (CC BY-NC 4.0) and pass "
        "its path; it is not shipped with kenning."
    )


def parse_session_date(text: str) -> datetime | None:
    """`"1:56 pm on 8 May, 2023"` → a UTC datetime (None when it does not parse)."""
    cleaned = " ".join(str(text).replace(",", ", ").split()).replace(" ,", ",")
    for fmt in ("%I:%M %p on %d %B, %Y", "%I:%M %p on %d %b, %Y", "%H:%M on %d %B, %Y"):
        try:
            return datetime.strptime(cleaned, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def normalise_evidence(raw: Sequence[object], known: set[str], report: LoadReport) -> list[str]:
    """Evidence ids as turn ids: splits `"D8:6; D9:17"`, fixes `"D:11:26"` and `"D30:05"`."""
    out: list[str] = []
    for item in raw:
        parts = [p for p in re.split(r"[;,\s]+", str(item)) if p]
        for part in parts:
            report.evidence_ids += 1
            match = _EVIDENCE.match(part)
            fixed = f"D{int(match.group(1))}:{int(match.group(2))}" if match else part
            if fixed != part or len(parts) > 1:
                report.evidence_normalised += 1
            if fixed in known:
                out.append(fixed)
            else:
                report.evidence_dropped.append(str(item))
    return list(dict.fromkeys(out))


def load(path: Path) -> tuple[list[Conversation], LoadReport]:
    """The conversations of a LoCoMo file, with counts of what was normalised or dropped."""
    data = json.loads(path.read_text())
    report = LoadReport()
    conversations: list[Conversation] = []
    for n, raw in enumerate(data):
        conv = raw["conversation"]
        turns: list[Turn] = []
        session = 1
        fallback = datetime(2023, 1, 1, tzinfo=UTC)
        while f"session_{session}" in conv:
            when = parse_session_date(conv.get(f"session_{session}_date_time", "")) or fallback
            fallback = when
            for i, turn in enumerate(conv[f"session_{session}"]):
                text = str(turn.get("text", ""))
                turns.append(
                    Turn(
                        str(turn["dia_id"]),
                        str(turn["speaker"]),
                        text,
                        when + timedelta(seconds=i),
                        str(conv.get(f"session_{session}_date_time", "")),
                    )
                )
            session += 1
        known = {t.dia_id for t in turns}
        questions: list[Question] = []
        for qa in raw.get("qa", []):
            if not qa.get("evidence"):
                report.without_evidence += 1
                continue
            gold = normalise_evidence(qa["evidence"], known, report)
            questions.append(Question(str(qa["question"]), tuple(gold), int(qa.get("category", 0))))
        conversations.append(Conversation(str(raw.get("sample_id", f"conv-{n}")), turns, questions))
        report.turns += len(turns)
        report.questions += len(questions)
    report.conversations = len(conversations)
    return conversations, report


def select_conversations(spec: int | str | None, total: int) -> list[int]:
    """Which conversations (0-based) to run: all, the first N (`5`), a range (`"5-9"`) or a
    list (`"0,3,7"`), so a tuning subset and a held-out subset can be run apart.

    Raises:
        KenningError: the spec names no conversation of the file or does not parse.
    """
    if spec is None or spec == "":
        return list(range(total))
    text = str(spec).strip()
    if text.isdigit():
        return list(range(min(int(text), total)))
    chosen: list[int] = []
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise KenningError(f"conversations {spec!r}: give N, A-B or A,B,C (0-based)")
        chosen += range(int(low), int(high) + 1) if dash else [int(low)]
    chosen = sorted({i for i in chosen if 0 <= i < total})
    if not chosen:
        raise KenningError(f"conversations {spec!r}: the file has {total} (0 to {total - 1})")
    return chosen


def write_project(root: Path, conversation: Conversation) -> None:
    """One project holding every turn as a `note` memory file (no index yet)."""
    folder = root / ".kenning" / "memories" / "note"
    folder.mkdir(parents=True, exist_ok=True)
    (root / ".kenning" / ".gitignore").write_text("index/\n")
    for turn in conversation.turns:
        line = " ".join(turn.line.split())
        if len(line) <= 120:
            title, body = line, ""
        else:
            title, body = line[:120].rsplit(" ", 1)[0] + "…", line
        memory = Memory(
            id=turn.memory_id,
            kind="note",
            title=title,
            body=body,
            created=turn.when,
            updated=turn.when,
            source="locomo",
        )
        (folder / f"{memory.id}.md").write_text(render_memory(memory))


class Peer(Protocol):
    """A peer system answering the same questions over the same turns."""

    name: str

    def load_turns(self, key: str, turns: Sequence[Turn]) -> None: ...

    def search(self, key: str, query: str, k: int) -> tuple[list[str], int]:
        """(dia ids best first, tokens returned)."""
        ...


def run(
    data: Path,
    workdir: Path,
    *,
    systems: Sequence[str] = SYSTEMS,
    embed: bool = True,
    conversations: int | str | None = None,
    questions: int | None = None,
    peers: Sequence[Peer] = (),
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the suite; returns the JSON-ready result (see `docs/benchmarks.md`)."""
    from kenning.workspace import Workspace

    convs, report = load(data)
    chosen = select_conversations(conversations, len(convs))
    convs = [convs[i] for i in chosen]
    from kenning.engine.vectors import embed_query

    if not embed:
        systems = [s for s in systems if s != "kenning-search-dense"]
    tables = {name: RecallTable(KS) for name in (*systems, *(p.name for p in peers))}
    index_seconds = 0.0
    total_q = sum(len(c.questions[:questions]) for c in convs)
    done = 0
    for n, conv in zip(chosen, convs, strict=True):
        root = workdir / f"locomo-{n:02d}"
        write_project(root, conv)
        by_memory = {t.memory_id: t.dia_id for t in conv.turns}
        ids = [t.dia_id for t in conv.turns]
        baselines = {
            "bm25": BM25([words(f"{t.line} {t.session_date}") for t in conv.turns]),
            "bm25-text": BM25([words(t.line) for t in conv.turns]),
        }
        line_of = {t.dia_id: t.line for t in conv.turns}
        ws = Workspace.open(root)
        started = time.perf_counter()
        ws.index(embed=embed)
        index_seconds += time.perf_counter() - started
        for peer in peers:
            peer.load_turns(conv.sample_id, conv.turns)
        try:
            for q in conv.questions[:questions]:
                group = CATEGORIES.get(q.category, str(q.category))
                for name, bm25 in baselines.items():
                    if name not in tables:
                        continue
                    t = time.perf_counter()
                    top = [ids[i] for i in bm25.top(words(q.question), 10)]
                    ms = (time.perf_counter() - t) * 1000
                    toks = sum(count_tokens(line_of[d]) for d in top)
                    tables[name].add(q.evidence, top, group, toks, ms)
                for name, dense in (("kenning-search", True), ("kenning-search-lexical", False)):
                    if name not in tables:
                        continue
                    t = time.perf_counter()
                    ws.engine.refresh()
                    hits = ws.engine.retriever.search(
                        q.question, _memory_kinds(), k=10, use_dense=dense and embed
                    )
                    ms = (time.perf_counter() - t) * 1000
                    ranked = [by_memory.get(h.ref, h.ref) for h in hits]
                    toks = sum(count_tokens(h.text) for h in hits)
                    tables[name].add(q.evidence, ranked, group, toks, ms)
                if "kenning-search-dense" in tables and embed:
                    t = time.perf_counter()
                    ws.engine.refresh()
                    vec = embed_query(q.question)
                    found = ws.engine.retriever.dense(vec, _memory_kinds(), 10)
                    ms = (time.perf_counter() - t) * 1000
                    by_id = ws.engine.retriever.fetch([cid for cid, _ in found])
                    dense_hits = [by_id[cid] for cid, _ in found if cid in by_id]
                    ranked = [by_memory.get(h.ref, h.ref) for h in dense_hits]
                    toks = sum(count_tokens(h.text) for h in dense_hits)
                    tables["kenning-search-dense"].add(q.evidence, ranked, group, toks, ms)
                if "kenning-brief" in tables:
                    packet = ws.brief(q.question, use_dense=embed)
                    ranked = [by_memory[i.ref] for i in packet.items if i.ref in by_memory]
                    tables["kenning-brief"].add(
                        q.evidence, ranked, group, packet.tokens, packet.elapsed_ms
                    )
                for peer in peers:
                    t = time.perf_counter()
                    ranked, toks = peer.search(conv.sample_id, q.question, 10)
                    ms = (time.perf_counter() - t) * 1000
                    tables[peer.name].add(q.evidence, ranked, group, toks, ms)
                done += 1
                if progress:
                    progress("questions", done, total_q)
        finally:
            ws.close()
    return {
        "suite": "locomo",
        "data": str(data),
        "dataset": report.to_dict() | {"evidence_dropped": report.evidence_dropped[:20]},
        "categories": {str(k): v for k, v in CATEGORIES.items()},
        "conversations": len(convs),
        "conversation_indexes": chosen,
        "questions": done,
        "vectors": embed,
        "index_seconds": round(index_seconds, 2),
        "ks": list(KS),
        "systems": {name: table.summary() for name, table in tables.items()},
        "peers": {p.name: p.stats() for p in peers if hasattr(p, "stats")},
    }


def _memory_kinds() -> tuple[str, ...]:
    from kenning.engine.retrieve import MEMORY_KINDS

    return MEMORY_KINDS
