"""The benchmark results the UI charts: the newest JSON file of each suite, read as it is.

`kenning bench` writes one JSON file per run under `bench/results/` (issue 7). The UI does not
assume a schema beyond "a JSON object"; the page finds numbers to chart on its own. Results are
looked for in the folders given, in order (by default the project's `bench/results/` and the
kenning checkout's, when kenning runs from one).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kenning

MAX_RESULT_BYTES = 5_000_000


def default_dirs(project_root: Path) -> list[Path]:
    """`bench/results` of the project, then of the source checkout kenning runs from (if any)."""
    dirs = [project_root / "bench" / "results"]
    checkout = Path(kenning.__file__).resolve().parents[2] / "bench" / "results"
    if checkout not in dirs:
        dirs.append(checkout)
    return dirs


@dataclass(frozen=True)
class Result:
    """One results file: its name, suite, when it was written, and the parsed JSON."""

    path: Path
    suite: str
    modified: datetime
    data: Any
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.path.name,
            "folder": str(self.path.parent),
            "suite": self.suite,
            "modified": self.modified.isoformat().replace("+00:00", "Z"),
            "data": self.data,
            "error": self.error,
        }


def _suite(path: Path, data: Any) -> str:
    if isinstance(data, dict):
        for key in ("suite", "name", "benchmark"):
            if isinstance(data.get(key), str):
                return str(data[key])
    # `retrieval-2026-05-01T10-00.json` and `retrieval.json` are both the suite `retrieval`.
    return path.stem.split("-20", 1)[0].split("_20", 1)[0]


def read_result(path: Path) -> Result:
    """Parse one file; a broken one becomes a Result with `error` set, never an exception."""
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)
    try:
        if path.stat().st_size > MAX_RESULT_BYTES:
            raise ValueError(f"{path.stat().st_size:,} bytes is more than the page reads")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return Result(path, path.stem, modified, None, f"cannot read: {exc}")
    return Result(path, _suite(path, data), modified, data)


def latest_results(dirs: Sequence[Path]) -> list[Result]:
    """The newest result of each suite found in `dirs`, suites in name order."""
    newest: dict[str, Result] = {}
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json")):
            result = read_result(path)
            current = newest.get(result.suite)
            if current is None or result.modified > current.modified:
                newest[result.suite] = result
    return [newest[name] for name in sorted(newest)]
