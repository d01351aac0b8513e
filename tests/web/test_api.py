"""The JSON API over a live server: graph, memories (edits write the files), brief, bench."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from click.testing import CliRunner
from web_helpers import Client

from kenning.cli import cli
from kenning.memory import parse_memory

MONEY = "money-is-integer-cents-b41a"


def _file(project: Path, memory_id: str) -> Path:
    return next((project / ".kenning" / "memories").glob(f"*/{memory_id}.md"))


def test_status_counts_nodes_and_lists_intents(client: Client) -> None:
    data = client.get("/api/status").json()
    assert data["project"] == "tidewater"
    assert data["nodes"]["file"] > 10 and data["nodes"]["decision"] >= 9
    assert "fix" in data["intents"] and "decision" in data["memory_kinds"]
    assert data["indexed_at"].endswith("Z") and data["indexed_at"][:2] == "20"


def test_index_page_and_static_files_are_served(client: Client) -> None:
    page = client.get("/")
    assert page.status == 200 and b'src="/static/app.js"' in page.body
    script = client.get("/static/graph.js")
    assert script.status == 200 and "javascript" in script.headers["content-type"]


def test_graph_overview_is_capped(client: Client) -> None:
    data = client.get("/api/graph?limit=50").json()
    assert len(data["nodes"]) == 50 and data["truncated"] and data["total"] > 50
    ids = {n["id"] for n in data["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in data["edges"])


def test_graph_focus_kinds_search_and_node(client: Client) -> None:
    focus = client.get(f"/api/graph?focus=mem:{MONEY}&kinds=file,decision").json()
    assert focus["focus"] == f"mem:{MONEY}"
    assert {n["kind"] for n in focus["nodes"]} <= {"file", "decision"}
    assert "file:src/tidewater/money.py" in {n["id"] for n in focus["nodes"]}
    found = client.get("/api/graph/search?q=settlement&kinds=term").json()["results"]
    assert [n["label"] for n in found] == ["Settlement run"]
    node = client.get("/api/graph/node?id=file:src/tidewater/money.py").json()
    assert node["kind"] == "file" and node["relations"]
    assert client.get("/api/graph?focus=file:nope.py").status == 404
    assert client.get("/api/graph/node?id=nope").status == 404


def test_memory_list_filters_and_flags_stale(client: Client) -> None:
    data = client.get("/api/memories").json()
    assert data["counts"]["stale"] == 1
    first = data["memories"][0]
    assert first["stale"] and "retry_state.py" in first["stale"][0]
    decisions = client.get("/api/memories?kind=decision&status=all").json()["memories"]
    assert {m["kind"] for m in decisions} == {"decision"}
    assert any(m["status"] == "superseded" and m["superseded_by"] for m in decisions)
    active = client.get("/api/memories?kind=decision").json()["memories"]
    assert all(m["status"] == "active" for m in active) and len(active) < len(decisions)
    assert [m["id"] for m in client.get("/api/memories?q=never+float").json()["memories"]] == [
        MONEY
    ]
    assert len(client.get("/api/memories?stale=1").json()["memories"]) == 1


def test_memory_detail_has_provenance_file_and_relations(client: Client) -> None:
    data = client.get(f"/api/memories/{MONEY}").json()
    assert data["source"] == "human" and data["created"].startswith("2025-02-18")
    assert data["file"] == f".kenning/memories/decision/{MONEY}.md"
    assert data["raw"].startswith("---\n") and data["version"]
    assert any(r["relation"] == "mentions" for r in data["relations"])
    assert client.get("/api/memories/no-such-id").status == 404


def test_editing_a_memory_rewrites_its_file(client: Client, project: Path) -> None:
    path = _file(project, MONEY)
    version = client.get(f"/api/memories/{MONEY}").json()["version"]
    answer = client.patch(
        f"/api/memories/{MONEY}",
        {"body": "Amounts are integer cents.", "tags": "money, cents", "version": version},
    )
    assert answer.status == 200, answer.body
    on_disk = parse_memory(path.read_text(), path)
    assert on_disk.body == "Amounts are integer cents."
    assert on_disk.tags == ("money", "cents")
    assert on_disk.title == "Money is integer cents, never float"
    assert answer.json()["version"] != version


def test_a_stale_version_is_refused_and_nothing_is_written(client: Client, project: Path) -> None:
    path = _file(project, MONEY)
    before = path.read_text()
    answer = client.patch(f"/api/memories/{MONEY}", {"body": "x", "version": "0" * 20})
    assert answer.status == 409 and "changed on disk" in answer.json()["error"]
    assert path.read_text() == before


def test_bad_edits_are_400_with_the_reason(client: Client) -> None:
    assert client.patch(f"/api/memories/{MONEY}", {"status": "deleted"}).status == 400
    assert client.patch(f"/api/memories/{MONEY}", {"id": "other"}).status == 400
    assert client.patch(f"/api/memories/{MONEY}", {"title": ""}).status == 400
    answer = client.request("PATCH", f"/api/memories/{MONEY}", None)
    assert answer.status == 200  # an empty body changes nothing


def test_supersede_writes_a_new_file_and_marks_the_old(client: Client, project: Path) -> None:
    answer = client.post(
        f"/api/memories/{MONEY}/supersede",
        {"title": "Money is integer minor units", "body": "Use minor units, per currency."},
    )
    assert answer.status == 201, answer.body
    new = answer.json()["memory"]
    assert new["supersedes"] == MONEY and new["source"] == "ui" and new["kind"] == "decision"
    assert _file(project, new["id"]).is_file()
    old = parse_memory(_file(project, MONEY).read_text(), _file(project, MONEY))
    assert old.status == "superseded"
    assert client.get(f"/api/memories/{MONEY}").json()["superseded_by"] == new["id"]


def test_retire_keeps_the_file(client: Client, project: Path) -> None:
    answer = client.post(f"/api/memories/{MONEY}/retire")
    assert answer.status == 200 and answer.json()["status"] == "retired"
    path = _file(project, MONEY)
    assert parse_memory(path.read_text(), path).status == "retired"


def test_brief_returns_the_packet_with_timings(client: Client) -> None:
    data = client.post("/api/brief", {"request": "fix rounding of VAT on invoices"}).json()
    assert data["intent"] == "fix"
    assert data["items"] and {"kind", "ref", "score", "why", "tokens"} <= set(data["items"][0])
    assert data["tokens"] <= data["budget"] == 2000
    assert {"classify", "retrieve", "pack"} <= set(data["timings"])
    assert data["markdown"].startswith("# Context for:")


def test_brief_under_two_budgets_and_a_forced_intent(client: Client) -> None:
    small = client.post(
        "/api/brief", {"request": "add retries to the webhook sender", "budget": 300}
    ).json()
    large = client.post(
        "/api/brief", {"request": "add retries to the webhook sender", "budget": 4000}
    ).json()
    assert small["tokens"] <= 300 < large["tokens"]
    forced = client.post(
        "/api/brief", {"request": "add retries to the webhook sender", "intent": "recall"}
    ).json()
    assert forced["intent"] == "recall" and forced["forced_intent"] == "recall"
    assert client.post("/api/brief", {"request": "x", "intent": "dance"}).status == 400
    assert client.post("/api/brief", {"request": "  "}).status == 400
    assert client.request("POST", "/api/brief", [1, 2]).status == 400


def test_bench_reads_the_newest_result_of_each_suite(client: Client, bench_dir: Path) -> None:
    assert client.get("/api/bench").json()["results"] == []
    (bench_dir / "latency-2026-01-01.json").write_text(json.dumps({"p50_ms": 30}))
    newer = bench_dir / "latency-2026-02-01.json"
    newer.write_text(json.dumps({"suite": "latency", "p50_ms": 12.5}))
    os.utime(newer, (2_000_000_000, 2_000_000_000))
    (bench_dir / "broken.json").write_text("{")
    results = {r["suite"]: r for r in client.get("/api/bench").json()["results"]}
    assert results["latency"]["data"]["p50_ms"] == 12.5
    assert results["broken"]["error"].startswith("cannot read")


def test_ui_command_reports_a_busy_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["ui", "--no-open", "--port", str(port)])
    assert result.exit_code == 1
    assert "pick another with --port" in result.output
