"""The team server over real HTTP: tokens, projects (403), scopes, and no cross-user leaks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from synchelp import FakeEmbedder

from kenning.sync.pgstore import Principal, TeamDatabase
from kenning.sync.team import BackgroundServer, build_team_app, project_key

APP = "github.com/acme/app"


@pytest.fixture
def team(pg_url: str) -> Iterator[tuple[TeamDatabase, str]]:
    db = TeamDatabase(pg_url, embedder=FakeEmbedder())
    server = BackgroundServer(build_team_app(db, token_ttl=0)).start()
    yield db, server.url
    server.stop()
    db.close()


async def _call(
    url: str, token: str, tool: str, args: dict[str, Any], project: str | None = APP
) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    if project:
        headers["Kenning-Project"] = project
    async with httpx2.AsyncClient(headers=headers) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            return await client.call_tool(tool, args)


def call(url: str, token: str, tool: str, args: dict[str, Any], project: str | None = APP) -> Any:
    return anyio.run(_call, url, token, tool, args, project)


def post(url: str, headers: dict[str, str]) -> httpx2.Response:
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    return httpx2.post(url, json=body, headers={"Accept": "application/json", **headers})


def test_project_key_accepts_urls_and_keys() -> None:
    assert project_key("git@github.com:Acme/App.git") == APP
    assert project_key("github.com/Acme/App") == APP
    assert project_key("path:/srv/app") == "path:/srv/app"
    assert project_key("  ") is None


def test_requests_without_a_valid_token_get_401(team: tuple[TeamDatabase, str]) -> None:
    db, url = team
    assert post(url, {}).status_code == 401
    assert post(url, {"Authorization": "Bearer knt_nope"}).status_code == 401
    token = db.issue_token("ana", APP)
    assert db.revoke_token(token)
    response = post(url, {"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "revoked" in response.json()["error"]


def test_a_token_for_another_project_gets_403(team: tuple[TeamDatabase, str]) -> None:
    db, url = team
    token = db.issue_token("ana", APP)
    refused = post(
        url, {"Authorization": f"Bearer {token}", "Kenning-Project": "github.com/acme/other"}
    )
    assert refused.status_code == 403 and "github.com/acme/app" in refused.json()["error"]
    same = post(
        url,
        {"Authorization": f"Bearer {token}", "Kenning-Project": "https://github.com/Acme/App.git"},
    )
    assert same.status_code == 200


def test_memories_are_tagged_by_author_and_scoped(team: tuple[TeamDatabase, str]) -> None:
    db, url = team
    ana, ben = db.issue_token("ana", APP), db.issue_token("ben")  # ben's token: any project
    made = call(
        url,
        ana,
        "remember",
        {"text": "Webhooks retry with exponential backoff", "kind": "decision"},
    )
    assert not made.is_error and made.structured_content["visibility"] == "project"
    shared = call(
        url, ana, "remember", {"text": "Reviews within one day", "kind": "rule", "team": True}
    )
    seen = call(url, ben, "get_context", {"request": "webhook retry backoff"})
    assert "by ana" in seen.content[0].text
    assert [i["id"] for i in seen.structured_content["items"]] == [made.structured_content["id"]]
    elsewhere = call(
        url, ben, "search", {"query": "reviews webhooks"}, project="github.com/acme/other"
    )
    assert [r["id"] for r in elsewhere.structured_content["results"]] == [
        shared.structured_content["id"]
    ]


def test_a_users_personal_memories_never_reach_another_user(team: tuple[TeamDatabase, str]) -> None:
    db, url = team
    ana, ben = db.issue_token("ana", APP), db.issue_token("ben", APP)
    secret = call(
        url,
        ana,
        "remember",
        {"text": "Ana's salary review is in May", "kind": "fact", "personal": True},
    )
    memory_id = secret.structured_content["id"]
    assert call(url, ana, "get", {"id": memory_id}).structured_content["id"] == memory_id
    for tool, args in (
        ("get", {"id": memory_id}),
        ("forget", {"id": memory_id}),
    ):
        denied = call(url, ben, tool, args)
        assert denied.is_error and "no memory" in denied.content[0].text
    found = call(url, ben, "get_context", {"request": "salary review May"})
    assert found.structured_content["items"] == []
    assert call(url, ben, "search", {"query": "salary"}).structured_content["results"] == []


def test_a_database_restart_during_remember_calls_loses_nothing(
    pg_cluster: object, team: tuple[TeamDatabase, str]
) -> None:
    import threading

    db, url = team
    tokens = [db.issue_token(f"writer{i}", APP) for i in range(3)]
    acked: list[str] = []
    errors: list[str] = []

    async def writer(token: str, n: int) -> None:
        headers = {"Authorization": f"Bearer {token}", "Kenning-Project": APP}
        async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                for i in range(n):
                    result = await client.call_tool(
                        "remember", {"text": f"{token[-6:]} restart note {i}", "kind": "note"}
                    )
                    if result.is_error:
                        errors.append(result.content[0].text)
                    else:
                        acked.append(result.structured_content["id"])

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for token in tokens:
                group.start_soon(writer, token, 25)

    runner = threading.Thread(target=anyio.run, args=(main,))
    runner.start()
    while len(acked) < 15 and runner.is_alive():
        threading.Event().wait(0.01)
    pg_cluster.restart(mode="immediate")  # type: ignore[attr-defined]
    runner.join(timeout=120)
    assert errors == [] and len(acked) == 75
    assert db.retries > 0  # the server saw the restart and retried
    stored = {m.id for m in db.store(Principal("anyone", APP)).all()}
    assert set(acked) <= stored
