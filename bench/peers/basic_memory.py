"""Drive basic-memory (the peer) for kenning's benchmark: a JSON-lines server over stdin/stdout.

Runs inside basic-memory's own venv (Python >= 3.12; `sh bench/peers/setup_basic_memory.sh`
makes it), never inside kenning's. It calls basic-memory's own MCP tool functions in-process
(`create_memory_project`, `write_note`, `delete_note`, `search_notes`), the same code its MCP
server runs, without the stdio framing; `kenning.bench.peers.BasicMemory` starts it and talks
to it. Search is its text (FTS) mode: its semantic mode needs an embedding model downloaded
from a hub and SQLite extension loading, neither of which works on this machine.

One request per line, one JSON answer per line:

    {"op": "project", "name": "conv-a"}
    {"op": "write", "project": "conv-a", "notes": [{"title": "D1:3", "content": "...",
     "directory": "turns"}], "overwrite": false}
    {"op": "delete", "project": "conv-a", "identifiers": ["turns/d1-3"]}
    {"op": "search", "project": "conv-a", "query": "...", "k": 10}
    {"op": "quit"}

HOME must point at a scratch folder (basic-memory keeps its config and database under it).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

# This file is named like the package it drives: keep its folder off the import path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]


async def _settle(before: set[asyncio.Task[Any]], timeout: float = 30.0) -> None:
    """Let the background indexing tasks a write started finish before the next search.

    Tasks that were running before the write (basic-memory keeps some for its lifetime) are
    not waited for.
    """
    deadline = time.monotonic() + timeout
    me = asyncio.current_task()
    while time.monotonic() < deadline:
        pending = [
            t for t in asyncio.all_tasks() if t is not me and t not in before and not t.done()
        ]
        if not pending:
            return
        await asyncio.sleep(0.01)


def _quiet_logs() -> None:
    """basic-memory logs every step at DEBUG through loguru: that costs it time, so keep WARNING."""
    try:
        from loguru import logger
    except ImportError:  # pragma: no cover - basic-memory depends on loguru
        return
    logger.remove()
    logger.add(sys.stderr, level=os.environ.get("BASIC_MEMORY_LOG_LEVEL", "WARNING"))


async def serve() -> None:
    from basic_memory.mcp.tools import (
        create_memory_project,
        delete_note,
        search_notes,
        write_note,
    )

    _quiet_logs()
    root = Path(os.environ.get("BASIC_MEMORY_BENCH_ROOT", Path.home() / "projects"))
    loop = asyncio.get_running_loop()
    out = sys.stdout
    sys.stdout = sys.stderr  # anything the peer prints must not corrupt the answers
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        request: dict[str, Any] = json.loads(line)
        op = request.get("op")
        started = time.perf_counter()
        answer: dict[str, Any] = {"ok": True}
        try:
            if op == "quit":
                out.write(json.dumps(answer) + "\n")
                out.flush()
                return
            if op == "project":
                await create_memory_project(
                    project_name=request["name"], project_path=str(root / request["name"])
                )
            elif op == "write":
                before = set(asyncio.all_tasks())
                errors: list[str] = []
                for note in request["notes"]:
                    try:
                        await write_note(
                            title=note["title"],
                            content=note["content"],
                            directory=note.get("directory", "notes"),
                            project=request["project"],
                            overwrite=bool(request.get("overwrite")),
                        )
                    except Exception as exc:  # noqa: BLE001 - one bad note must not end the run
                        errors.append(f"{note['title']}: {type(exc).__name__}: {exc}"[:300])
                await _settle(before)
                answer["errors"] = errors
            elif op == "delete":
                before = set(asyncio.all_tasks())
                failed: list[str] = []
                for identifier in request["identifiers"]:
                    try:
                        await delete_note(identifier=identifier, project=request["project"])
                    except Exception as exc:  # noqa: BLE001 - a missing note is not fatal
                        failed.append(f"{identifier}: {type(exc).__name__}: {exc}"[:300])
                await _settle(before)
                answer["errors"] = failed
            elif op == "search":
                found = await search_notes(
                    query=request["query"],
                    project=request["project"],
                    page_size=int(request.get("k", 10)),
                    search_type="text",
                    output_format="json",
                )
                results = found.get("results", []) if isinstance(found, dict) else []
                answer["results"] = [
                    {
                        "title": r.get("title"),
                        "content": r.get("content") or "",
                        "permalink": r.get("permalink"),
                    }
                    for r in results
                ]
                if not isinstance(found, dict):
                    answer["raw"] = str(found)[:500]
            else:
                answer = {"ok": False, "error": f"unknown op {op!r}"}
        except Exception as exc:  # noqa: BLE001 - report the peer's failure, keep serving
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:1000]}
        answer["seconds"] = round(time.perf_counter() - started, 4)
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    asyncio.run(serve())
