"""kenning over MCP: the server (stdio and streamable HTTP) and the client configs that reach it.

    service.py    the tools' behaviour on a Workspace: validation, token caps, dedupe (no SDK)
    server.py     the MCPServer: one decorated function per tool, resources, the brief prompt
    handshake.py  stdio start-up that answers `initialize` while the SDK is still importing
    security.py   the HTTP guard: bearer token, Origin/Host checks, body size limit
    connect.py    writes each client's config entry (Claude Code, Codex, Gemini, Cursor, VS Code)
    commands.py   the `kenning mcp` and `kenning connect` click commands

This package must stay cheap to import: `kenning --help` looks it up, and the stdio server has to
answer `initialize` before the SDK (about a second of imports) is loaded.
"""

from __future__ import annotations
