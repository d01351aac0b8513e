"""The README's commands exist, and its first screen is the pitch and the two commands."""

from __future__ import annotations

import re
from pathlib import Path

import click

from kenning.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_first_screen_shows_the_two_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:20])
    assert "make demo" in first_screen and "make test" in first_screen


def test_every_kenning_command_in_the_readme_exists() -> None:
    blocks = "\n".join(re.findall(r"```(?:sh|console|bash)\n(.*?)```", README, flags=re.DOTALL))
    named = set(re.findall(r"^\$? ?kenning ([a-z-]+)", blocks, flags=re.MULTILINE))
    known = set(cli.list_commands(click.Context(cli)))
    assert {
        "init",
        "index",
        "remember",
        "brief",
        "search",
        "memories",
        "doctor",
        "connect",
        "mcp",
        "ask",
    } <= named
    assert named - known == set()
