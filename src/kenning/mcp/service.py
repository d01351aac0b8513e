"""What each MCP tool does, on one project's Workspace, with no SDK in sight.

`KenningService` is the whole behaviour of the server: it validates and coerces arguments (with
errors that tell the model how to call again), keeps the index fresh, calls the Workspace, and
renders each answer twice, as Markdown for the model and as a dict for programs. `server.py` only
declares the tools and hands every call to a worker thread.

Invariants:
- every reply is bounded: its text by `max_tokens` (setting `mcp.max_tokens`), its data by the
  same item counts and snippets; nothing ever lists the whole store;
- the Workspace is touched by one thread at a time (`self._lock`); the SQLite index may be shared
  with other processes (other servers, the CLI), which is what the store's own locks are for;
- the index opens on the first call, is built lexically when missing (vectors follow in a
  background thread), and is re-checked before a request: through a file watcher when one can
  run (only the files it saw change are re-indexed; a full scan every minute as a safety net),
  otherwise by a scan when the last check is older than `fresh_after` seconds.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kenning.config import setting
from kenning.errors import KenningError
from kenning.memory import KINDS, Memory
from kenning.tokens import count_tokens, truncate_to_tokens, valid_unicode

if TYPE_CHECKING:
    from kenning.engine.retrieve import Hit
    from kenning.workspace import Workspace

log = logging.getLogger("kenning.mcp")

DEFAULT_MAX_TOKENS = 4000
MIN_BUDGET = 200
MAX_REQUEST_CHARS = 20_000
MAX_QUERY_CHARS = 2_000
MAX_CAPTURE_CHARS = 500_000
MAX_FILES = 50
MAX_SEARCH_RESULTS = 25
DEFAULT_SEARCH_RESULTS = 8
MAX_LIST_ITEMS = 100
SNIPPET_TOKENS = 60
SEARCH_KINDS = ("all", "code", "memory", "file", "symbol", "doc", *KINDS)


class BadArgument(KenningError):
    """A tool argument kenning cannot use; the message says what to pass instead."""


@dataclass(frozen=True)
class Reply:
    """One tool answer: Markdown for the model and the same facts as data for programs."""

    text: str
    data: dict[str, Any] = field(default_factory=dict)


# ---- argument coercion (lenient in what it takes, precise in what it refuses) ---------------


def text_arg(value: Any, name: str, max_chars: int, *, required: bool = True) -> str:
    """A stripped string argument, refusing empty (when required) and oversized values."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadArgument(f"{name} must be a string, got {type(value).__name__}")
    text = valid_unicode(value).strip()
    if required and not text:
        raise BadArgument(f"{name} is empty; pass the text to work with")
    if len(text) > max_chars:
        raise BadArgument(
            f"{name} is {len(text):,} characters; the limit is {max_chars:,} (send a summary)"
        )
    return text


def list_arg(value: Any, name: str, max_items: int = MAX_FILES) -> list[str]:
    """A list of strings; a single string is one item, and a comma-separated one is split."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [part for part in re.split(r"\s*,\s*|\n", value) if part.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise BadArgument(f"{name} must be a list of strings")
    items = [valid_unicode(v).strip() for v in value if v.strip()]
    if len(items) > max_items:
        raise BadArgument(f"{name} has {len(items)} items; pass at most {max_items}")
    return items


def kind_arg(value: Any, allowed: Sequence[str] = KINDS) -> str:
    """A kind name, case-insensitive, plural accepted ("Decisions" is "decision")."""
    if not isinstance(value, str) or not value.strip():
        raise BadArgument(f"kind is required: one of {', '.join(allowed)}")
    kind = value.strip().lower()
    if kind not in allowed and kind.endswith("s") and kind[:-1] in allowed:
        kind = kind[:-1]
    if kind == "people" and "person" in allowed:
        kind = "person"
    if kind not in allowed:
        raise BadArgument(f"kind {value[:40]!r} is not one of {', '.join(allowed)}")
    return kind


def int_arg(value: Any, name: str, low: int, high: int, default: int) -> int:
    """An integer clamped into [low, high]; None means `default`."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadArgument(f"{name} must be a whole number between {low} and {high}")
    try:
        number = int(value)
    except ValueError:
        raise BadArgument(f"{name} must be a whole number between {low} and {high}") from None
    return max(low, min(high, number))


def relative_paths(values: Iterable[str], root: Path) -> list[str]:
    """Project-relative POSIX paths; absolute paths inside the project are made relative."""
    out: list[str] = []
    for raw in values:
        path = Path(raw)
        if path.is_absolute():
            try:
                path = path.resolve().relative_to(root.resolve())
            except ValueError:
                raise BadArgument(f"{raw} is outside the project {root}") from None
        rel = path.as_posix()
        while rel.startswith("./"):
            rel = rel[2:]
        if rel == ".." or rel.startswith("../"):
            raise BadArgument(f"{raw} is outside the project {root}")
        out.append(rel)
    return out


def decision_text(decision: str, reasons: Sequence[str], alternatives: Sequence[str]) -> str:
    """The Markdown body of a recorded decision, phrased so conflict checks can read it."""
    parts = [decision.strip()]
    if reasons:
        parts.append("Reasons:\n" + "\n".join(f"- {r}" for r in reasons))
    if alternatives:
        parts.append(
            "Alternatives rejected:\n"
            + "\n".join(f"- We ruled out {a.rstrip('.')}." for a in alternatives)
        )
    return "\n\n".join(parts)


def _snippet(text: str, tokens: int = SNIPPET_TOKENS) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()][:4]
    return truncate_to_tokens("\n".join(lines), tokens)


def _date(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


# ---- the service ---------------------------------------------------------------------------


class KenningService:
    """The tools' behaviour over one project; safe to call from several threads."""

    def __init__(
        self,
        directory: Path | str = ".",
        *,
        vectors: bool = True,
        fresh_after: float = 2.0,
        max_tokens: int | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.vectors = vectors
        self.fresh_after = fresh_after
        self._max_tokens = max_tokens
        self._lock = threading.RLock()
        self._ws: Workspace | None = None
        self._embedding: threading.Thread | None = None
        self._watch_tried = False
        self.last_check_ms = 0.0

    # ---- workspace and freshness ------------------------------------------------------------

    def workspace(self) -> Workspace:
        """The project's Workspace, opened on first use (nothing is read before)."""
        with self._lock:
            if self._ws is None:
                from kenning.workspace import Workspace

                self._ws = Workspace.open(self.directory)
            return self._ws

    @property
    def root(self) -> Path:
        return self.workspace().root

    @property
    def max_tokens(self) -> int:
        if self._max_tokens is None:
            value = setting(self.workspace().settings, "mcp.max_tokens", DEFAULT_MAX_TOKENS)
            try:
                self._max_tokens = max(500, min(32_000, int(value)))
            except (TypeError, ValueError):
                self._max_tokens = DEFAULT_MAX_TOKENS
        return self._max_tokens

    def ready(self) -> Workspace:
        """The Workspace with an index no older than `fresh_after` seconds (caller holds the lock).

        A project nobody indexed is indexed lexically first (about a second for a few hundred
        files) so the first answer comes quickly; vectors are computed in the background.
        """
        ws = self.workspace()
        started = time.perf_counter()
        if not ws.has_index():
            ws.index(embed=False)
            self._embed_in_background()
        else:
            if not self._watch_tried and self.fresh_after > 0:
                # File events instead of a scan before every request (see index/watch.py).
                self._watch_tried = True
                ws.watch()
            ws.ensure_index(max_age=self.fresh_after, embed=self._embed_now())
        self.last_check_ms = (time.perf_counter() - started) * 1000
        return ws

    def warm(self) -> None:
        """Load what the first request needs (index, entity table, rules, vectors, model).

        Only for a project that has an index: a server started just for a health check must not
        start indexing a project nobody asked about.
        """
        with self._lock:
            ws = self.workspace()
            if not ws.has_index():
                return
            self.ready()
            ws.brief("warm up the engine", MIN_BUDGET, (), use_dense=self.vectors)

    def warm_in_background(self) -> threading.Thread:
        """`warm()` on a daemon thread, then the stances of the project's decisions, rules and
        preferences (errors are logged; the first request retries them)."""

        def run() -> None:
            try:
                self.warm()
                # Outside the lock: requests go on while the memories' stances are read.
                with self._lock:
                    ws = self.workspace()
                    inputs = ws.engine.stance_inputs() if ws.has_index() else []
                from kenning.engine.conflicts import prepare

                prepare(inputs)
            except Exception:  # noqa: BLE001 - the first real request reports the problem
                log.debug("warm-up failed", exc_info=True)

        thread = threading.Thread(target=run, name="kenning-warm", daemon=True)
        thread.start()
        return thread

    def _embed_now(self) -> bool:
        """Embed new chunks inline: only with vectors on and no background pass running."""
        return self.vectors and not (self._embedding is not None and self._embedding.is_alive())

    def _reindex(self, ws: Workspace) -> None:
        # Trigger: a memory was written. Why not Workspace.remember/forget: they index the
        # memories and then embed up to 200 pending chunks inline, which on an index built
        # lexically takes tens of seconds. Outcome: an incremental pass that embeds only when
        # this server computes vectors and no background pass is doing it already.
        ws.index(embed=self._embed_now())

    def _embed_in_background(self) -> None:
        if not self.vectors or (self._embedding is not None and self._embedding.is_alive()):
            return
        project = self.workspace().project

        def run() -> None:
            from kenning.workspace import Workspace

            ws = Workspace(project)
            try:
                stats = ws.index(embed=True)
                log.info("vectors ready: %d written", stats.vectors_written)
            except Exception:  # noqa: BLE001 - lexical search keeps working without vectors
                log.exception("background embedding failed; search stays lexical + graph")
            finally:
                ws.close()

        self._embedding = threading.Thread(target=run, name="kenning-embed", daemon=True)
        self._embedding.start()

    def _search(self, ws: Workspace, query: str, kind: str, k: int) -> list[Hit]:
        if self.vectors:
            return ws.search(query, kind, k)
        # Workspace.search always embeds the query (loading the model); without vectors this
        # server asks the retriever for BM25 + graph ranking only and leaves the model unloaded.
        from kenning.engine.retrieve import CODE_KINDS, MEMORY_KINDS

        kinds: Sequence[str] = {
            "all": CODE_KINDS + MEMORY_KINDS,
            "code": CODE_KINDS,
            "memory": MEMORY_KINDS,
        }.get(kind, (kind,))
        ws.engine.refresh()
        return ws.engine.retriever.search(query, kinds, k=k, use_dense=False)

    def close(self) -> None:
        with self._lock:
            if self._ws is not None:
                self._ws.close()
                self._ws = None

    def _bound(self, text: str) -> str:
        return truncate_to_tokens(text, self.max_tokens)

    # ---- reading ----------------------------------------------------------------------------

    def get_context(self, request: Any, files: Any = None, budget: Any = None) -> tuple[Reply, Any]:
        """The packet for `request`: (reply, the Packet itself for callers that want more)."""
        request = text_arg(request, "request", MAX_REQUEST_CHARS)
        with self._lock:
            ws = self.ready()
            paths = relative_paths(list_arg(files, "files"), ws.root)
            cap = self.max_tokens
            default = int_arg(setting(ws.settings, "brief.budget"), "budget", 1, cap, 2000)
            tokens = int_arg(budget, "budget", MIN_BUDGET, cap - 200, min(default, cap - 200))
            packet = ws.brief(request, tokens, paths, use_dense=self.vectors)
        data = packet.to_dict()
        data["fresh_check_ms"] = round(self.last_check_ms, 2)
        return Reply(self._bound(packet.to_markdown()), data), packet

    def route(self, request: Any) -> Reply:
        """How kenning reads `request`: intent, confidence, linked entities and the fetch plan."""
        _, packet = self.get_context(request)
        data = packet.to_dict()
        keep = {k: data[k] for k in ("request", "intent", "confidence", "secondary_intent")}
        keep["entities"] = data["entities"][:MAX_LIST_ITEMS]
        keep["plan"] = data["plan"]
        lines = [
            f"intent: **{packet.intent}** ({packet.confidence:.2f})"
            + (f", also {packet.secondary}" if packet.secondary else ""),
            "",
            "entities linked:",
        ]
        lines += [
            f"- `{e.get('span')}` → {e.get('node')} ({e.get('type')}"
            + (", strong)" if e.get("strong") else ")")
            for e in keep["entities"]
        ] or ["- none"]
        plan = keep["plan"]
        quotas = ", ".join(f"{k} {v}" for k, v in (plan.get("quotas") or {}).items())
        lines += [
            "",
            f"plan: **{plan.get('name', '?')}**: fetch {quotas}",
            f"code share {plan.get('code_share')}, graph weight {plan.get('graph_weight')}, "
            f"at most {plan.get('max_item_tokens')} tokens an item",
        ]
        return Reply(self._bound("\n".join(lines) + "\n"), keep)

    def search(self, query: Any, kind: Any = None, limit: Any = None) -> Reply:
        """Ranked hits with ids to expand (`get`) and snippets, never whole files."""
        query = text_arg(query, "query", MAX_QUERY_CHARS)
        kinds = "all" if kind in (None, "") else kind_arg(kind, SEARCH_KINDS)
        k = int_arg(limit, "limit", 1, MAX_SEARCH_RESULTS, DEFAULT_SEARCH_RESULTS)
        with self._lock:
            hits = self._search(self.ready(), query, kinds, k)
        results: list[dict[str, Any]] = []
        lines: list[str] = []
        used = 0
        for n, hit in enumerate(hits, 1):
            snippet = _snippet(hit.text)
            lines_span = f"{hit.start_line}-{hit.end_line}" if hit.start_line is not None else None
            label = (
                f"{hit.title} · id `{hit.memory_id}`"
                if hit.memory_id
                else f"`{hit.ref}`" + (f" · {hit.symbol}" if hit.symbol else "")
            )
            entry = "\n".join(
                [f"{n}. [{hit.kind}] {label}"] + [f"   {s}" for s in snippet.splitlines()]
            )
            cost = count_tokens(entry)
            if used + cost > self.max_tokens - 100:
                break
            used += cost
            lines.append(entry)
            results.append(
                {
                    "kind": hit.kind,
                    "ref": hit.ref,
                    "id": hit.memory_id,
                    "title": hit.title,
                    "path": hit.path,
                    "lines": lines_span,
                    "score": round(hit.score, 4),
                    "status": hit.status,
                    "snippet": snippet,
                }
            )
        if not lines:
            text = f"No matches for {query!r}" + (f" among {kinds}" if kinds != "all" else "")
        else:
            text = "\n".join(lines) + (
                "\n\nExpand a memory with get(id); open code at its path and lines."
            )
        more = len(results) < len(hits)
        data = {"query": query, "kind": kinds, "results": results, "truncated": more}
        return Reply(text + "\n", data)

    def get(self, memory_id: Any) -> Reply:
        """One memory in full (its text bounded by the token cap)."""
        memory_id = text_arg(memory_id, "id", 200)
        with self._lock:
            memory = self.workspace().get(memory_id)
        return self._memory_reply(memory)

    def memory_markdown(self, memory_id: str) -> str:
        """A memory as Markdown (the `kenning://memories/{id}` resource)."""
        return self.get(memory_id).text

    def _memory_reply(self, memory: Memory) -> Reply:
        head = [
            f"# {memory.title}",
            "",
            f"{memory.kind} · {memory.status} · id `{memory.id}` · created {_date(memory.created)}"
            f" · updated {_date(memory.updated)} · source {memory.source}"
            + (" · personal" if memory.personal else ""),
        ]
        for label, values in (
            ("scope", memory.scope),
            ("aliases", memory.aliases),
            ("tags", memory.tags),
        ):
            if values:
                head.append(f"{label}: {', '.join(values)}")
        if memory.supersedes:
            head.append(f"supersedes: `{memory.supersedes}`")
        text = "\n".join(head)
        body = memory.body
        room = self.max_tokens - count_tokens(text) - 20
        if body and count_tokens(body) > room:
            body = (
                truncate_to_tokens(body, room)
                + f"\n\n(truncated; the full text is in {memory.path})"
            )
        if body:
            text += "\n\n" + body
        data = memory.to_dict()
        data["body"] = body
        return Reply(text + "\n", data)

    def list_rules(self, path: Any = None) -> Reply:
        """Rules in force: those scoped to `path` (and the unscoped ones), or all of them."""
        target = text_arg(path, "path", 1000, required=False) or None
        with self._lock:
            ws = self.ready()
            rel = relative_paths([target], ws.root)[0] if target else None
            scoped: list[tuple[str, str, str, tuple[str, ...]]] = []
            if rel is not None:
                for rule, glob, _ in ws.engine.rules_for([rel]):
                    scoped.append((rule.ref, rule.title, rule.text, (glob,)))
            else:
                ws.engine.refresh()
                scoped.extend((r.ref, r.title, r.text, r.scope) for r in ws.engine.scoped_rules)
            seen = {ref for ref, *_ in scoped}
            unscoped = [
                (m.id, m.title, m.body, ())
                for m in ws.memories("rule")
                if not m.scope and m.id not in seen
            ]
        rules = scoped + unscoped
        where = f" for `{rel}`" if rel else ""
        lines = [f"# Rules{where}: {len(rules)}"]
        entries: list[dict[str, Any]] = []
        used = count_tokens(lines[0])
        for ref, title, text, scope in rules[:MAX_LIST_ITEMS]:
            block = f"\n## {title} · `{ref}`\n" + (
                f"scope: {', '.join(scope)}\n" if scope else "applies everywhere\n"
            )
            block += _snippet(text, 150) + "\n"
            cost = count_tokens(block)
            if used + cost > self.max_tokens - 50:
                break
            used += cost
            lines.append(block)
            entries.append(
                {"ref": ref, "title": title, "scope": list(scope), "excerpt": _snippet(text, 150)}
            )
        if len(entries) < len(rules):
            lines.append(
                f"\n({len(rules) - len(entries)} more; pass a path to see the rules for one file)"
            )
        if not rules:
            lines.append("\nNo rules recorded. Add one with remember(kind='rule', scope=[...]).")
        data = {"path": rel, "rules": entries, "total": len(rules)}
        return Reply("\n".join(lines) + "\n", data)

    def rules_markdown(self) -> str:
        """Every rule in force (the `kenning://rules` resource)."""
        return self.list_rules().text

    def capture(self, text: Any, source: str = "mcp") -> Reply:
        """Memories a finished conversation or document suggests (nothing is written)."""
        from kenning.hygiene.capture import propose_memories

        body = text_arg(text, "text", MAX_CAPTURE_CHARS)
        proposals = propose_memories(body, source)
        lines: list[str] = []
        kept: list[dict[str, Any]] = []
        used = 0
        for n, proposal in enumerate(proposals[:MAX_LIST_ITEMS], 1):
            where = f", line {proposal.line}" if proposal.line else ""
            entry = (
                f"{n}. [{proposal.kind}] {proposal.title}\n   {_snippet(proposal.text, 80)}\n"
                f"   (cue: {proposal.cue}{where}; confidence {proposal.confidence:.2f})"
            )
            cost = count_tokens(entry)
            if used + cost > self.max_tokens - 120:
                break
            used += cost
            lines.append(entry)
            kept.append(proposal.to_dict())
        if not lines:
            text_out = "Nothing in this text reads like a decision, rule, preference or fact.\n"
        else:
            text_out = (
                "\n".join(lines)
                + "\n\nNothing was stored. Show these to the user; record the ones they accept "
                "with remember (or record_decision for decisions).\n"
            )
        data = {"proposals": kept, "total": len(proposals), "truncated": len(kept) < len(proposals)}
        return Reply(text_out, data)

    # ---- writing ----------------------------------------------------------------------------

    def remember(
        self,
        text: Any,
        kind: Any,
        *,
        title: Any = None,
        scope: Any = None,
        tags: Any = None,
        aliases: Any = None,
        supersedes: Any = None,
        personal: bool = False,
        files: Any = None,
        source: str = "mcp",
    ) -> Reply:
        """Store a memory unless an active one of the same kind already says the same.

        The store's write hooks decide what is a near-duplicate (kenning.hygiene.dedupe: words,
        numbers, negations and, when the model runs, embeddings); this answers it as a reply
        naming the existing memory rather than as an error.
        """
        body = text_arg(text, "text", 64_000)
        kind = kind_arg(kind)
        head = text_arg(title, "title", 300, required=False) or None
        old = text_arg(supersedes, "supersedes", 200, required=False) or None
        from kenning.hygiene.dedupe import NearDuplicate

        with self._lock:
            ws = self.ready()
            globs = relative_paths(list_arg(scope, "scope"), ws.root)
            anchors = [
                "::".join([relative_paths([path], ws.root)[0], *symbol])
                for path, *symbol in (f.split("::", 1) for f in list_arg(files, "files"))
            ]
            folder = ws.store.personal_dir if personal else ws.store.project_dir
            known = {p.stem for p in (folder / kind).glob("*.md")} if folder else set()
            if kind in ("preference", "person") and globs:
                raise BadArgument(f"a {kind} has no path scope; scopes are for rules and decisions")
            try:
                memory = ws.store.add(
                    body,
                    kind,
                    title=head,
                    scope=globs,
                    tags=list_arg(tags, "tags"),
                    aliases=list_arg(aliases, "aliases"),
                    supersedes=old,
                    source=source,
                    personal=bool(personal),
                    files=anchors,
                )
            except NearDuplicate as exc:
                return self._duplicate_reply(exc.existing, exc.score)
            self._reindex(ws)
        if memory.id in known:  # the store found the same words already recorded
            return self._duplicate_reply(memory, 1.0)
        where = "your personal store" if memory.personal else "the project"
        text_out = f"Remembered {memory.kind} `{memory.id}` in {where}: {memory.title}"
        if memory.supersedes:
            text_out += f"\nIt supersedes `{memory.supersedes}`, which leaves every packet."
        data = {
            "status": "created",
            "id": memory.id,
            "kind": memory.kind,
            "title": memory.title,
            "supersedes": memory.supersedes,
            "personal": memory.personal,
            "source": memory.source,
        }
        return Reply(text_out + "\n", data)

    def _duplicate_reply(self, memory: Memory, score: float) -> Reply:
        text = (
            f"Not stored: `{memory.id}` ({memory.kind}, recorded {_date(memory.created)} by "
            f"{memory.source}) already says this: {memory.title}\n"
            f"To replace it, call again with supersedes='{memory.id}'."
        )
        data = {
            "status": "duplicate",
            "id": memory.id,
            "kind": memory.kind,
            "title": memory.title,
            "similarity": round(score, 3),
        }
        return Reply(text + "\n", data)

    def record_decision(
        self,
        title: Any,
        decision: Any,
        *,
        reasons: Any = None,
        alternatives_rejected: Any = None,
        scope: Any = None,
        tags: Any = None,
        supersedes: Any = None,
        source: str = "mcp",
    ) -> Reply:
        """A decision memory with its reasons and the alternatives it ruled out."""
        head = text_arg(title, "title", 300)
        body = decision_text(
            text_arg(decision, "decision", 32_000),
            list_arg(reasons, "reasons", 30),
            list_arg(alternatives_rejected, "alternatives_rejected", 30),
        )
        return self.remember(
            body,
            "decision",
            title=head,
            scope=scope,
            tags=tags,
            supersedes=supersedes,
            source=source,
        )

    def forget(self, memory_id: Any) -> Reply:
        """Retire a memory: it leaves every packet; its file stays with status: retired."""
        memory_id = text_arg(memory_id, "id", 200)
        with self._lock:
            ws = self.ready()
            memory = ws.store.retire(memory_id)
            self._reindex(ws)
        text = (
            f"Retired `{memory.id}`: {memory.title}\n"
            "It no longer appears in context; the file stays (status: retired) for history."
        )
        return Reply(text, {"id": memory.id, "status": memory.status, "title": memory.title})
