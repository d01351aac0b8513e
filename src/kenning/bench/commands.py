"""`kenning bench`: run the suites, show rich tables with a progress bar, write JSON and plots."""

from __future__ import annotations

import importlib.util
import json
import shlex
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

SUITES = ("latency", "history", "locomo", "conflicts", "routing")
PEERS = ("basic-memory", "aider-repomap")
LOCOMO_PEERS = ("basic-memory",)  # aider's repo map ranks repository files, not turns
DEFAULT_COMMITS = 50


@contextmanager
def _progress(console: Any, enabled: bool) -> Iterator[Callable[[str, str, int, int], None]]:
    """A rich progress bar; yields update(suite, stage, done, total)."""
    if not enabled:
        yield lambda suite, stage, done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    tasks: dict[str, Any] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:

        def update(suite: str, stage: str, done: int, total: int) -> None:
            task = tasks.get(suite)
            if task is None:
                task = tasks[suite] = bar.add_task(suite, total=max(total, 1))
            bar.update(task, completed=done, total=max(total, 1), description=f"{suite}: {stage}")

        yield update


def _evaluator(name: str, start: Path) -> Path | None:
    """`bench/<name>.py` of the kenning checkout or of the project, when someone wrote it."""
    here = Path(__file__).resolve().parents[3] / "bench" / f"{name}.py"
    for candidate in (start / "bench" / f"{name}.py", here):
        if candidate.is_file():
            return candidate
    return None


def run_evaluator(name: str, start: Path) -> dict[str, Any]:
    """Run `bench/conflicts.py` or `bench/routing.py` (their `run()`), or say it is not there."""
    path = _evaluator(name, start)
    if path is None:
        return {"suite": name, "available": False, "note": "not available yet"}
    spec = importlib.util.spec_from_file_location(f"kenning_bench_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    runner = getattr(module, "run", None) or getattr(module, "evaluate", None)
    if runner is not None:
        result = runner()
        data: dict[str, Any] = result if isinstance(result, dict) else {"result": result}
        return {"suite": name, "available": True, "source": str(path), **data}
    main = getattr(module, "main", None)
    if main is None:
        return {
            "suite": name,
            "available": False,
            "note": f"{path.name} exposes no run(), evaluate() or main(); not available yet",
        }
    # The labelled-set scripts are command-line tools that write their JSON (`--json PATH`).
    import contextlib
    import io

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"{name}.json"
        saved = sys.argv
        sys.argv = [str(path), "--json", str(target)]
        try:
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                main()
        except SystemExit as exc:
            if exc.code not in (None, 0):
                return {
                    "suite": name,
                    "available": False,
                    "note": f"{path.name} does not run as `{path.name} --json PATH` (exit "
                    f"{exc.code}); run it by hand (its own results: bench/results/{name}.json)",
                }
        finally:
            sys.argv = saved
        if not target.is_file():
            return {"suite": name, "available": False, "note": f"{path.name} wrote no JSON"}
        loaded: dict[str, Any] = json.loads(target.read_text())
    return {"suite": name, "available": True, "source": str(path), **loaded}


def _peers(names: tuple[str, ...], workdir: Path) -> list[Any]:
    peers: list[Any] = []
    for name in names:
        if name == "basic-memory":
            from kenning.bench.peers import BasicMemory

            peers.append(BasicMemory(workdir / "basic-memory"))
        elif name == "aider-repomap":
            from kenning.bench.peers import AiderRepoMap

            peers.append(AiderRepoMap(workdir / "aider-repomap"))
    return peers


@click.command()
@click.argument("suites", nargs=-1, type=click.Choice(SUITES))
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write <suite>.json (and PNG plots with --plots) into this folder.",
)
@click.option("--plots", is_flag=True, help="Draw PNG plots into --out (needs kenning[bench]).")
@click.option(
    "--files", default=10_000, show_default=True, help="latency: generated source files (0: skip)."
)
@click.option("--memories", default=5_000, show_default=True, help="latency: generated memories.")
@click.option(
    "--requests", "n_requests", default=300, show_default=True, help="latency: brief requests."
)
@click.option(
    "--vectors",
    type=click.Choice(["sample", "full", "none"]),
    default="sample",
    show_default=True,
    help="latency: embed a sample and extrapolate, embed everything, or none.",
)
@click.option(
    "--project/--no-project",
    default=True,
    show_default=True,
    help="latency: also the current project.",
)
@click.option(
    "--commits",
    default=DEFAULT_COMMITS,
    show_default=True,
    help="history: commits to replay (another count is kept apart: history[-REPO]-N.json).",
)
@click.option(
    "--repo",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="history: a git work tree or bare repository (default: the current project).",
)
@click.option(
    "--locomo",
    "locomo_path",
    type=click.Path(path_type=Path),
    help="locomo: path to locomo10.json.",
)
@click.option(
    "--conversations",
    help="locomo: the first N conversations (5), a 0-based range (5-9) or a list (0,3).",
)
@click.option("--no-embed", is_flag=True, help="history/locomo: lexical index only (fast).")
@click.option(
    "--peer", "peers", multiple=True, type=click.Choice(PEERS), help="Also run a peer side by side."
)
@click.option(
    "--from",
    "from_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Render saved results from this folder instead of running.",
)
@click.option(
    "--docs",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the Markdown report here.",
)
@click.pass_context
def bench(
    ctx: click.Context,
    suites: tuple[str, ...],
    as_json: bool,
    out: Path | None,
    plots: bool,
    files: int,
    memories: int,
    n_requests: int,
    vectors: str,
    project: bool,
    commits: int,
    repo: Path | None,
    locomo_path: Path | None,
    conversations: str | None,
    no_embed: bool,
    peers: tuple[str, ...],
    from_dir: Path | None,
    docs: Path | None,
) -> None:
    """Measure kenning: speed, files-touched recall on git history, LoCoMo recall.

    Suites: latency (generated corpus of --files/--memories, and the current project),
    history (commit message -> changed files, on this repository's own history), locomo,
    conflicts and routing (labelled sets). With no SUITE, all of them run.

    Example:

        kenning bench history --commits 30 --out bench/results --plots
    """
    from rich.console import Console

    from kenning.bench import report
    from kenning.bench.machine import envelope

    console = Console(stderr=as_json)
    start = Path((ctx.obj or {}).get("dir") or ".").resolve()
    command = "kenning bench " + shlex.join(
        sys.argv[2:] if sys.argv[1:2] == ["bench"] else sys.argv[1:]
    )
    results: dict[str, dict[str, Any]] = {}
    if from_dir is not None:
        results = report.load_results(from_dir)
    else:
        chosen = suites or SUITES
        with (
            tempfile.TemporaryDirectory(prefix="kenning-bench-") as tmp,
            _progress(console, not as_json and console.is_terminal) as update,
        ):
            workdir = Path(tmp)
            for suite in chosen:
                for name, result in _run_suite(
                    suite,
                    start,
                    workdir,
                    update,
                    files=files,
                    memories=memories,
                    n_requests=n_requests,
                    vectors=vectors,
                    project=project,
                    commits=commits,
                    repo=repo,
                    locomo_path=locomo_path,
                    conversations=conversations,
                    embed=not no_embed,
                    peers=peers,
                ):
                    results[name] = envelope(result, command)
                    if not as_json:
                        report.print_result(console, name, results[name])
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        if from_dir is None:
            for name, result in results.items():
                (out / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    plot_files: list[Path] = []
    if plots:
        folder = (out or from_dir or Path.cwd()) / "plots"
        plot_files = report.plots(results, folder)
        console.print(f"{len(plot_files)} plots in {folder}")
    elif docs is not None and from_dir is not None and (from_dir / "plots").is_dir():
        # The page keeps the plots drawn before (redrawing needs matplotlib and --plots).
        plot_files = sorted((from_dir / "plots").glob("*.png"))
        console.print(f"{len(plot_files)} plots reused from {from_dir / 'plots'} (--plots redraws)")
    if docs is not None:
        notes_file = (from_dir or out or Path.cwd()) / "NOTES.md"
        notes = notes_file.read_text() if notes_file.is_file() else ""
        docs.parent.mkdir(parents=True, exist_ok=True)
        docs.write_text(report.markdown(results, plot_files, docs.parent, notes))
        console.print(f"wrote {docs}")
    if as_json:
        click.echo(json.dumps(results, indent=1))
    elif from_dir is not None:
        for name, result in results.items():
            report.print_result(console, name, result)


def _run_suite(
    suite: str,
    start: Path,
    workdir: Path,
    update: Callable[[str, str, int, int], None],
    **opts: Any,
) -> Iterator[tuple[str, dict[str, Any]]]:
    def progress_for(label: str) -> Callable[[str, int, int], None]:
        return lambda stage, done, total: update(label, stage, done, total)

    if suite == "latency":
        from kenning.bench import latency

        if opts["files"] > 0:
            yield (
                "latency",
                latency.run_generated(
                    opts["files"],
                    opts["memories"],
                    opts["n_requests"],
                    workdir=workdir,
                    vectors=opts["vectors"],
                    progress=progress_for("latency"),
                ),
            )
        if opts["project"]:
            yield (
                "latency-project",
                latency.run_project(
                    start,
                    min(opts["n_requests"], 200),
                    workdir=workdir,
                    vectors=opts["vectors"],
                    progress=progress_for("latency (project)"),
                ),
            )
    elif suite == "history":
        from kenning.bench import history

        target = opts["repo"] or start
        sub = Path(tempfile.mkdtemp(dir=workdir))
        peers = _peers(opts["peers"], sub)
        try:
            result = history.run(
                target,
                sub,
                commits=opts["commits"],
                embed=opts["embed"],
                peers=peers,
                progress=progress_for("history"),
            )
        finally:
            for peer in peers:
                peer.close()
        name = "history" if opts["repo"] is None else f"history-{result['repository']}"
        if opts["commits"] != DEFAULT_COMMITS:  # a 40- and a 150-commit run side by side
            name += f"-{opts['commits']}"
        yield name, result
    elif suite == "locomo":
        from kenning.bench import locomo

        data = locomo.find_data(opts["locomo_path"], start)
        sub = Path(tempfile.mkdtemp(dir=workdir))
        for name in (n for n in opts["peers"] if n not in LOCOMO_PEERS):
            click.echo(
                f"locomo: skipping the peer {name}: it ranks repository files, not conversation "
                "turns (run it with the history suite)",
                err=True,
            )
        peers = _peers(tuple(n for n in opts["peers"] if n in LOCOMO_PEERS), sub)
        try:
            result = locomo.run(
                data,
                sub,
                embed=opts["embed"],
                conversations=opts["conversations"],
                peers=peers,
                progress=progress_for("locomo"),
            )
        finally:
            for peer in peers:
                peer.close()
        yield "locomo", result
    else:
        yield suite, run_evaluator(suite, start)
