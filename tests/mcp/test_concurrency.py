"""Two clients writing at once through two servers on the same project: nothing is lost."""

from __future__ import annotations

from pathlib import Path

import anyio
import mcp_types as types
from mcp.client.stdio import StdioServerParameters
from mcphelp import kenning_command, server_env

from kenning.memory import MemoryStore
from kenning.workspace import Workspace
from mcp import Client

PER_CLIENT = 15


def text_for(client: int, n: int) -> str:
    # Three words of its own in each memory, so no two are near-duplicates of each other.
    tag = f"{client}x{n}"
    return f"Gauge g{tag} in hall h{tag} reads level l{tag}"


def test_two_servers_writing_at_once_lose_nothing(project: Path) -> None:
    command, *args = kenning_command()
    params = StdioServerParameters(
        command=command, args=[*args, "-C", str(project), "mcp", "--no-vectors"], env=server_env()
    )
    written: dict[int, list[str]] = {1: [], 2: []}

    async def writer(client: int) -> None:
        async with Client(
            params,
            mode="legacy",
            client_info=types.Implementation(name=f"writer-{client}", version="1"),
            read_timeout_seconds=180,
        ) as c:
            for n in range(PER_CLIENT):
                result = await c.call_tool(
                    "remember",
                    {"text": text_for(client, n), "kind": "fact", "tags": [f"c{client}"]},
                )
                assert not result.is_error, result.content
                assert result.structured_content is not None
                assert result.structured_content["status"] == "created"
                written[client].append(result.structured_content["id"])

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(writer, 1)
            tg.start_soon(writer, 2)

    anyio.run(main)
    ids = written[1] + written[2]
    assert len(set(ids)) == 2 * PER_CLIENT
    store = MemoryStore(project / ".kenning" / "memories", None)
    facts = {m.id: m for m in store.all("fact")}
    assert not store.problems
    for client in (1, 2):
        for n, memory_id in enumerate(written[client]):
            memory = facts[memory_id]
            assert memory.text == text_for(client, n)
            assert memory.source == f"writer-{client}"
    ws = Workspace.open(project)
    try:
        ws.ensure_index(embed=False)
        for client in (1, 2):
            hits = ws.search(f"gauge g{client}x7 hall h{client}x7", "fact", 5)
            assert written[client][7] in [h.memory_id for h in hits]
    finally:
        ws.close()
