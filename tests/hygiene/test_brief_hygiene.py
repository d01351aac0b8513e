"""Packets hold the live end of each chain; stale memories rank lower and say why."""

from __future__ import annotations

from kenning.engine.pack import Packet
from kenning.workspace import Workspace


def items(packet: Packet) -> dict[str, tuple[str, str]]:
    return {
        i.ref: (i.status, i.why) for i in packet.items if i.kind not in ("file", "symbol", "doc")
    }


def test_a_stale_memory_is_labelled_and_ranked_down(ws: Workspace) -> None:
    memory = ws.remember("Email delivery: `Mailer.try_send` retries the SMTP handshake", "fact")
    request = "SMTP handshake retries"
    before = {i.ref: i for i in ws.brief(request, use_dense=False).items}[memory.id]
    assert before.status == "active"
    (ws.root / "app" / "mailer.py").write_text("")
    ws.index(embed=False)
    packet = ws.brief(request, use_dense=False)
    after = {i.ref: i for i in packet.items}[memory.id]
    assert after.status == "stale" and "no longer defined" in after.why
    assert after.score < before.score
    assert "**stale**" in packet.to_markdown()
    assert {i["ref"]: i for i in packet.to_dict()["items"]}[memory.id]["status"] == "stale"


def test_expired_and_not_yet_valid_memories_stay_out_unless_history(ws: Workspace) -> None:
    old = ws.remember(
        "Deploy freeze for the audit: no deploys to production",
        "rule",
        extra={"valid_until": "2020-01-31"},
    )
    later = ws.remember(
        "Deploys to production need two approvals after the merger",
        "rule",
        extra={"valid_from": "2999-01-01"},
    )
    now = ws.remember("Deploys to production happen on Tuesdays", "rule")
    packet = ws.brief("deploys to production", use_dense=False)
    assert set(items(packet)) == {now.id}
    history = items(ws.brief("deploys to production", use_dense=False, history=True))
    assert history[old.id][0] == "expired" and history[later.id][0] == "pending"


def test_only_the_live_end_of_a_supersedes_chain_is_shown(ws: Workspace) -> None:
    first = ws.remember("Background jobs run on Celery workers", "decision")
    second = ws.remember(
        "Background jobs run on the Postgres queue", "decision", supersedes=first.id
    )
    packet = ws.brief("background jobs workers queue", use_dense=False)
    assert first.id not in items(packet) and second.id in items(packet)
    history = items(ws.brief("background jobs workers queue", use_dense=False, history=True))
    assert (
        history[first.id]
        == (
            "superseded",
            history[first.id][1],
        )
        and f"superseded by `{second.id}`" in history[first.id][1]
    )


def test_a_hand_written_supersedes_hides_the_old_memory_even_if_still_active(
    ws: Workspace,
) -> None:
    folder = ws.project.memories_dir / "decision"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "jobs-celery.md").write_text(
        "---\nkind: decision\ntitle: Background jobs run on Celery workers\n---\n"
    )
    (folder / "jobs-postgres.md").write_text(
        "---\nkind: decision\ntitle: Background jobs run on the Postgres queue\n"
        "supersedes: jobs-celery\n---\n"
    )
    ws.index(embed=False)
    got = items(ws.brief("background jobs workers queue", use_dense=False))
    assert "jobs-postgres" in got and "jobs-celery" not in got
