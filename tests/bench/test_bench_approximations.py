"""bench/approximations.py runs end to end on a small indexed project."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kenning.workspace import Workspace

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "approximations.py"


def test_it_measures_both_approximations(sample: Path, tmp_path: Path) -> None:
    Workspace.open(sample).index(embed=False)
    out = tmp_path / "approximations.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(sample), "--requests", "12", "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.read_text())
    assert json.loads(done.stdout) == result
    assert result["code_chunks"] > 0
    # A small table is searched with every term, so pruning changes nothing there.
    assert result["pruning"]["requests"] > 0 and result["pruning"]["top20_in_top50"] == 1.0
    assert 0.0 <= (result["pagerank"]["exact_top50_in_top60"] or 0.0) <= 1.0


def test_a_project_without_an_index_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 2 and "no index" in done.stderr
