"""The UI's JSON API: thin handlers over `Workspace` and the graph, staleness and bench readers.

Every call into the workspace runs on one worker thread, in order: the store and the SQLite
connection are used by one thread at a time, and a slow index refresh never blocks the event loop.
Handlers validate and coerce their input at the boundary and map kenning's errors to HTTP
statuses (404 no such memory, 400 invalid input, 409 the file changed since it was read, 503 the
store is busy); the message is the error's own, which says what to do.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kenning import __version__
from kenning.engine.classify import INTENTS, Intent
from kenning.errors import InvalidMemory, KenningError, MemoryNotFound, StoreBusy
from kenning.index.db import get_meta
from kenning.memory import KINDS, STATUSES, Memory
from kenning.web import bench, graph
from kenning.web.stale import CodeIndex, stale_reasons
from kenning.workspace import Workspace

T = TypeVar("T")
MAX_BODY_BYTES = 1_000_000
MAX_BUDGET = 64_000
EDITABLE = ("title", "body", "tags", "aliases", "scope", "status")


class Conflict(KenningError):
    """The memory file changed on disk after the page read it."""


class UIState:
    """The workspace behind one UI server, its worker thread and per-generation caches."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        bench_dirs: Sequence[Path] | None = None,
        embed: bool = True,
        refresh_seconds: float | None = 30.0,
    ) -> None:
        self.ws = workspace
        self.bench_dirs = (
            list(bench_dirs) if bench_dirs is not None else bench.default_dirs(workspace.root)
        )
        self.embed = embed
        self.refresh_seconds = refresh_seconds
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kenning-ui")
        self._lock = threading.Lock()
        self._catalogue: tuple[str, graph.Catalogue] | None = None
        self._code: tuple[str, CodeIndex] | None = None

    async def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `func` on the workspace thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(func, *args, **kwargs))

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.ws.close()

    # ---- on the worker thread ------------------------------------------------------------

    def fresh(self) -> None:
        """Index when there is no index, or re-check files when the last check is old."""
        self.ws.ensure_index(max_age=self.refresh_seconds, embed=self.embed)

    def generation(self) -> str:
        db = self.ws.db
        return f"{get_meta(db, 'generation', '0')}:{get_meta(db, 'cochange_head', '')}"

    def catalogue(self) -> graph.Catalogue:
        self.fresh()
        generation = self.generation()
        if self._catalogue is None or self._catalogue[0] != generation:
            self._catalogue = (generation, graph.load_catalogue(self.ws.db))
        return self._catalogue[1]

    def code(self) -> CodeIndex:
        self.fresh()
        generation = self.generation()
        if self._code is None or self._code[0] != generation:
            self._code = (generation, CodeIndex.load(self.ws.db, self.ws.root))
        return self._code[1]


# ---- helpers -----------------------------------------------------------------------------


def _state(request: Request) -> UIState:
    state: UIState = request.app.state.ui
    return state


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        number = int(value) if value not in (None, "") else default
    except ValueError:
        number = default
    return max(low, min(high, number))


async def _json_body(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise InvalidMemory(f"the request body is over {MAX_BODY_BYTES:,} bytes")
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise InvalidMemory("the request body is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidMemory("the request body must be a JSON object")
    return data


def handle_errors(
    func: Callable[[Request], Any],
) -> Callable[[Request], Any]:
    """Turn kenning's errors into JSON answers with the right status."""

    @functools.wraps(func)
    async def wrapper(request: Request) -> Response:
        try:
            response: Response = await func(request)
            return response
        except MemoryNotFound as exc:
            return _error(404, str(exc))
        except Conflict as exc:
            return _error(409, str(exc))
        except StoreBusy as exc:
            return _error(503, str(exc))
        except KenningError as exc:
            return _error(400, str(exc))

    return wrapper


def file_version(memory: Memory) -> str | None:
    """A hash of the memory's file as it is on disk (the optimistic-locking token)."""
    if memory.path is None:
        return None
    try:
        return hashlib.blake2b(memory.path.read_bytes(), digest_size=10).hexdigest()
    except OSError:
        return None


def _relative(state: UIState, path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.resolve().relative_to(state.ws.root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _summary(
    state: UIState, memory: Memory, stale: list[str], superseded_by: str | None
) -> dict[str, Any]:
    body = " ".join(memory.body.split())
    return {
        "id": memory.id,
        "kind": memory.kind,
        "title": memory.title,
        "status": memory.status,
        "source": memory.source,
        "created": memory.to_dict()["created"],
        "updated": memory.to_dict()["updated"],
        "personal": memory.personal,
        "tags": list(memory.tags),
        "scope": list(memory.scope),
        "supersedes": memory.supersedes,
        "superseded_by": superseded_by,
        "stale": stale,
        "excerpt": body[:180] + ("…" if len(body) > 180 else ""),
        "file": _relative(state, memory.path),
    }


def _iso_time(value: str | None) -> str | None:
    """The index records times as epoch seconds; the page wants ISO 8601."""
    try:
        moment = datetime.fromtimestamp(float(value or ""), UTC)
    except (ValueError, OverflowError, OSError):
        return value
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _superseders(memories: Sequence[Memory]) -> dict[str, str]:
    return {m.supersedes: m.id for m in memories if m.supersedes}


# ---- endpoints ---------------------------------------------------------------------------


@handle_errors
async def status(request: Request) -> Response:
    state = _state(request)

    def work() -> dict[str, Any]:
        cat = state.catalogue()
        return {
            "version": __version__,
            "project": state.ws.root.name,
            "root": str(state.ws.root),
            "indexed_at": _iso_time(get_meta(state.ws.db, "indexed_at")),
            "nodes": dict(graph.counts(cat)),
            "edges": sum(len(v) for v in cat.links.values()) // 2,
            "memory_kinds": list(KINDS),
            "node_kinds": list(graph.NODE_KINDS),
            "statuses": list(STATUSES),
            "intents": list(INTENTS),
        }

    return JSONResponse(await state.run(work))


@handle_errors
async def reindex(request: Request) -> Response:
    state = _state(request)

    def work() -> dict[str, Any]:
        stats = state.ws.index(embed=state.embed)
        return {
            "ok": True,
            "stats": {k: v for k, v in vars(stats).items() if isinstance(v, int | float | str)},
        }

    return JSONResponse(await state.run(work))


@handle_errors
async def graph_view(request: Request) -> Response:
    state = _state(request)
    params = request.query_params
    kinds = graph.parse_kinds(params.get("kinds"))
    limit = _int(params.get("limit"), graph.DEFAULT_LIMIT, 1, graph.MAX_LIMIT)
    focus = params.get("focus") or None
    depth = _int(params.get("depth"), 1, 1, graph.MAX_DEPTH)

    def work() -> dict[str, Any] | None:
        cat = state.catalogue()
        if not focus:
            return graph.overview(cat, kinds, limit).to_dict(cat)
        if focus not in cat.nodes:
            return None
        return graph.neighbourhood(cat, focus, depth, kinds, limit).to_dict(cat)

    found = await state.run(work)
    if found is None:
        return _error(404, f"no node {focus!r} in the index; search for it by name")
    return JSONResponse(found)


@handle_errors
async def graph_search(request: Request) -> Response:
    state = _state(request)
    params = request.query_params
    query = (params.get("q") or "")[:200]
    kinds = graph.parse_kinds(params.get("kinds"))
    limit = _int(params.get("limit"), 20, 1, 100)

    def work() -> dict[str, Any]:
        cat = state.catalogue()
        ids = graph.search(cat, query, kinds, limit)
        return {"results": [cat.nodes[n].to_dict(cat.degree(n)) for n in ids]}

    return JSONResponse(await state.run(work))


@handle_errors
async def graph_node(request: Request) -> Response:
    state = _state(request)
    node_id = request.query_params.get("id", "")

    def work() -> dict[str, Any] | None:
        return graph.details(state.catalogue(), node_id)

    found = await state.run(work)
    if found is None:
        return _error(404, f"no node {node_id!r} in the index")
    return JSONResponse(found)


@handle_errors
async def memory_list(request: Request) -> Response:
    state = _state(request)
    params = request.query_params
    kind = params.get("kind") or None
    status_filter = params.get("status") or "active"
    query = (params.get("q") or "").lower().split()
    only_stale = params.get("stale") in ("1", "true", "yes")

    def work() -> dict[str, Any]:
        memories = state.ws.memories(kind, include_inactive=True)
        problems = [
            {"file": _relative(state, p.path), "problem": p.problem}
            for p in state.ws.store.problems
        ]
        code = state.code()
        by_old = _superseders(state.ws.memories(None, include_inactive=True) if kind else memories)
        rows = []
        tally = {"all": 0, "stale": 0, **dict.fromkeys(STATUSES, 0)}
        for memory in memories:
            stale = stale_reasons(memory, code) if memory.active else []
            tally["all"] += 1
            tally[memory.status] += 1
            tally["stale"] += bool(stale)
            if status_filter != "all" and memory.status != status_filter:
                continue
            if only_stale and not stale:
                continue
            if query:
                hay = f"{memory.id} {memory.title} {memory.body} {' '.join(memory.tags)}".lower()
                if not all(w in hay for w in query):
                    continue
            rows.append(_summary(state, memory, stale, by_old.get(memory.id)))
        rows.sort(
            key=lambda r: (r["status"] != "active", not r["stale"], r["kind"], r["title"].lower())
        )
        return {"memories": rows, "counts": tally, "problems": problems}

    return JSONResponse(await state.run(work))


def _full(state: UIState, memory: Memory) -> dict[str, Any]:
    all_memories = state.ws.memories(None, include_inactive=True)
    data = memory.to_dict()
    data["file"] = _relative(state, memory.path)
    data["version"] = file_version(memory)
    data["raw"] = memory.path.read_text(encoding="utf-8") if memory.path else ""
    data["stale"] = stale_reasons(memory, state.code()) if memory.active else []
    data["superseded_by"] = _superseders(all_memories).get(memory.id)
    cat = state.catalogue()
    node = graph.details(cat, f"mem:{memory.id}")
    data["relations"] = node["relations"] if node else []
    return data


@handle_errors
async def memory_get(request: Request) -> Response:
    state = _state(request)
    memory_id = request.path_params["memory_id"]
    return JSONResponse(await state.run(lambda: _full(state, state.ws.get(memory_id))))


def _as_list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise InvalidMemory(f"{name}: expected a list of strings")


def _changes(data: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in EDITABLE:
        if name not in data:
            continue
        value = data[name]
        if name in ("tags", "aliases", "scope"):
            changes[name] = tuple(_as_list(value, name))
        elif not isinstance(value, str):
            raise InvalidMemory(f"{name}: expected text")
        else:
            changes[name] = value.strip() if name != "body" else value.strip("\n")
    if "status" in changes and changes["status"] not in STATUSES:
        raise InvalidMemory(f"status {changes['status']!r} is not one of {', '.join(STATUSES)}")
    unknown = set(data) - set(EDITABLE) - {"version"}
    if unknown:
        raise InvalidMemory(f"cannot change {', '.join(sorted(unknown))} here")
    return changes


def _check_version(memory: Memory, version: Any) -> None:
    if version is not None and version != file_version(memory):
        raise Conflict(
            f"{memory.id} changed on disk since this page read it; reload it and edit again"
        )


@handle_errors
async def memory_update(request: Request) -> Response:
    state = _state(request)
    memory_id = request.path_params["memory_id"]
    data = await _json_body(request)
    changes = _changes(data)

    def work() -> dict[str, Any]:
        current = state.ws.get(memory_id)
        _check_version(current, data.get("version"))
        if not changes:
            return _full(state, current)
        return _full(state, state.ws.update(current.id, **changes))

    return JSONResponse(await state.run(work))


@handle_errors
async def memory_retire(request: Request) -> Response:
    state = _state(request)
    memory_id = request.path_params["memory_id"]
    data = await _json_body(request)

    def work() -> dict[str, Any]:
        current = state.ws.get(memory_id)
        _check_version(current, data.get("version"))
        return _full(state, state.ws.forget(current.id))

    return JSONResponse(await state.run(work))


@handle_errors
async def memory_supersede(request: Request) -> Response:
    state = _state(request)
    memory_id = request.path_params["memory_id"]
    data = await _json_body(request)
    text = data.get("body") or data.get("text") or ""
    title = data.get("title")
    if not isinstance(text, str) or not isinstance(title, str | None):
        raise InvalidMemory("title and body must be text")
    if not (text.strip() or (title or "").strip()):
        raise InvalidMemory("the new memory needs a title or some text")

    def work() -> dict[str, Any]:
        old = state.ws.get(memory_id)
        _check_version(old, data.get("version"))
        fields: dict[str, Any] = {
            "title": title or None,
            "supersedes": old.id,
            "source": "ui",
            "tags": _as_list(data.get("tags", list(old.tags)), "tags"),
            "scope": _as_list(data.get("scope", list(old.scope)), "scope"),
            "aliases": _as_list(data.get("aliases", list(old.aliases)), "aliases"),
        }
        new = state.ws.remember(text or title or "", old.kind, personal=old.personal, **fields)
        return {"memory": _full(state, new), "superseded": old.id}

    return JSONResponse(await state.run(work), status_code=201)


def packet_dict(packet: Any) -> dict[str, Any]:
    """`packet.to_dict()` plus the per-stage timings and the Markdown rendering."""
    data: dict[str, Any] = packet.to_dict()
    if "timings" not in data:
        data["timings"] = dict(getattr(packet, "timings", {}) or {})
    data["markdown"] = packet.to_markdown()
    return data


@handle_errors
async def brief(request: Request) -> Response:
    state = _state(request)
    data = await _json_body(request)
    text = data.get("request")
    if not isinstance(text, str) or not text.strip():
        raise InvalidMemory("type a request to brief")
    budget = _int(str(data.get("budget") or ""), 0, 0, MAX_BUDGET) or None
    files = _as_list(data.get("files"), "files")
    intent = data.get("intent") or None
    if intent is not None and intent not in INTENTS:
        raise InvalidMemory(f"intent {intent!r} is not one of {', '.join(INTENTS)}")

    def work() -> dict[str, Any]:
        state.fresh()
        options: dict[str, Any] = {}
        if intent:
            options["intent"] = Intent(intent, 1.0)
        packet = state.ws.brief(text, budget, files, **options)
        result = packet_dict(packet)
        result["forced_intent"] = intent
        return result

    return JSONResponse(await state.run(work))


@handle_errors
async def bench_results(request: Request) -> Response:
    state = _state(request)

    def work() -> dict[str, Any]:
        results = bench.latest_results(state.bench_dirs)
        return {
            "folders": [str(d) for d in state.bench_dirs],
            "results": [r.to_dict() for r in results],
        }

    return JSONResponse(await state.run(work))


ROUTES = [
    Route("/api/status", status),
    Route("/api/index", reindex, methods=["POST"]),
    Route("/api/graph", graph_view),
    Route("/api/graph/search", graph_search),
    Route("/api/graph/node", graph_node),
    Route("/api/memories", memory_list),
    Route("/api/memories/{memory_id}", memory_get),
    Route("/api/memories/{memory_id}", memory_update, methods=["PATCH"]),
    Route("/api/memories/{memory_id}/retire", memory_retire, methods=["POST"]),
    Route("/api/memories/{memory_id}/supersede", memory_supersede, methods=["POST"]),
    Route("/api/brief", brief, methods=["POST"]),
    Route("/api/bench", bench_results),
]
