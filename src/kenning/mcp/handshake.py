"""stdio serving, with `initialize` answered while the MCP SDK is still importing.

Importing the SDK takes about a second on a small machine (its pydantic models), and clients
wait on `initialize` before anything else. The answer to `initialize` is fixed for this server: the
capabilities, the server info and the instructions below, and the protocol version negotiated
the way the SDK does it (the requested one when supported, else the newest). So a thread answers
it at once, while the main thread imports the SDK; then the SDK serves the wire, and it also sees
the original `initialize` (its session needs the client's info), and its own answer, which
the client already has, is dropped.

Guard rails: the early answer is given only to a well-formed `initialize` asking for a protocol
version listed here (anything else waits for the SDK, as without this module); a test pins the
early answer to the SDK's own, byte for byte after parsing; at run time a difference is logged.
`KENNING_MCP_FAST_HANDSHAKE=0` turns it off.

While serving, fd 0 reads /dev/null and fd 1 writes to stderr, so nothing a library prints can
corrupt the wire; the wire itself uses private duplicates of the original descriptors.
"""

from __future__ import annotations

import io
import json
import logging
import os
import threading
from typing import IO, TYPE_CHECKING, Any, cast

from kenning import __version__

if TYPE_CHECKING:
    from kenning.mcp.service import KenningService

log = logging.getLogger("kenning.mcp")

SERVER_NAME = "kenning"
SERVER_TITLE = "kenning: local project context"
INSTRUCTIONS = (
    "kenning holds this project's context: code, decisions, rules, preferences, people and "
    "terms, ranked for each request and cut to a token budget. Call get_context with the user's "
    "request before you plan or edit code. When the user states a decision, a rule, a "
    "preference or a fact worth keeping, record it with record_decision or remember so every "
    "tool sees it next time. Use search and get to look something up, list_rules before "
    "editing a file, capture to propose memories from a finished session, and route to see "
    "how kenning read a request."
)
# The handshake-era versions of the SDK this was checked against (mcp 2.3, mcp_types.version).
PROTOCOL_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
MAX_FIRST_LINE = 1 << 20


def initialize_result(requested: str) -> dict[str, Any]:
    """The `initialize` result this server gives for a requested protocol version."""
    version = requested if requested in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[-1]
    return {
        "capabilities": {
            "prompts": {"listChanged": False},
            "resources": {"listChanged": False, "subscribe": False},
            "tools": {"listChanged": False},
        },
        "instructions": INSTRUCTIONS,
        "protocolVersion": version,
        "serverInfo": {"name": SERVER_NAME, "title": SERVER_TITLE, "version": __version__},
    }


def early_answer(line: bytes) -> tuple[Any, dict[str, Any]] | None:
    """(request id, result) when `line` is an `initialize` this module may answer itself."""
    try:
        message = json.loads(line)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("method") != "initialize":
        return None
    request_id = message.get("id")
    params = message.get("params")
    if message.get("jsonrpc") != "2.0" or not isinstance(request_id, int | str):
        return None
    if not isinstance(params, dict) or not isinstance(params.get("capabilities"), dict):
        return None
    info = params.get("clientInfo")
    if not isinstance(info, dict) or not all(
        isinstance(info.get(k), str) for k in ("name", "version")
    ):
        return None
    requested = params.get("protocolVersion")
    if requested not in PROTOCOL_VERSIONS:
        return None
    return request_id, initialize_result(requested)


class WireIn(io.RawIOBase):
    """The client's byte stream: bytes already read (`prefix`) first, then the descriptor."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd
        self.prefix = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self.prefix:
            n = min(len(view), len(self.prefix))
            view[:n] = self.prefix[:n]
            self.prefix = self.prefix[n:]
            return n
        data = os.read(self.fd, len(view))
        view[: len(data)] = data
        return len(data)

    def first_line(self) -> bytes:
        """Read up to the first newline (kept in `prefix`, so it is read again later)."""
        while b"\n" not in self.prefix and len(self.prefix) < MAX_FIRST_LINE:
            data = os.read(self.fd, 65536)
            if not data:
                break
            self.prefix += data
        return self.prefix.split(b"\n", 1)[0]


class WireOut(io.TextIOBase):
    """Lines to the client; drops the SDK's answer to an `initialize` answered early."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd
        self._lock = threading.Lock()
        self.answered: tuple[Any, dict[str, Any]] | None = None

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.answered is not None and self._is_answer_again(text):
            return len(text)
        return self.send(text)

    def send(self, text: str) -> int:
        """Write `text` to the client as it is."""
        data = text.encode("utf-8")
        with self._lock:
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]
        return len(text)

    def _is_answer_again(self, text: str) -> bool:
        assert self.answered is not None
        request_id, sent = self.answered
        try:
            message = json.loads(text)
        except ValueError:
            return False
        if not isinstance(message, dict) or message.get("id") != request_id:
            return False
        if "result" not in message and "error" not in message:
            return False
        self.answered = None
        if message.get("result") != sent:
            log.warning(
                "the SDK's initialize answer differs from the early one; set "
                "KENNING_MCP_FAST_HANDSHAKE=0 and report it: %s",
                text.strip()[:500],
            )
        return True


class StdioWire:
    """Private copies of fd 0 and 1 for the protocol; the real descriptors are neutralised."""

    def __init__(self) -> None:
        self.in_fd = os.dup(0)
        self.out_fd = os.dup(1)
        os.dup2(2, 1)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        self.wire_in = WireIn(self.in_fd)
        self.wire_out = WireOut(self.out_fd)
        self._early: threading.Thread | None = None

    def answer_initialize_early(self) -> None:
        """Start the thread that answers `initialize` before the SDK is loaded."""

        def run() -> None:
            answer = early_answer(self.wire_in.first_line())
            if answer is None:
                return
            request_id, result = answer
            reply = {"jsonrpc": "2.0", "id": request_id, "result": result}
            self.wire_out.send(json.dumps(reply, separators=(",", ":")) + "\n")
            self.wire_out.answered = answer

        self._early = threading.Thread(target=run, name="kenning-handshake", daemon=True)
        self._early.start()

    def streams(self) -> tuple[io.TextIOWrapper, WireOut]:
        """Text streams for the SDK, once the early answer (if any) is out."""
        if self._early is not None:
            self._early.join()
        reader = io.TextIOWrapper(
            io.BufferedReader(self.wire_in), encoding="utf-8", errors="replace"
        )
        return reader, self.wire_out


def serve_stdio(service: KenningService, wire: StdioWire | None = None) -> None:
    """Serve `service` over this process's stdin/stdout until the client closes stdin."""
    if wire is None:
        wire = StdioWire()
        if os.environ.get("KENNING_MCP_FAST_HANDSHAKE", "1") != "0":
            wire.answer_initialize_early()
    import anyio
    from mcp.server.stdio import stdio_server

    from kenning.mcp.server import build_server

    server = build_server(service, warm_after_first_request=True)
    lowlevel = server._lowlevel_server  # noqa: SLF001 - MCPServer.run_stdio_async without its fd claim
    reader, writer = wire.streams()

    async def main() -> None:
        stdout = anyio.wrap_file(cast("IO[str]", writer))
        async with stdio_server(anyio.wrap_file(reader), stdout) as (r, w):
            await lowlevel.run(r, w, lowlevel.create_initialization_options())

    anyio.run(main)
