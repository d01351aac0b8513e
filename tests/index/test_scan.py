from __future__ import annotations

import os
from pathlib import Path

from kenning.index.scan import scan


def test_gitignore_kenningignore_and_default_dirs_are_respected(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.log\nbuild-out/\n")
    (tmp_path / ".kenningignore").write_text("secret_notes.md\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".gitignore").write_text("local.txt\n")
    for name in (
        "a.py",
        "x.log",
        "secret_notes.md",
        "sub/local.txt",
        "sub/keep.txt",
        "build-out/gen.py",
        "node_modules/m.js",
        ".git/config",
    ):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("print(1)\n")
    found = [f.path for f in scan(tmp_path).files]
    assert found == [".gitignore", ".kenningignore", "a.py", "sub/.gitignore", "sub/keep.txt"]


def test_binary_huge_generated_and_broken_links_are_counted(tmp_path: Path) -> None:
    (tmp_path / "img.png").write_bytes(b"\x89PNG\x00\x00")
    (tmp_path / "big.txt").write_text("x" * 2000)
    (tmp_path / "package-lock.json").write_text("{}")
    (tmp_path / "app.min.js").write_text("a")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling.py")
    os.symlink("/etc/hostname", tmp_path / "outside.txt")
    (tmp_path / "loop").mkdir()
    os.symlink(tmp_path / "loop", tmp_path / "loop" / "again")
    result = scan(tmp_path, max_bytes=1000)
    assert result.files == []
    assert result.skipped == {
        "binary": 1,
        "too large": 1,
        "generated": 2,
        "broken symlink": 1,
        "symlink outside the project": 1,
        "symlinked folder": 1,
    }


def test_exclude_globs_from_settings(tmp_path: Path) -> None:
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "lib.py").write_text("x = 1\n")
    (tmp_path / "main.py").write_text("x = 1\n")
    assert [f.path for f in scan(tmp_path, exclude=["vendor/"]).files] == ["main.py"]
