"""Two clients writing at once through two servers on the same project: nothing is lost."""

from __future__ import annotations

from pathlib import Path

import anyio
import mcp_types as types
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcphelp import kenning_command, server_env

from kenning.memory import MemoryStore
from kenning.workspace import Workspace

PER_CLIENT = 15


WORDS = """anchor bramble cobalt dahlia ember falcon glacier harbor iris juniper kestrel lantern
meadow nickel orchid pebble quartz raven saffron thistle umber velvet willow xenon yarrow
zephyr acorn birch cinder delta egret fennel garnet heron indigo jasper kelp lichen maple
nutmeg onyx pine quill reed sable tansy urchin violet walnut yew zinnia alder basil cedar
dune elm fig gorse hazel ivy jade kale lotus myrtle nettle oak poppy quince rowan sorrel
tulip umbra vetch wren yucca zest amber beryl coral dusk ebony flint gypsum hemlock iron
jet krill larch marble nova opal pearl quoin rust slate topaz ultra vine wax yolk zircon
agate bronze chalk drift""".split()


def text_for(client: int, n: int) -> str:
    # Three words no other memory uses, so no two are near-duplicates of each other.
    i = (client - 1) * PER_CLIENT + n
    return "Remember " + " ".join(WORDS[3 * i : 3 * i + 3])


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
            hits = ws.search(text_for(client, 7), "fact", 5)
            assert written[client][7] in [h.memory_id for h in hits]
    finally:
        ws.close()
