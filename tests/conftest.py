"""Shared fixtures: a scrubbed environment, small real projects on disk, the bundled sample."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "tidewater"


@pytest.fixture(autouse=True)
def kenning_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own KENNING_HOME, so personal memories never leak between tests."""
    home = tmp_path / "kenning-home"
    monkeypatch.setenv("KENNING_HOME", str(home))
    monkeypatch.delenv("KENNING_SOURCE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[CALL_REPORT] = report


@pytest.fixture
def fuzz_cases(request: pytest.FixtureRequest) -> Iterator[Counter[str]]:
    """A counter a fuzz test bumps once per generated case ("cases") and for what it saw.

    With `KENNING_FUZZ_REPORT` set (bench/stress.py does), the counts and whether the test
    failed are appended there as one JSON line per surface.
    """
    counts: Counter[str] = Counter()
    yield counts
    target = os.environ.get("KENNING_FUZZ_REPORT")
    if target:
        report = request.node.stash.get(CALL_REPORT, None)
        line = {
            "surface": request.node.name,
            "cases": counts.pop("cases", 0),
            "failures": int(report is None or report.failed),
            "seen": dict(counts),
        }
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A fresh copy of the bundled tidewater project (without any index)."""
    target = tmp_path / "tidewater"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("index"))
    return target


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A tiny two-module Python project with one rule and one decision."""
    root = tmp_path / "tiny"
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "mailer.py").write_text(
        '"""Outbound email."""\n\nfrom app.retry import backoff\n\n\n'
        "class Mailer:\n    def send_email(self, to: str) -> None:\n"
        '        """Send one email, retrying with backoff."""\n'
        "        for delay in backoff(3):\n            pass\n"
    )
    (root / "app" / "retry.py").write_text(
        "def backoff(attempts: int) -> list[float]:\n"
        '    """Exponential backoff delays in seconds."""\n'
        "    return [2.0**n for n in range(attempts)]\n"
    )
    (root / "README.md").write_text(
        "# Tiny\n\nSends email.\n\n## Retries\n\nWe retry three times.\n"
    )
    return root


@pytest.fixture
def indexed_sample(sample: Path) -> Iterator[object]:
    """A Workspace over the sample project, indexed lexically (no vectors: fast)."""
    from kenning.workspace import Workspace

    ws = Workspace.open(sample)
    ws.index(embed=False)
    yield ws
    ws.close()
