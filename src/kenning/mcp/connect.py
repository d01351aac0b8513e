"""Client configs: where each coding client reads MCP servers from, and kenning's entry in it.

`plan()` is pure: it decides the file, the format and the entry. `apply()` merges the entry into
the file: other servers and every other key are kept as they are, the old file is copied to
kenning's user dir first, and the result is checked (parsed again) before it replaces the file
atomically. A file kenning cannot read safely (JSON with comments, TOML it would have to rewrite)
is left alone, and the error carries the entry to paste by hand.

Formats and places (from each client's documentation, and checked with the real CLIs where they
run offline: Claude Code, Codex, Gemini CLI):

    claude-code  project .mcp.json · user ~/.claude.json · local ~/.claude.json projects[root]
                 {"mcpServers": {name: {"type": "stdio", "command", "args", "env"}}}
    codex        user ~/.codex/config.toml ($CODEX_HOME)   [mcp_servers.name] command, args
    gemini       project .gemini/settings.json · user ~/.gemini/settings.json
                 {"mcpServers": {name: {"command", "args"}}}
    cursor       project .cursor/mcp.json · user ~/.cursor/mcp.json
                 {"mcpServers": {name: {"command", "args", "env"}}}
    vscode       project .vscode/mcp.json · user <VS Code user dir>/mcp.json
                 {"servers": {name: {"type": "stdio", "command", "args"}}}
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kenning.config import user_home
from kenning.errors import KenningError

CLIENTS = ("claude-code", "codex", "gemini", "cursor", "vscode")
SCOPES: dict[str, tuple[str, ...]] = {
    "claude-code": ("project", "local", "user"),
    "codex": ("user",),
    "gemini": ("project", "user"),
    "cursor": ("project", "user"),
    "vscode": ("project", "user"),
}
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ConnectError(KenningError):
    """A client config kenning will not write; the message holds the entry to add by hand."""


@dataclass(frozen=True)
class Plan:
    """One entry to put in one client's config file."""

    client: str
    scope: str
    path: Path
    keys: tuple[str, ...]  # JSON: the object holding the servers; TOML: the table prefix
    name: str
    entry: dict[str, Any]
    notes: tuple[str, ...] = field(default=())

    @property
    def is_toml(self) -> bool:
        return self.path.suffix == ".toml"

    @property
    def snippet(self) -> str:
        """The entry as it appears in the file (what `--print` shows)."""
        if self.is_toml:
            return toml_table(self.keys + (self.name,), self.entry)
        node: dict[str, Any] = {self.name: self.entry}
        for key in reversed(self.keys):
            node = {key: node}
        return json.dumps(node, indent=2, ensure_ascii=False)


def launch_command(project: Path) -> tuple[str, list[str]]:
    """(command, args) that start this kenning's stdio server for `project`.

    The `kenning` script next to the running interpreter when there is one (a venv, pipx, uv
    tool), else the interpreter with `-m kenning`; both absolute, so the client needs no PATH.
    """
    bindir = Path(sys.executable).parent
    script = bindir / ("kenning.exe" if os.name == "nt" else "kenning")
    tail = ["-C", str(project), "mcp"]
    if script.is_file() and os.access(script, os.X_OK):
        return str(script.absolute()), tail
    return str(Path(sys.executable).absolute()), ["-m", "kenning", *tail]


def vscode_user_dir() -> Path:
    """VS Code's user settings folder on this platform."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Code" / "User"
    if sys.platform == "win32":
        return (
            Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "Code" / "User"
        )
    config = os.environ.get("XDG_CONFIG_HOME")
    return (Path(config) if config else Path.home() / ".config") / "Code" / "User"


def config_location(client: str, scope: str, project: Path) -> tuple[Path, tuple[str, ...]]:
    """(file, keys to the servers object) of `client`'s MCP config at `scope`."""
    home = Path.home()
    if client == "claude-code":
        if scope == "project":
            return project / ".mcp.json", ("mcpServers",)
        if scope == "local":
            return home / ".claude.json", ("projects", str(project), "mcpServers")
        return home / ".claude.json", ("mcpServers",)
    if client == "codex":
        codex_home = os.environ.get("CODEX_HOME")
        folder = Path(codex_home) if codex_home else home / ".codex"
        return folder / "config.toml", ("mcp_servers",)
    if client == "gemini":
        base = project if scope == "project" else home
        return base / ".gemini" / "settings.json", ("mcpServers",)
    if client == "cursor":
        base = project if scope == "project" else home
        return base / ".cursor" / "mcp.json", ("mcpServers",)
    if client == "vscode":
        folder = project / ".vscode" if scope == "project" else vscode_user_dir()
        return folder / "mcp.json", ("servers",)
    raise ConnectError(f"unknown client {client!r}; choose from {', '.join(CLIENTS)}")


def _client(name: str) -> str:
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    aliases = {
        "claude": "claude-code",
        "code": "vscode",
        "vs-code": "vscode",
        "gemini-cli": "gemini",
    }
    key = aliases.get(key, key)
    if key not in CLIENTS:
        raise ConnectError(f"unknown client {name!r}; choose from {', '.join(CLIENTS)}")
    return key


def plan(
    client: str,
    project: Path,
    *,
    scope: str | None = None,
    name: str = "kenning",
    http: tuple[str, str] | None = None,
) -> Plan:
    """Decide where and what to write for `client` (nothing is read or written).

    With `http` = (url, token) the entry points at a running `kenning mcp --http` and sends the
    bearer token; otherwise it launches this kenning over stdio for `project`.

    Raises:
        ConnectError: unknown client, a scope the client does not have, a bad server name or URL.
    """
    client = _client(client)
    scope = scope or SCOPES[client][0]
    if scope not in SCOPES[client]:
        raise ConnectError(
            f"{client} has no {scope} scope; use --scope {' or '.join(SCOPES[client])}"
        )
    if not _NAME.match(name):
        raise ConnectError(f"server name {name!r}: use letters, digits, '-' and '_'")
    project = project.absolute()
    path, keys = config_location(client, scope, project)
    notes: list[str] = []
    entry = http_entry(client, *http) if http else stdio_entry(client, project)
    if http and scope == "project":
        notes.append(f"{path.name} now holds the bearer token: keep it out of git")
    if scope == "user" and not http:
        notes.append(f"a user-level entry serves {project} in every folder you open")
    if client == "claude-code" and scope == "project":
        notes.append(
            "Claude Code asks once to approve servers from .mcp.json; the entry holds this "
            "machine's paths, so keep .mcp.json out of git or use --scope local"
        )
    if client == "gemini" and scope == "project":
        notes.append("Gemini CLI starts project servers only in a trusted folder (/permissions)")
    return Plan(client, scope, path, keys, name, entry, tuple(notes))


def stdio_entry(client: str, project: Path) -> dict[str, Any]:
    """The entry that launches this kenning's stdio server for `project`."""
    command, args = launch_command(project)
    if client == "claude-code":
        return {"type": "stdio", "command": command, "args": args, "env": {}}
    if client == "vscode":
        return {"type": "stdio", "command": command, "args": args}
    if client == "cursor":
        return {"command": command, "args": args, "env": {}}
    return {"command": command, "args": args}


def http_entry(client: str, url: str, token: str) -> dict[str, Any]:
    """The entry for a streamable HTTP server at `url` that wants `token`.

    Raises:
        ConnectError: the URL is not http(s)://host[:port]/path.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or not parts.path:
        raise ConnectError(f"{url!r} is not a server URL like http://127.0.0.1:8765/mcp")
    auth = {"Authorization": f"Bearer {token}"}
    if client == "codex":
        return {"url": url, "http_headers": auth}
    if client == "cursor":
        return {"url": url, "headers": auth}
    if client == "gemini":
        return {"url": url, "type": "http", "headers": auth}
    return {"type": "http", "url": url, "headers": auth}


# ---- applying --------------------------------------------------------------------------------


def apply(plan: Plan) -> str:
    """Merge the planned entry into its file; returns what happened, in a sentence.

    Raises:
        ConnectError: the file cannot be read or merged safely (nothing is written then).
    """
    old = _read_text(plan.path)
    new = merge_toml(old, plan) if plan.is_toml else merge_json(old, plan)
    if new == old:
        return f"{plan.name} is already configured for {plan.client} in {plan.path}"
    backup = _backup(plan) if old is not None else None
    _write(plan.path, new)
    verb = "Updated" if old is not None and plan.name in _servers(old, plan) else "Added"
    done = f"{verb} {plan.name} in {plan.path} ({plan.client}, {plan.scope} scope)"
    return done + (f"; the previous file is saved as {backup}" if backup else "")


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConnectError(f"cannot read {path}: {exc}") from None


def _load_json(text: str | None, plan: Plan) -> dict[str, Any]:
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        raise ConnectError(
            f"{plan.path} is not plain JSON (comments or trailing commas?), so kenning leaves "
            f"it alone; add this entry by hand:\n{plan.snippet}"
        ) from None
    if not isinstance(data, dict):
        raise ConnectError(
            f"{plan.path} does not hold a JSON object; add this by hand:\n{plan.snippet}"
        )
    return data


def _servers(text: str | None, plan: Plan) -> dict[str, Any]:
    """The servers table currently in `text` (empty when there is none)."""
    if plan.is_toml:
        try:
            node: Any = tomllib.loads(text or "")
        except tomllib.TOMLDecodeError:
            return {}
    else:
        try:
            node = _load_json(text, plan)
        except ConnectError:
            return {}
    for key in plan.keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def merge_json(text: str | None, plan: Plan) -> str:
    """`text` with the planned entry set; every other key kept in place."""
    data = _load_json(text, plan)
    node = data
    for key in plan.keys:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ConnectError(
                f"{plan.path}: {key!r} is not an object; add this entry by hand:\n{plan.snippet}"
            )
        node = child
    if node.get(plan.name) == plan.entry and text is not None:
        return text
    node[plan.name] = plan.entry
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value), ensure_ascii=False)


def toml_table(keys: tuple[str, ...], entry: dict[str, Any]) -> str:
    """One TOML table (`[a.b]` and its key = value lines)."""
    lines = ["[" + ".".join(_toml_key(k) for k in keys) + "]"]
    lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


_HEADER = re.compile(r"^\s*\[")


def _header_keys(line: str) -> tuple[str, ...] | None:
    """The key path of a `[table]` header line (None for `[[arrays]]` and non-headers)."""
    stripped = line.strip()
    if not stripped.startswith("[") or stripped.startswith("[["):
        return None
    try:
        node: Any = tomllib.loads(stripped)
    except tomllib.TOMLDecodeError:
        return None
    keys: list[str] = []
    while isinstance(node, dict) and len(node) == 1:
        key, node = next(iter(node.items()))
        keys.append(key)
    return tuple(keys)


def merge_toml(text: str | None, plan: Plan) -> str:
    """`text` with the planned table replacing any old one of that name; the rest untouched."""
    ours = plan.keys + (plan.name,)
    block = toml_table(ours, plan.entry)
    out: list[str] = []
    skipping = False
    placed = False
    for line in (text or "").splitlines(keepends=True):
        if _HEADER.match(line):
            keys = _header_keys(line)
            skipping = keys is not None and keys[: len(ours)] == ours
            if skipping and not placed:
                out.append(block + "\n")
                placed = True
        if not skipping:
            out.append(line)
    result = "".join(out)
    if not placed:
        if result and not result.endswith("\n"):
            result += "\n"
        result += ("\n" if result.strip() else "") + block
    before = _parse_toml(text or "", plan)
    after = _parse_toml(result, plan, merged=True)
    others_before = {k: v for k, v in _servers_in(before, plan).items() if k != plan.name}
    others_after = {k: v for k, v in _servers_in(after, plan).items() if k != plan.name}
    rest_before = {k: v for k, v in before.items() if k != plan.keys[0]}
    rest_after = {k: v for k, v in after.items() if k != plan.keys[0]}
    if others_before != others_after or rest_before != rest_after:
        raise ConnectError(
            f"merging into {plan.path} would change other settings, so kenning leaves it "
            f"alone; add this table by hand:\n{block}"
        )
    if _servers_in(after, plan).get(plan.name) != plan.entry:
        raise ConnectError(f"{plan.path} defines {plan.name} another way; add by hand:\n{block}")
    if text is not None and _servers_in(before, plan).get(plan.name) == plan.entry:
        return text
    return result


def _parse_toml(text: str, plan: Plan, merged: bool = False) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        what = "the merged file" if merged else str(plan.path)
        raise ConnectError(
            f"{what} is not valid TOML ({exc}); add this table by hand:\n"
            + toml_table(plan.keys + (plan.name,), plan.entry)
        ) from None


def _servers_in(data: dict[str, Any], plan: Plan) -> dict[str, Any]:
    node: Any = data
    for key in plan.keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _backup(plan: Plan) -> Path:
    return backup_file(plan.path, f"{plan.client}-{plan.scope}")


def backup_file(path: Path, label: str) -> Path:
    """Copy `path` into kenning's user dir (backups/connect/) before it is changed."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = user_home() / "backups" / "connect"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{stamp}-{label}-{path.name.lstrip('.')}"
    shutil.copy2(path, target)
    return target


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600 if path.name == ".claude.json" else 0o644
    tmp = path.with_name(f".{path.name}.kenning-{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# ---- Claude Code's prompt hook -------------------------------------------------------------

HOOK_EVENT = "UserPromptSubmit"


def claude_settings_path(scope: str, project: Path) -> Path:
    """Claude Code's settings file for hooks at `scope` (project, local or user)."""
    if scope == "user":
        return Path.home() / ".claude" / "settings.json"
    name = "settings.local.json" if scope == "local" else "settings.json"
    return project / ".claude" / name


def hook_command(project: Path) -> str:
    """The shell command Claude Code runs on each prompt: `kenning -C <project> hook prompt`."""
    command, args = launch_command(project.absolute())
    argv = [command, *args[:-1], "hook", "prompt"]  # args end with "mcp"
    return " ".join(shlex.quote(part) for part in argv)


def _is_kenning_hook(hook: Any) -> bool:
    command = hook.get("command") if isinstance(hook, dict) else None
    return isinstance(command, str) and "kenning" in command and command.endswith(" hook prompt")


def merge_claude_hook(text: str | None, path: Path, command: str) -> str:
    """Claude settings `text` with kenning's prompt hook (replacing an older one of kenning's).

    Raises:
        ConnectError: the file is not a plain JSON object, or `hooks` has an unexpected shape.
    """
    group = {"hooks": [{"type": "command", "command": command, "timeout": 30}]}
    by_hand = json.dumps({"hooks": {HOOK_EVENT: [group]}}, indent=2)
    try:
        data = json.loads(text) if text and text.strip() else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ConnectError(f"{path} is not a plain JSON object; add this by hand:\n{by_hand}")
    hooks = data.setdefault("hooks", {})
    groups = hooks.setdefault(HOOK_EVENT, []) if isinstance(hooks, dict) else None
    if not isinstance(groups, list):
        raise ConnectError(f"{path}: hooks.{HOOK_EVENT} is not a list; add by hand:\n{by_hand}")
    if any(
        isinstance(g, dict) and any(h == group["hooks"][0] for h in g.get("hooks") or [])
        for g in groups
    ):
        return text or ""
    kept = []
    for g in groups:
        if isinstance(g, dict) and isinstance(g.get("hooks"), list):
            g = {**g, "hooks": [h for h in g["hooks"] if not _is_kenning_hook(h)]}
            if not g["hooks"]:
                continue
        kept.append(g)
    hooks[HOOK_EVENT] = [*kept, group]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def apply_claude_hook(project: Path, scope: str) -> str:
    """Add kenning's prompt hook to Claude Code's settings at `scope`; what happened.

    Raises:
        ConnectError: a scope Claude has no settings file for, or a file kenning cannot merge.
    """
    if scope not in SCOPES["claude-code"]:
        raise ConnectError(f"claude-code has no {scope} scope")
    path = claude_settings_path(scope, project)
    old = _read_text(path)
    new = merge_claude_hook(old, path, hook_command(project))
    if old is not None and new == old:
        return f"the kenning prompt hook is already in {path}"
    backup = backup_file(path, f"claude-code-hook-{scope}") if old is not None else None
    _write(path, new)
    done = f"Added the kenning prompt hook ({HOOK_EVENT}) to {path}"
    return done + (f"; the previous file is saved as {backup}" if backup else "")


# ---- listing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Configured:
    """What one client config file says about the kenning server."""

    client: str
    scope: str
    path: Path
    project: str | None  # the -C project of the entry, None when the entry is absent
    problem: str | None = None

    def line(self, here: Path) -> str:
        if self.problem:
            state = f"unreadable: {self.problem}"
        elif self.project is None:
            state = "-"
        else:
            state = "this project" if self.project == str(here) else f"serves {self.project}"
        return f"{self.client:<12} {self.scope:<8} {state:<24} {self.path}"


def _project_of(entry: Any) -> str:
    if isinstance(entry, dict) and isinstance(entry.get("url"), str):
        return str(entry["url"])
    args = entry.get("args") if isinstance(entry, dict) else None
    if isinstance(args, list) and "-C" in args[:-1]:
        return str(args[args.index("-C") + 1])
    return "?"


def configured(project: Path, *, name: str = "kenning") -> list[Configured]:
    """Every client config location and whether it holds the `name` server."""
    rows: list[Configured] = []
    project = project.absolute()
    for client in CLIENTS:
        for scope in SCOPES[client]:
            spec = plan(client, project, scope=scope, name=name)
            try:
                text = _read_text(spec.path)
                if spec.is_toml and text is not None:
                    _parse_toml(text, spec)
                elif text is not None:
                    _load_json(text, spec)
            except ConnectError as exc:
                rows.append(Configured(client, scope, spec.path, None, str(exc).split("\n")[0]))
                continue
            entry = _servers(text, spec).get(name)
            rows.append(Configured(client, scope, spec.path, _project_of(entry) if entry else None))
    return rows


def status(project: Path, *, name: str = "kenning") -> list[str]:
    """`connect --list` lines: client, scope, what the entry serves, the file."""
    project = project.absolute()
    head = f"{'client':<12} {'scope':<8} {'kenning':<24} file"
    return [head] + [row.line(project) for row in configured(project, name=name)]
