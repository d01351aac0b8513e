"""`kenning route` and `kenning brief` on bad input: a packet or a clear message, never a traceback.

Empty, binary, huge and non-English requests, requests from stdin, undecodable bytes in argv,
diffs that are binary or missing, and files that do not exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from kenning.cli import cli
from kenning.engine.classify import classify, looks_binary

BINARY = bytes(range(256)) * 40


def invoke(root: Path, *args: str, stdin: bytes | str | None = None) -> Result:
    result = CliRunner().invoke(cli, ["-C", str(root), *args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.output.strip()
    return result


REQUESTS: list[tuple[str, tuple[str, ...], bytes | None]] = [
    ("empty", ("",), None),
    ("blank", ("   \n\t",), None),
    ("control bytes", ("\x00\x01\x02",), None),
    ("a megabyte", ("fix the webhook sender " * 45_000,), None),
    ("japanese", ("請求書の合計を修正して",), None),
    ("arabic", ("أصلح خطأ الفاتورة",), None),
    ("emoji only", ("🔥🔥🔥",), None),
    ("undecodable argv", ("fix \udcff\udcfe the webhook sender",), None),
    ("binary on stdin", ("-",), BINARY),
    ("empty stdin", ("-",), b""),
    ("a megabyte on stdin", ("-",), b"add a feature flag " * 55_000),
    ("missing file", ("fix src/tidewater/nope.py", "--file", "src/tidewater/nope.py"), None),
    ("binary diff on stdin", ("fix the sender", "--diff", "-"), BINARY),
]


@pytest.mark.parametrize("command", ["route", "brief"])
@pytest.mark.parametrize(("name", "args", "stdin"), REQUESTS, ids=[r[0] for r in REQUESTS])
def test_bad_input_gets_a_packet_or_a_clear_message(
    indexed_sample: Any, command: str, name: str, args: tuple[str, ...], stdin: bytes | None
) -> None:
    result = invoke(indexed_sample.root, command, *args, stdin=stdin)
    if result.exit_code:
        assert result.exit_code == 1
        assert result.output.startswith("Error: ")
        assert "Example: kenning" in result.output


@pytest.mark.parametrize("command", ["route", "brief"])
def test_binary_on_stdin_is_refused_with_a_message(indexed_sample: Any, command: str) -> None:
    result = invoke(indexed_sample.root, command, "-", stdin=BINARY)
    assert result.exit_code == 1
    assert "binary" in result.output


@pytest.mark.parametrize("command", ["route", "brief"])
def test_a_missing_diff_file_is_a_clear_message(
    indexed_sample: Any, command: str, tmp_path: Path
) -> None:
    result = invoke(indexed_sample.root, command, "fix it", "--diff", str(tmp_path / "no.diff"))
    assert result.exit_code in (1, 2)
    assert "no.diff" in result.output


def test_a_file_that_does_not_exist_is_named_in_the_packet(indexed_sample: Any) -> None:
    result = invoke(
        indexed_sample.root, "brief", "fix the importer", "--file", "src/tidewater/nope.py"
    )
    assert result.exit_code == 0
    assert "src/tidewater/nope.py" in result.output


def test_binary_text_has_no_intent_and_routes_balanced() -> None:
    text = BINARY.decode("utf-8", errors="replace")
    assert looks_binary(text)
    assert not looks_binary("fix `parse(x[0])` -> {} in utils.py\n\tTraceback: KeyError")
    assert classify(text).source == "empty"
