"""The UI server's access rules: token, loopback Host, same Origin, cookie login, headers."""

from __future__ import annotations

import pytest
from web_helpers import TOKEN, Client

from kenning.web.security import COOKIE, Access, check, same_token
from kenning.web.server import UIServer

ACCESS = Access(port=8766, token="s3cret")
HOST = {"host": "127.0.0.1:8766"}


def test_same_token_rejects_empty_and_different_tokens() -> None:
    assert same_token("s3cret", "s3cret")
    assert not same_token("s3cre", "s3cret")
    assert not same_token("", "s3cret")
    assert not same_token(None, "s3cret")
    assert not same_token("x", "")


@pytest.mark.parametrize(
    ("method", "headers", "query", "status"),
    [
        ("GET", {**HOST, "authorization": "Bearer s3cret"}, "", 200),
        ("GET", {"host": "localhost:8766", "authorization": "Bearer s3cret"}, "", 200),
        ("GET", HOST, "", 401),
        ("GET", {**HOST, "authorization": "Bearer nope"}, "", 401),
        ("GET", {"host": "evil.example:8766", "authorization": "Bearer s3cret"}, "", 403),
        ("GET", {"host": "127.0.0.1:9999", "authorization": "Bearer s3cret"}, "", 403),
        (
            "GET",
            {**HOST, "authorization": "Bearer s3cret", "origin": "http://evil.example"},
            "",
            403,
        ),
        ("POST", {**HOST, "cookie": f"{COOKIE}=s3cret"}, "", 403),
        (
            "POST",
            {**HOST, "cookie": f"{COOKIE}=s3cret", "origin": "http://127.0.0.1:8766"},
            "",
            200,
        ),
        ("GET", {**HOST, "cookie": f"{COOKIE}=s3cret"}, "", 200),
        ("GET", {**HOST, "cookie": "garbage;;=="}, "", 401),
        ("POST", HOST, "token=s3cret", 401),
    ],
)
def test_check_applies_host_origin_and_token_rules(
    method: str, headers: dict[str, str], query: str, status: int
) -> None:
    assert check(ACCESS, method, headers, query).status == status


def test_token_in_the_url_logs_in_once() -> None:
    verdict = check(ACCESS, "GET", HOST, "token=s3cret")
    assert verdict.ok and verdict.via_query


def test_api_without_token_is_401_with_a_json_reason(client: Client) -> None:
    answer = client.get("/api/status", token=None)
    assert answer.status == 401
    assert "kenning ui" in answer.json()["error"]


def test_page_without_token_is_401_html(client: Client) -> None:
    answer = client.get("/", token=None)
    assert answer.status == 401
    assert answer.headers["content-type"].startswith("text/html")


def test_wrong_origin_is_403_even_with_the_token(client: Client) -> None:
    answer = client.get("/api/status", headers={"Origin": "http://attacker.example"})
    assert answer.status == 403


def test_rebinding_host_is_403(client: Client, server: UIServer) -> None:
    answer = client.get("/api/status", headers={"Host": f"attacker.example:{server.port}"})
    assert answer.status == 403


def test_login_url_sets_a_strict_cookie_and_drops_the_token(client: Client) -> None:
    answer = client.get(f"/?token={TOKEN}", token=None)
    assert answer.status == 303
    assert answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert f"{COOKIE}={TOKEN}" in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_cookie_changes_need_the_same_origin(client: Client, server: UIServer) -> None:
    cookie = {"Cookie": f"{COOKIE}={TOKEN}"}
    assert client.get("/api/status", token=None, headers=cookie).status == 200
    refused = client.post("/api/memories/x/retire", token=None, headers=cookie)
    assert refused.status == 403
    allowed = client.post(
        "/api/memories/no-such-memory/retire",
        token=None,
        headers={**cookie, "Origin": server.base},
    )
    assert allowed.status == 404


def test_answers_carry_security_headers(client: Client) -> None:
    answer = client.get("/api/status")
    assert answer.status == 200
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "no-referrer"


def test_server_listens_on_loopback_only(server: UIServer) -> None:
    assert server.socket.getsockname()[0] == "127.0.0.1"
