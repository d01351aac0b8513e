"""Render suite results: rich tables for the terminal, PNG plots, and `docs/benchmarks.md`.

Everything here reads the JSON-ready dicts the suites return (or the files `--out` wrote), so the
docs can be regenerated from saved results without re-running anything. matplotlib is optional
(`pip install 'kenning[bench]'`) and imported only when plots are asked for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kenning.errors import KenningError

SUITE_ORDER = ("latency", "latency-project", "history", "locomo", "conflicts", "routing")
KENNING_PREFIX = "kenning"
LOCOMO_TARGET = 0.75  # issue 3: LoCoMo evidence R@10
HISTORY_MARGIN = 0.10  # issue 3: files-touched R@5 at least this much above BM25


class PlotsUnavailable(KenningError):
    """matplotlib is not installed."""


def load_results(folder: Path) -> dict[str, dict[str, Any]]:
    """Every `<suite>[-name].json` in `folder`, keyed by file stem, in suite order.

    Other JSON files (other benchmarks share the folder) are left alone.
    """
    found = {
        p.stem: json.loads(p.read_text())
        for p in sorted(folder.glob("*.json"))
        if p.stem.split("-")[0] in {s.split("-")[0] for s in SUITE_ORDER}
    }
    return dict(sorted(found.items(), key=lambda kv: _order(kv[0])))


def _order(name: str) -> tuple[int, str]:
    base = name if name in SUITE_ORDER else name.split("-")[0]
    return (SUITE_ORDER.index(base) if base in SUITE_ORDER else len(SUITE_ORDER), name)


def _f(value: Any, digits: int = 3) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "–" if value is None else str(value)


# ---- tables (shared by the terminal and the docs) ----------------------------------------


def recall_rows(result: dict[str, Any], ks: Iterable[int] | None = None) -> list[list[str]]:
    """One row per system: R@k…, hit@5, hit@10, tokens (mean), p50 ms, empty answers."""
    ks = list(ks or result.get("ks", (1, 3, 5, 10)))
    rows: list[list[str]] = []
    for name, summary in result.get("systems", {}).items():
        group = summary["groups"].get("all", {})
        rec, hit = group.get("recall", {}), group.get("hit", {})
        rows.append(
            [
                name,
                *(_f(rec.get(str(k))) for k in ks),
                _f(hit.get("5")),
                _f(hit.get("10")),
                _f(summary.get("tokens", {}).get("mean"), 0),
                _f(summary.get("latency_ms", {}).get("p50"), 1),
                _f(summary.get("empty", 0)),
            ]
        )
    return rows


def recall_header(result: dict[str, Any]) -> list[str]:
    ks = result.get("ks", (1, 3, 5, 10))
    return ["system", *(f"R@{k}" for k in ks), "hit@5", "hit@10", "tokens", "p50 ms", "empty"]


def group_rows(result: dict[str, Any], k: str = "10") -> tuple[list[str], list[list[str]]]:
    """R@k per group (LoCoMo category, gold-set size) per system, with the group sizes."""
    systems = result.get("systems", {})
    groups: list[str] = []
    for summary in systems.values():
        for g in summary["groups"]:
            if g != "all" and g not in groups:
                groups.append(g)
    if "categories" in result:
        order = list(result["categories"].values())
        groups.sort(key=lambda g: order.index(g) if g in order else 99)
    first: dict[str, Any] = next(iter(systems.values()), {"groups": {}})
    header = ["system", *(f"{g} (n={first['groups'].get(g, {}).get('n', 0)})" for g in groups)]
    header.append(f"all (n={first['groups'].get('all', {}).get('n', 0)})")
    rows = [
        [
            name,
            *(_f(s["groups"].get(g, {}).get("recall", {}).get(k)) for g in [*groups, "all"]),
        ]
        for name, s in systems.items()
    ]
    return header, rows


def latency_rows(result: dict[str, Any]) -> list[list[str]]:
    """metric, measured, target, met (for the latency suite)."""
    targets = result.get("targets", {})
    verdict = result.get("verdict", {})
    index = result.get("index", {})
    vectors = result.get("vectors", {})
    reindex = result.get("reindex", {})
    rows: list[list[str]] = []
    builds = index.get("builds") or []

    def ok(key: str) -> str:
        return "" if key not in verdict else ("yes" if verdict[key] else "**no**")

    rows.append(
        [
            "full index, vectors excluded"
            + (f" (median of {len(builds)} builds)" if len(builds) > 1 else ""),
            f"{_f(index.get('files_per_second'), 0)} files/s "
            f"({_f(index.get('seconds'), 1)} s for {_f(index.get('files_seen'))} files + "
            f"{_f(index.get('memories_indexed'))} memories; "
            f"{_f(index.get('files_per_cpu_second'), 0)} files per CPU-s"
            + (
                "; builds " + " · ".join(_f(b.get("files_per_second"), 0) for b in builds)
                if len(builds) > 1
                else ""
            )
            + ")",
            f"≥ {_f(targets.get('files_per_second'), 0)} files/s",
            ok("files_per_second"),
        ]
    )
    if vectors.get("chunks_embedded"):
        label = "extrapolated" if vectors.get("extrapolated") else "measured"
        rows.append(
            [
                "vectors for the whole index",
                f"{_f(vectors.get('full_seconds'), 0)} s {label} "
                f"({_f(vectors.get('chunks_pending'))} chunks at "
                f"{_f(vectors.get('chunks_per_second'), 1)} chunks/s, "
                f"{_f(vectors.get('chunks_embedded'))} embedded)",
                "reported",
                "",
            ]
        )
    for key, label in (("brief", "brief, hybrid (dense on)"), ("brief_lexical", "brief, lexical")):
        brief = result.get(key)
        if not brief:
            continue
        lat, cpu = brief["latency_ms"], brief.get("cpu_ms", {})
        rows.append(
            [
                f"{label}, warm, {brief['requests']} requests",
                f"p50 {_f(lat['p50'], 1)} ms · p95 {_f(lat['p95'], 1)} · p99 {_f(lat['p99'], 1)}"
                + (
                    f" (CPU p50 {_f(cpu.get('p50'), 1)} · p99 {_f(cpu.get('p99'), 1)} ms)"
                    if cpu
                    else ""
                ),
                f"p50 ≤ {_f(targets.get('brief_p50_ms'), 0)}, p99 ≤ "
                f"{_f(targets.get('brief_p99_ms'), 0)} ms",
                ok("brief_p50_ms") + ("/" + ok("brief_p99_ms") if key == "brief" else "")
                if key == ("brief" if "brief" in result else "brief_lexical")
                else "",
            ]
        )
    if reindex:
        one = reindex.get("one_file_ms", {})
        rows.append(
            [
                "re-index after a one-file change",
                f"p50 {_f(one.get('p50'), 1)} ms (max {_f(one.get('max'), 1)}; no-op run "
                f"{_f(reindex.get('noop_ms'), 1)} ms; index {_f(reindex.get('index_mb'), 0)} MB)",
                f"≤ {_f(targets.get('reindex_one_file_ms'), 0)} ms",
                ok("reindex_one_file_ms"),
            ]
        )
        watched = reindex.get("one_file_watched_ms", {})
        if watched.get("n"):
            idle = reindex.get("watched_noop_ms", {})
            rows.append(
                [
                    "… through the file watcher (the MCP server's path)",
                    f"p50 {_f(watched.get('p50'), 1)} ms (max {_f(watched.get('max'), 1)}; "
                    f"nothing changed {_f(idle.get('p50'), 2)} ms)",
                    f"≤ {_f(targets.get('reindex_watched_ms'), 0)} ms",
                    ok("reindex_watched_ms"),
                ]
            )
        after = reindex.get("brief_after_change_ms", {})
        if after.get("n"):
            rows.append(
                [
                    "… then the next brief (its caches read again)",
                    f"p50 {_f(after.get('p50'), 1)} ms (max {_f(after.get('max'), 1)})",
                    "reported",
                    "",
                ]
            )
        came, went = reindex.get("file_added_ms", {}), reindex.get("file_deleted_ms", {})
        if came.get("n"):
            rows.append(
                [
                    "… a new file, then the same file deleted",
                    f"p50 {_f(came.get('p50'), 1)} / {_f(went.get('p50'), 1)} ms",
                    "reported",
                    "",
                ]
            )
        vec = reindex.get("one_file_with_vectors_ms", {})
        if vec.get("n"):
            rows.append(
                [
                    "… the same with its new vectors",
                    f"p50 {_f(vec.get('p50'), 1)} ms",
                    "reported",
                    "",
                ]
            )
        mem = reindex.get("remember_ms", {})
        if mem.get("n"):
            rows.append(
                [
                    "`remember` (write + index one memory)",
                    f"p50 {_f(mem.get('p50'), 1)} ms",
                    "reported",
                    "",
                ]
            )
    rss = max((result.get(k) or {}).get("peak_rss_mb", 0.0) for k in ("brief", "brief_lexical"))
    rows.append(
        [
            "peak RSS of the serving process",
            f"{_f(rss, 0)} MB (indexing process {_f(index.get('peak_rss_mb'), 0)} MB)",
            f"≤ {_f(targets.get('server_rss_mb'), 0)} MB",
            ok("server_rss_mb"),
        ]
    )
    mcp = result.get("mcp", {})
    trip = mcp.get("round_trip_ms") if isinstance(mcp, dict) else None
    if trip:
        rows.append(
            [
                "get_context through MCP (stdio, warm)",
                f"p50 {_f(trip.get('p50'), 1)} / p99 {_f(trip.get('p99'), 1)} ms; server "
                f"{_f(mcp.get('server_rss_mb'), 0)} MB",
                "p50 ≤ 30 ms",
                "yes" if (trip.get("p50") or 1e9) <= 30 else "no",
            ]
        )
    elif mcp:
        rows.append(["brief through MCP", mcp.get("note", ""), "p50 ≤ 30 ms", ""])
    return rows


def generic_rows(result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """A table of any result (the labelled-set evaluators): one row per dict of numbers."""
    columns: list[str] = []
    rows: list[tuple[str, dict[str, Any]]] = []
    for key, value in result.items():
        if not isinstance(value, dict) or key in ("machine",):
            continue
        numbers = {
            k: v for k, v in value.items() if isinstance(v, int | float) and not isinstance(v, bool)
        }
        if len(numbers) >= 2:
            rows.append((key, numbers))
            columns += [k for k in numbers if k not in columns]
    columns = columns[:9]
    return ["", *columns], [[k, *(_f(n.get(c)) for c in columns)] for k, n in rows]


def stage_rows(result: dict[str, Any]) -> list[list[str]]:
    """Per-stage p50/p99 of the brief (from the packets' timings)."""
    brief = result.get("brief") or result.get("brief_lexical") or {}
    return [
        [name, _f(v["p50"], 2), _f(v["p99"], 2)] for name, v in brief.get("stages_ms", {}).items()
    ]


# ---- terminal ----------------------------------------------------------------------------


def print_result(console: Any, name: str, result: dict[str, Any]) -> None:
    """One suite's result as rich tables."""
    from rich.table import Table

    def table(title: str, header: list[str], rows: list[list[str]]) -> None:
        t = Table(title=title, title_justify="left")
        for n, col in enumerate(header):
            t.add_column(col, justify="left" if n == 0 else "right")
        for row in rows:
            t.add_row(*[r.replace("**", "") for r in row])
        console.print(t)

    if "note" in result and "systems" not in result and "index" not in result:
        console.print(f"[bold]{name}[/]: {result['note']}")
        return
    if result.get("suite") == "latency":
        table(
            f"{name}: {_corpus_line(result)}",
            ["measure", "value", "target", "met"],
            latency_rows(result),
        )
        table(f"{name}: brief stages (ms)", ["stage", "p50", "p99"], stage_rows(result))
    elif "systems" in result:
        table(f"{name}: {_recall_title(result)}", recall_header(result), recall_rows(result))
        header, rows = group_rows(result)
        table(f"{name}: recall@10 by group", header, rows)
    else:
        header, rows = generic_rows(result)
        if rows:
            table(name, header, rows)
        else:
            console.print(f"[bold]{name}[/]: {', '.join(sorted(result))[:300]}")


def _corpus_line(result: dict[str, Any]) -> str:
    corpus = result.get("corpus", {})
    if corpus.get("kind") == "generated":
        return (
            f"{_f(corpus.get('files'))} files + {_f(corpus.get('memories'))} memories (generated)"
        )
    return f"project {corpus.get('path', '')} ({_f(corpus.get('files'))} files)"


def _peer_line(peer: str, stats: dict[str, Any]) -> str:
    """One sentence on how a peer ran: basic-memory's ingestion, or any other peer's stats."""
    if "notes_ingested" in stats:
        return (
            f"Peer {peer}: search {stats.get('search_mode')}; "
            f"{stats.get('notes_ingested')} notes written through its own tools at "
            f"{stats.get('ingest_ms_per_note')} ms per note (first-write warm-up "
            f"included); {stats.get('notes_refused', 0)} refused."
        )

    def said(key: str, value: Any) -> str:
        unit = next((u for u in ("_ms", "_s") if key.endswith(u)), "")
        shown = f"{value:g}" if isinstance(value, float) else _f(value)
        return f"{key.removesuffix(unit).replace('_', ' ')} {shown}{unit.replace('_', ' ')}"

    rest = "; ".join(said(k, v) for k, v in stats.items() if k != "search_mode")
    return f"Peer {peer}: {stats.get('search_mode')}" + (f"; {rest}." if rest else ".")


def _recall_title(result: dict[str, Any]) -> str:
    if result.get("suite") == "locomo":
        return f"LoCoMo evidence recall, {result.get('questions')} questions"
    if result.get("suite") == "history":
        return f"files touched, {result.get('repository')}, {result.get('commits')} commits"
    return str(result.get("suite", ""))


# ---- plots -------------------------------------------------------------------------------


def plots(results: dict[str, dict[str, Any]], folder: Path) -> list[Path]:
    """Recall@k curves, latency distributions and tokens-vs-recall as PNGs in `folder`.

    Raises:
        PlotsUnavailable: matplotlib is missing (with the install hint).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotsUnavailable("plots need matplotlib: pip install 'kenning[bench]'") from None
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, result in results.items():
        if "systems" in result and result.get("ks"):
            fig, ax = plt.subplots(figsize=(6, 4))
            ks = result["ks"]
            for system, summary in result["systems"].items():
                rec = summary["groups"]["all"]["recall"]
                ax.plot(
                    ks,
                    [rec[str(k)] for k in ks],
                    marker="o",
                    label=system,
                    linewidth=2.5 if system.startswith(KENNING_PREFIX) else 1.2,
                )
            ax.set_xlabel("k")
            ax.set_ylabel("recall@k")
            ax.set_xticks(ks)
            ax.set_ylim(0, 1)
            ax.set_title(f"{name}: recall@k")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
            written.append(_save(fig, folder / f"{name}-recall.png"))
            fig, ax = plt.subplots(figsize=(6, 4))
            for system, summary in result["systems"].items():
                tokens = summary.get("tokens", {}).get("mean")
                if tokens is None:
                    continue
                r10 = summary["groups"]["all"]["recall"].get("10", 0)
                ax.scatter([tokens], [r10], s=60)
                ax.annotate(
                    system, (tokens, r10), fontsize=8, xytext=(4, 4), textcoords="offset points"
                )
            ax.set_xlabel("tokens returned (mean)")
            ax.set_ylabel("recall@10")
            ax.set_ylim(0, 1)
            ax.set_title(f"{name}: tokens vs recall")
            ax.grid(alpha=0.3)
            written.append(_save(fig, folder / f"{name}-tokens.png"))
        if result.get("suite") == "latency":
            fig, ax = plt.subplots(figsize=(6, 4))
            for key, label in (("brief_lexical", "lexical"), ("brief", "hybrid")):
                samples = (result.get(key) or {}).get("samples_ms")
                if samples:
                    ax.hist(
                        samples,
                        bins=40,
                        alpha=0.6,
                        label=f"{label} (p50 {result[key]['latency_ms']['p50']:.0f} ms)",
                    )
            ax.set_xlabel("brief latency, warm (ms)")
            ax.set_ylabel("requests")
            ax.set_title(f"{name}: {_corpus_line(result)}")
            ax.legend(fontsize=8)
            written.append(_save(fig, folder / f"{name}-latency.png"))
    return written


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


# ---- docs --------------------------------------------------------------------------------


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def losses(results: dict[str, dict[str, Any]]) -> list[str]:
    """Plain sentences for every comparison kenning loses and every target it misses."""
    out: list[str] = []
    for name, result in results.items():
        if result.get("suite") == "latency":
            verdict = result.get("verdict", {})
            missed = [k for k, v in verdict.items() if not v]
            if missed:
                out.append(f"`{name}`: misses the target(s) {', '.join(missed)} (see the table).")
            continue
        systems = result.get("systems", {})

        def r(system: str, k: str, systems: dict[str, Any] = systems) -> float:
            summary = systems.get(system, {}).get("groups", {}).get("all", {})
            return float(summary.get("recall", {}).get(k, 0.0))

        if result.get("suite") == "locomo" and "kenning-search" in systems:
            best = max(
                (n for n in systems if n.startswith(KENNING_PREFIX)), key=lambda n: r(n, "10")
            )
            if r(best, "10") < LOCOMO_TARGET:
                out.append(
                    f"`{name}`: the R@10 target of {LOCOMO_TARGET} is missed: kenning-search "
                    f"{r('kenning-search', '10'):.3f}, best kenning row {best} {r(best, '10'):.3f}."
                )
        if result.get("suite") == "history" and "bm25" in systems:
            floor = r("bm25", "5") + HISTORY_MARGIN
            out.extend(
                f"`{name}`: {system} R@5 {r(system, '5'):.3f} misses the target "
                f"BM25 + {HISTORY_MARGIN} = {floor:.3f}."
                for system in ("kenning-brief", "kenning-search")
                if system in systems and r(system, "5") < floor
            )
        ours = {k: v for k, v in systems.items() if k.startswith(KENNING_PREFIX)}
        others = {k: v for k, v in systems.items() if not k.startswith(KENNING_PREFIX)}
        for k in ("5", "10"):
            best_ours = max(
                ours.items(),
                key=lambda kv: kv[1]["groups"]["all"]["recall"].get(k, 0),
                default=None,
            )
            if best_ours is None:
                continue
            ours_r = best_ours[1]["groups"]["all"]["recall"].get(k, 0)
            for other, summary in others.items():
                theirs = summary["groups"]["all"]["recall"].get(k, 0)
                if theirs > ours_r:
                    out.append(
                        f"`{name}`: {other} beats kenning's best ({best_ours[0]}) at R@{k}: "
                        f"{theirs:.4f} vs {ours_r:.4f}."
                    )
            groups = best_ours[1]["groups"]
            for other, summary in others.items():
                for g, stats in summary["groups"].items():
                    if g == "all" or g not in groups:
                        continue
                    theirs = stats["recall"].get(k, 0)
                    mine = groups[g]["recall"].get(k, 0)
                    if theirs > mine + 0.02 and k == "10":
                        out.append(
                            f"`{name}`, {g}: {other} R@10 {theirs:.3f} vs {best_ours[0]} {mine:.3f}."
                        )
    return out


def markdown(
    results: dict[str, dict[str, Any]],
    plot_files: Iterable[Path] = (),
    docs_dir: Path | None = None,
    notes: str = "",
) -> str:
    """`docs/benchmarks.md` from saved results (tables, plots, commands, machine, losses)."""
    parts: list[str] = [
        "# Benchmarks",
        "",
        "<!-- Generated by `kenning bench --from bench/results --docs docs/benchmarks.md` from the "
        "JSON in bench/results/. Edit bench/results/NOTES.md, not this file. -->",
        "",
        "Every number below was measured by `kenning bench` (the scripts in `bench/` call the same "
        "code) and is regenerated from the JSON results; the command that produced each result is "
        "given with it.",
        "",
    ]
    machines = {
        json.dumps(
            {k: v for k, v in r["machine"].items() if k not in ("commit", "load_average")},
            sort_keys=True,
        )
        for r in results.values()
        if r.get("machine")
    }
    if machines:
        parts += ["## Machine", ""]
        for m in sorted(machines):
            info = json.loads(m)
            parts.append(
                f"- {info.get('cpu')}, {info.get('cores')} cores, {info.get('memory_gb')} GB RAM, "
                f"{info.get('os')}, Python {info.get('python')}, kenning {info.get('kenning')}"
            )
        parts += [
            "",
            "The machine is shared with other work while benchmarks run (the load average says by "
            "how much), so wall-clock latencies are pessimistic; CPU times are given beside them.",
            "",
        ]
    if notes.strip():
        parts += [notes.strip(), ""]
    plot_list = list(plot_files)
    for name, result in results.items():
        parts += [f"## {name}", ""]
        if result.get("command"):
            machine = result.get("machine", {})
            load = ", ".join(str(x) for x in machine.get("load_average", []))
            parts += [
                f"Command: `{result['command']}` (measured {result.get('measured_at', '')} at "
                f"commit {machine.get('commit')}; load average at the end {load})",
                "",
            ]
        if result.get("suite") == "latency":
            comp = result.get("corpus", {}).get("composition") or {}
            listed = ", ".join(f"{v:,} {k}" for k, v in comp.items())
            parts += [
                f"Corpus: {_corpus_line(result)}" + (f" ({listed})" if listed else "") + ".",
                "",
            ]
            parts += [_md_table(["measure", "value", "target", "met"], latency_rows(result)), ""]
            stages = stage_rows(result)
            if stages:
                parts += [
                    "Brief stages (ms, wall, from each packet's timings; `retrieve.memory.*` and "
                    "`retrieve.code.*` time the brief's two searches, memories first):",
                    "",
                    _md_table(["stage", "p50", "p99"], stages),
                    "",
                ]
        elif "systems" in result:
            parts += [_md_table(recall_header(result), recall_rows(result)), ""]
            header, rows = group_rows(result)
            parts += ["Recall@10 by group:", "", _md_table(header, rows), ""]
            if result.get("suite") == "locomo":
                ds = result.get("dataset", {})
                parts += [
                    f"Data: {ds.get('conversations')} conversations, {ds.get('turns')} turns, "
                    f"{ds.get('questions')} questions with evidence ({ds.get('without_evidence')} "
                    f"without, skipped); {ds.get('evidence_normalised')} evidence ids normalised, "
                    f"{len(ds.get('evidence_dropped', []))} dropped as unknown.",
                    "",
                ]
            for peer, stats in (result.get("peers") or {}).items():
                parts += [_peer_line(peer, stats), ""]
            if result.get("suite") == "history":
                parts += [
                    f"Skipped commits: {', '.join(f'{v} {k}' for k, v in result.get('skipped', {}).items()) or 'none'}. "
                    f"Index: first {result.get('index_seconds', {}).get('first')} s, then "
                    f"{result.get('index_seconds', {}).get('incremental_mean')} s per parent (incremental).",
                    "",
                ]
        elif "note" in result:
            parts += [str(result["note"]), ""]
        else:
            header, rows = generic_rows(result)
            if rows:
                parts += [_md_table(header, rows), ""]
        for plot in plot_list:
            if plot.stem in (f"{name}-recall", f"{name}-tokens", f"{name}-latency"):
                rel = plot if docs_dir is None else Path(_relpath(plot, docs_dir))
                parts += [f"![{plot.stem}]({rel.as_posix()})", ""]
    lost = losses(results)
    parts += ["## Where kenning loses", ""]
    parts += [f"- {line}" for line in lost] if lost else ["- Nothing in these results."]
    parts.append("")
    return "\n".join(parts)


def _relpath(path: Path, start: Path) -> str:
    import os

    return os.path.relpath(path.resolve(), start.resolve())
