"""Odd files and oversized requests: each is skipped with a reason or refused with a clear error.

A 100 MB file, a FIFO, symlink loops, names that are not UTF-8, 300 nested folders, files that
vanish or change between the scan and the read, 1 MB requests to the CLI and to every MCP tool.
No traceback, no hang, nothing written outside `.kenning/`. Everything runs through the real entry
points (CliRunner, the SDK's in-memory client, `Workspace.index` with its progress callback).
"""

from __future__ import annotations

import json
import os
import random
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner, Result
from mcp import Client

from kenning.cli import cli
from kenning.mcp.server import build_server
from kenning.mcp.service import KenningService
from kenning.workspace import Workspace

MB = 1 << 20
DEPTH = 300


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"kenning {args[2:4]} raised {result.exception!r:.300}")
    assert "Traceback" not in result.output
    return result


def snapshot(root: Path) -> dict[bytes, tuple[int, int]]:
    """(mtime_ns, size) of everything outside .kenning/, without following links."""
    seen: dict[bytes, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(os.fsencode(root), followlinks=False):
        dirs[:] = [d for d in dirs if d != b".kenning"]
        for name in dirs + files:
            info = os.lstat(os.path.join(folder, name))
            seen[os.path.join(folder, name)] = (info.st_mtime_ns, info.st_size)
    return seen


def odd_repo(root: Path) -> None:
    """A small project holding every kind of odd file the scan meets."""
    root.mkdir()
    (root / "app.py").write_text("def ordinary():\n    return 1\n")
    with (root / "huge.log.txt").open("wb") as fh:  # 100 MB, sparse: costs no disk
        fh.truncate(100 * MB)
    os.mkfifo(root / "pipe.py")
    (root / "loop").mkdir()
    os.symlink("..", root / "loop" / "up")  # a folder loop
    os.symlink("self.py", root / "self.py")  # a link to itself
    os.symlink("pong.py", root / "ping.py")  # two links to each other
    os.symlink("ping.py", root / "pong.py")
    try:
        with open(os.fsencode(root) + b"/caf\xe9.py", "wb") as fh:
            fh.write(b"def latin1_name():\n    return 2\n")
        os.mkdir(os.fsencode(root) + b"/dir-\xff")
        with open(os.fsencode(root) + b"/dir-\xff/inside.py", "wb") as fh:
            fh.write(b"def inside_odd_folder():\n    return 3\n")
    except OSError:  # pragma: no cover - a file system that insists on UTF-8 names
        pytest.skip("this file system refuses names that are not UTF-8")
    deep = root.joinpath(*(f"d{n:03}" for n in range(DEPTH)))
    deep.mkdir(parents=True)
    (deep / "leaf.py").write_text("def deepest_leaf_function():\n    return 300\n")


@pytest.mark.timeout(120)
def test_odd_files_are_skipped_with_a_reason_and_the_rest_indexed(tmp_path: Path) -> None:
    root = tmp_path / "odd"
    odd_repo(root)
    before = snapshot(root)

    result = invoke("-C", str(root), "index", "--json", "--no-vectors")
    assert result.exit_code == 0, result.output[-500:]
    stats = json.loads(result.output)
    assert stats["problems"] == []
    assert stats["skipped"] == {
        "too large": 1,
        "not a regular file": 1,
        "symlinked folder": 1,
        "broken symlink": 3,
        "file name not UTF-8": 2,
    }
    assert stats["files_indexed"] == 2  # app.py and the leaf 300 folders down

    found = invoke("-C", str(root), "search", "deepest_leaf_function", "--json")
    assert found.exit_code == 0
    refs = [hit["ref"].rsplit(":", 1)[0] for hit in json.loads(found.output)]
    assert refs and refs[0].count("/") == DEPTH and refs[0].endswith("/leaf.py")
    leaf = refs[0]
    brief = invoke("-C", str(root), "brief", "where is the deepest leaf", "--file", leaf, "--json")
    assert brief.exit_code == 0 and json.loads(brief.output)["items"]

    doctor = invoke("-C", str(root), "doctor")
    assert doctor.exit_code == 0, doctor.output[-500:]
    assert "1 too large" in doctor.output and "2 file name not UTF-8" in doctor.output
    again = invoke("-C", str(root), "index", "--json", "--no-vectors")
    assert json.loads(again.output)["files_indexed"] == 0  # nothing re-read, nothing retried
    assert snapshot(root) == before


@pytest.mark.timeout(120)
def test_files_that_vanish_or_change_between_scan_and_read(tmp_path: Path) -> None:
    root = tmp_path / "shifting"
    root.mkdir()
    for n in range(100):
        (root / f"m{n:03}.py").write_text(f"def function_{n}():\n    return {n}\n")
    ws = Workspace.open(root)
    acted: list[int] = []

    def shift(stage: str, done: int, total: int) -> None:
        # Called while the indexer reads the scanned files: change what it has not read yet.
        if stage != "files" or acted:
            return
        acted.append(done)
        for n in range(60, 100):
            (root / f"m{n:03}.py").unlink()
        os.mkfifo(root / "m070.py")  # would block a plain open() for ever
        with (root / "m080.py").open("wb") as fh:  # grown to 100 MB: must not be read whole
            fh.truncate(100 * MB)
        (root / "m090.py").mkdir()

    tracemalloc.start()
    try:
        stats = ws.index(embed=False, progress=shift)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        ws.close()
    assert acted and acted[0] < 60
    assert stats.files_indexed == 60 and stats.problems == []
    assert dict(stats.skipped) == {
        "vanished or unreadable": 38,
        "not a regular file": 1,
        "too large": 1,
    }
    assert peak < 64 * MB, f"indexing allocated {peak / MB:.0f} MB at its peak"

    ws = Workspace.open(root)
    try:
        again = ws.index(embed=False)
        assert again.files_indexed == 0 and again.problems == []
        indexed = {p for (p,) in ws.db.execute("SELECT path FROM documents WHERE source='repo'")}
        assert indexed == {f"m{n:03}.py" for n in range(60)}
    finally:
        ws.close()


@pytest.mark.timeout(180)
def test_files_deleted_by_another_thread_while_indexing(tmp_path: Path) -> None:
    root = tmp_path / "churn"
    for n in range(1500):
        folder = root / f"pkg{n % 30:02}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{n:04}.py").write_text(f"def churn_{n}():\n    return {n}\n")
    files = sorted(root.rglob("*.py"))
    random.Random(9).shuffle(files)
    stop = threading.Event()

    def delete() -> None:
        for path in files[:1000]:
            if stop.is_set():
                return
            path.unlink()

    ws = Workspace.open(root)
    deleter = threading.Thread(target=delete)
    try:
        deleter.start()
        stats = ws.index(embed=False)
        stop.set()
        deleter.join()
        assert stats.problems == []
        assert set(stats.skipped) <= {"vanished or unreadable", "unreadable"}  # read or scan
        # Whatever the race left behind, the next run brings the index in step with the disk.
        ws.index(embed=False)
        indexed = {p for (p,) in ws.db.execute("SELECT path FROM documents WHERE source='repo'")}
        on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*.py")}
        assert indexed == on_disk
    finally:
        stop.set()
        deleter.join()
        ws.close()


def test_megabyte_requests_and_bad_bytes_on_the_command_line(sample: Path) -> None:
    before = snapshot(sample)
    big = "add retries to the webhook sender " * (MB // 34 + 1)
    assert invoke("-C", str(sample), "index", "--no-vectors").exit_code == 0

    brief = invoke("-C", str(sample), "brief", big, "--json")
    assert brief.exit_code == 0 and json.loads(brief.output)["items"]
    search = invoke("-C", str(sample), "search", big, "--json")
    assert search.exit_code == 0
    remember = invoke("-C", str(sample), "remember", big, "--kind", "note")
    assert remember.exit_code == 1 and "a memory holds at most 64,000" in remember.output
    tag = invoke("-C", str(sample), "remember", "Tagged note", "--kind", "note", "--tag", big)
    assert tag.exit_code == 1 and "the limit is 300" in tag.output

    # Bytes that are not UTF-8 (os hands them over as surrogate escapes).
    odd = "fix the caf\udce9 webhook \udcff"
    assert invoke("-C", str(sample), "brief", odd).exit_code == 0
    assert invoke("-C", str(sample), "search", odd).exit_code == 0
    refused = invoke("-C", str(sample), "remember", odd, "--kind", "note")
    assert refused.exit_code == 1 and "not UTF-8" in refused.output
    assert snapshot(sample) == before


MCP_BASE: dict[str, dict[str, Any]] = {
    "get_context": {"request": "add retries"},
    "remember": {"text": "A note to keep", "kind": "note"},
    "record_decision": {"title": "Use a queue", "decision": "Jobs go through the queue"},
    "search": {"query": "ledger"},
    "get": {"id": "money-is-integer-cents-b41a"},
    "forget": {"id": "no-such-memory-0000"},
    "list_rules": {},
    "route": {"request": "who owns payments?"},
    "capture": {"text": "We decided to keep the ledger in Postgres."},
}
MCP_STRING_ARGS = {
    "get_context": ["request", "files"],
    "remember": ["text", "kind", "title", "scope", "tags", "aliases", "supersedes", "files"],
    "record_decision": [
        "title",
        "decision",
        "reasons",
        "alternatives_rejected",
        "scope",
        "supersedes",
    ],
    "search": ["query", "kind"],
    "get": ["id"],
    "forget": ["id"],
    "list_rules": ["path"],
    "route": ["request"],
    "capture": ["text"],
}


@pytest.mark.timeout(240)
def test_every_mcp_tool_answers_megabyte_and_surrogate_arguments(sample: Path) -> None:
    before = snapshot(sample)
    server = build_server(KenningService(sample, vectors=False))
    outcomes: list[tuple[str, str, str, bool]] = []

    async def main() -> None:
        async with Client(server, read_timeout_seconds=120) as client:
            for tool, names in MCP_STRING_ARGS.items():
                for name in names:
                    for label, value in (("1 MB", "x" * MB), ("surrogates", "fix \ud800 \udcff")):
                        with anyio.fail_after(60):
                            result = await client.call_tool(tool, {**MCP_BASE[tool], name: value})
                        text = " ".join(getattr(c, "text", "") for c in result.content)
                        assert len(text) < 64_000, f"{tool}.{name} ({label}) echoed the input"
                        if result.is_error:
                            # kenning's own message, never the SDK's "Error executing tool X"
                            # alone (which is what an unexpected exception becomes).
                            assert text.strip() != f"Error executing tool {tool}", (tool, name)
                            assert "Traceback" not in text
                        outcomes.append((tool, name, label, result.is_error))

    anyio.run(main)
    assert len(outcomes) == 2 * sum(len(names) for names in MCP_STRING_ARGS.values())
    refused = {(t, n) for t, n, label, error in outcomes if label == "1 MB" and error}
    assert ("capture", "text") in refused and ("remember", "tags") in refused
    assert snapshot(sample) == before
    stray = [
        p
        for p in (sample / ".kenning").rglob("*")
        if p.is_file()
        and not str(p.relative_to(sample / ".kenning")).startswith(
            ("memories", "index", "audit", "config", ".gitignore", "demo-requests")
        )
    ]
    assert stray == []
    big_memories = [p for p in (sample / ".kenning").rglob("*.md") if p.stat().st_size > 70_000]
    assert big_memories == []
