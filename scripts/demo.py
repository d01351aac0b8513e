"""`make demo`: index the bundled sample project and print real briefs for realistic requests.

The sample (examples/tidewater) is copied to a temporary folder so the demo never writes into the
repository, and KENNING_HOME points at a temporary folder so your own personal memories stay out
of it. When the local model layer is installed, the demo ends with a real local answer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "tidewater"


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="kenning-demo-"))
    os.environ["KENNING_HOME"] = str(work / "home")
    project = work / "tidewater"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("index"))

    from rich.console import Console
    from rich.markdown import Markdown
    from rich.rule import Rule

    from kenning.workspace import Workspace

    console = Console()
    console.print(Rule("kenning demo: the tidewater sample project"))
    console.print(f"copied to {project}\n")
    ws = Workspace.open(project)
    started = time.perf_counter()
    stats = ws.index(embed=True)
    console.print(
        f"indexed {stats.files_indexed} files and {stats.memories_indexed} memories "
        f"({stats.chunks_written} chunks, {stats.vectors_written} vectors) in "
        f"{time.perf_counter() - started:.1f}s"
    )
    requests = (project / ".kenning" / "demo-requests.txt").read_text().splitlines()
    for request in [r for r in requests if r.strip()][:3]:
        console.print()
        console.print(Rule(f"$ kenning brief {request!r} --budget 1200"))
        packet = ws.brief(request, budget=1200)
        console.print(Markdown(packet.to_markdown()))
    answered = _local_answer(console, project)
    console.print(Rule())
    console.print(f'Try it yourself: .venv/bin/kenning -C {project} brief "..."')
    shutil.rmtree(work / "home", ignore_errors=True)
    return 0 if answered is not False else 1


def _local_answer(console: Any, project: Path) -> bool | None:
    """Ask the packaged local model one question through `kenning ask`, in a subprocess so a
    native crash in the model runtime cannot take the demo down with it."""
    import importlib.util

    from rich.rule import Rule

    if importlib.util.find_spec("llama_cpp") is None:
        console.print(
            "\n(llama-cpp-python is not installed: `make install` builds it; "
            "the demo shows briefs only)"
        )
        return None
    question = "Which port does the staging environment run on?"
    console.print()
    console.print(Rule(f"$ kenning ask {question!r}   (SmolLM2-135M on CPU, no network)"))
    done = subprocess.run(
        [sys.executable, "-m", "kenning", "-C", str(project), "ask", question, "--budget", "600"],
        timeout=600,
        check=False,
    )
    return done.returncode == 0


if __name__ == "__main__":
    sys.exit(main())
