"""The core (memory, index, engine) never imports the adapters (cli, mcp, llm, web)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import kenning

PACKAGE = Path(kenning.__file__).parent
CORE = [
    "memory.py",
    "config.py",
    "errors.py",
    "tokens.py",
    "secrets.py",
    "_fs.py",
    "workspace.py",
    "doctor.py",
    "index",
    "engine",
]
ADAPTERS = (
    "kenning.cli",
    "kenning.mcp",
    "kenning.llm",
    "kenning.web",
    "click",
    "typer",
    "mcp",
    "rich",
)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_core_modules_do_not_import_adapters() -> None:
    files: list[Path] = []
    for entry in CORE:
        target = PACKAGE / entry
        files += sorted(target.rglob("*.py")) if target.is_dir() else [target]
    offenders = [
        f"{f.relative_to(PACKAGE)} imports {name}"
        for f in files
        for name in _imports(f)
        if any(name == a or name.startswith(a + ".") for a in ADAPTERS)
        and not f.name == "commands.py"
    ]
    assert offenders == []


def test_cli_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys; from click.testing import CliRunner; from kenning.cli import cli; "
        "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0, r.output; "
        "heavy = [m for m in ('numpy', 'onnxruntime', 'tree_sitter', 'mcp', 'rich', 'yaml', "
        "'llama_cpp') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
