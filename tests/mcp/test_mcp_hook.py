"""The prompt hook: `kenning hook prompt` and `kenning connect claude-code --hook`."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from kenning.cli import cli
from kenning.mcp.connect import ConnectError, hook_command, merge_claude_hook
from kenning.mcp.hook import prompt_of, worth_a_brief
from kenning.workspace import Workspace


def hook(project: Path, payload: str) -> str:
    result = CliRunner().invoke(cli, ["-C", str(project), "hook", "prompt"], input=payload)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_prompts_are_read_from_claude_events_or_plain_text() -> None:
    event = {"session_id": "s", "hook_event_name": "UserPromptSubmit", "prompt": " fix it "}
    assert prompt_of(json.dumps(event)) == "fix it"
    assert prompt_of("add retries to the sender\n") == "add retries to the sender"
    assert prompt_of("{not json") == "{not json"
    assert not worth_a_brief("yes go on")
    assert not worth_a_brief("/compact now please do it")
    assert worth_a_brief("add retries to the webhook sender")


def test_hook_prints_a_packet_for_a_real_prompt_and_nothing_for_chatter(project: Path) -> None:
    assert hook(project, json.dumps({"prompt": "add retries to the webhook sender"})) == ""
    ws = Workspace.open(project)
    ws.index(embed=False)
    ws.close()
    out = hook(project, json.dumps({"prompt": "add retries to the webhook sender"}))
    assert out.startswith("<kenning-context>") and out.rstrip().endswith("</kenning-context>")
    assert "# Context for: add retries to the webhook sender" in out
    assert hook(project, json.dumps({"prompt": "ok thanks"})) == ""
    assert hook(project, "") == ""


def test_connect_hook_merges_into_claude_settings(tiny: Path, client_home: Path) -> None:
    settings = tiny / ".claude" / "settings.local.json"
    settings.parent.mkdir()
    other = {"hooks": [{"type": "command", "command": "echo hi"}]}
    settings.write_text(json.dumps({"model": "x", "hooks": {"UserPromptSubmit": [other]}}))
    args = ["-C", str(tiny), "connect", "claude-code", "--scope", "local", "--hook"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(settings.read_text())
    groups = data["hooks"]["UserPromptSubmit"]
    assert data["model"] == "x" and groups[0] == other
    command = groups[1]["hooks"][0]["command"]
    assert shlex.split(command)[-4:] == ["-C", str(tiny), "hook", "prompt"]
    again = CliRunner().invoke(cli, args)
    assert "already in" in again.output
    assert len(json.loads(settings.read_text())["hooks"]["UserPromptSubmit"]) == 2
    refused = CliRunner().invoke(cli, ["-C", str(tiny), "connect", "codex", "--hook"])
    assert refused.exit_code != 0 and "--hook is for claude-code" in refused.output


def test_an_older_kenning_hook_is_replaced_and_odd_files_refused(tmp_path: Path) -> None:
    old = {"hooks": [{"type": "command", "command": "/old/kenning -C /p hook prompt"}]}
    text = json.dumps({"hooks": {"UserPromptSubmit": [old]}})
    merged = json.loads(merge_claude_hook(text, tmp_path / "s.json", hook_command(tmp_path)))
    commands = [h["command"] for g in merged["hooks"]["UserPromptSubmit"] for h in g["hooks"]]
    assert commands == [hook_command(tmp_path)]
    with pytest.raises(ConnectError, match="by hand"):
        merge_claude_hook('{"hooks": {"UserPromptSubmit": {}}}', tmp_path / "s.json", "x")
