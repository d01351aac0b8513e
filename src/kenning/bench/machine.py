"""What a result was measured on: the machine, the interpreter, kenning's commit, the command."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError):
        pass
    return None


def _commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def describe() -> dict[str, Any]:
    """A JSON-ready description of this machine and this kenning."""
    from kenning import __version__

    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "kenning": __version__,
        "commit": _commit(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def envelope(result: dict[str, Any], command: str) -> dict[str, Any]:
    """A suite's result with when, where and how it was measured."""
    return {
        "measured_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "command": command,
        "machine": describe(),
        **result,
    }
