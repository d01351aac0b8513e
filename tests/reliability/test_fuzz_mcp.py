"""Every MCP tool with wrong types, missing and extra arguments: a result or a clear tool error,
never a crash, a hang or a file written outside the store. 1,200 seeded cases over the SDK's
in-memory client (the real server object, the real tools)."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from kenning.mcp.server import build_server
from kenning.mcp.service import KenningService

TOOLS: dict[str, dict[str, Any]] = {
    "get_context": {
        "request": "add retries to the webhook sender",
        "files": ["src/x.py"],
        "budget": 800,
    },
    "remember": {
        "text": "Deploys freeze on Fridays",
        "kind": "rule",
        "title": "t",
        "scope": ["src/**"],
        "tags": ["ops"],
    },
    "record_decision": {
        "title": "Use Postgres",
        "decision": "Postgres for the queue",
        "reasons": ["transactions"],
        "alternatives_rejected": ["Celery"],
    },
    "search": {"query": "ledger", "kind": "decision", "limit": 5},
    "get": {"id": "money-is-integer-cents-b41a"},
    "forget": {"id": "no-such-memory-0000"},
    "list_rules": {"path": "src/tidewater/payments/psp.py"},
    "route": {"request": "who is the client?"},
}
INTERNAL = (
    "TypeError",
    "AttributeError",
    "KeyError",
    "IndexError",
    "NoneType",
    "object has no attribute",
    "sqlite3.",
    "unhashable",
)
ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    10**12,
    3.5,
    True,
    "",
    " ",
    "x" * 5000,
    "../../etc/passwd",
    "\x00\x01",
    "é" * 50,
    [],
    [1, 2],
    ["a", None],
    {},
    {"nested": {"deep": [1]}},
    "kenning://memories/../x",
]


def _case(rng: random.Random) -> tuple[str, dict[str, Any]]:
    tool = rng.choice(sorted(TOOLS))
    args = dict(TOOLS[tool])
    for key in list(args):
        roll = rng.random()
        if roll < 0.25:
            del args[key]
        elif roll < 0.6:
            args[key] = rng.choice(ODD_VALUES)
    if rng.random() < 0.3:
        args[rng.choice(["extra", "unknown_arg", "__proto__", "budget_tokens"])] = rng.choice(
            ODD_VALUES
        )
    return tool, args


def _snapshot(root: Path) -> dict[str, float]:
    return {
        str(p.relative_to(root)): p.stat().st_mtime
        for p in root.rglob("*")
        if p.is_file() and ".kenning" not in p.relative_to(root).parts
    }


def test_every_tool_survives_malformed_arguments(sample: Path, fuzz_cases: Counter[str]) -> None:
    before = _snapshot(sample)
    service = KenningService(sample, vectors=False)
    server = build_server(service)
    rng = random.Random(20261126)
    outcomes = {"ok": 0, "error": 0}

    async def main() -> None:
        async with Client(server, read_timeout_seconds=120) as client:
            for _ in range(1200):
                tool, args = _case(rng)
                fuzz_cases["cases"] += 1
                with anyio.fail_after(60):
                    result = await client.call_tool(tool, args)
                text = " ".join(getattr(c, "text", "") for c in result.content)
                if result.is_error:
                    outcomes["error"] += 1
                    fuzz_cases["tool errors"] += 1
                    assert text.strip(), f"{tool}({args}) failed with no message"
                    assert "Traceback" not in text
                    # A clear error: the SDK's argument validation or kenning's own message,
                    # never a Python exception leaking from inside a tool.
                    leaked = (
                        [] if "validation error" in text else [n for n in INTERNAL if n in text]
                    )
                    assert not leaked, f"{tool}({args!r:.200}) leaked {leaked}: {text[:300]}"
                else:
                    outcomes["ok"] += 1

    anyio.run(main)
    assert outcomes["ok"] > 100 and outcomes["error"] > 100, outcomes
    assert _snapshot(sample) == before, "a tool wrote outside .kenning/"
    stray = [
        p
        for p in (sample / ".kenning").rglob("*")
        if p.is_file()
        and not str(p.relative_to(sample / ".kenning")).startswith(
            ("memories", "index", "audit", "config", ".gitignore", "demo-requests")
        )
    ]
    assert stray == []
