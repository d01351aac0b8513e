"""`make demo`: index the bundled sample project and print real briefs for realistic requests.

The sample (examples/tidewater) is copied to a temporary folder so the demo never writes into the
repository, and KENNING_HOME points at a temporary folder so your own personal memories stay out
of it. When the local model layer is installed, the demo ends with a real local answer.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

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


def _local_answer(console: object, project: Path) -> bool | None:
    """Ask the packaged local model one question, when the model layer is installed."""
    try:
        from kenning.llm.demo import answer_for_demo  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        print("\n(local model layer not installed; `make demo` shows briefs only)")
        return None
    return bool(answer_for_demo(project))


if __name__ == "__main__":
    sys.exit(main())
