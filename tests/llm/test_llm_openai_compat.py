"""The OpenAI-compatible backend against a real ``python -m llama_cpp.server`` on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from kenning.llm.base import (
    ChatModel,
    Message,
    ModelNotFound,
    RemoteURLRefused,
    ServerUnavailable,
)
from kenning.llm.discovery import probe_servers
from kenning.llm.openai_compat import (
    OpenAICompatModel,
    is_loopback_host,
    list_models,
    match_model,
    parse_url,
)

QUESTION = [
    Message("system", "Answer from the context only."),
    Message(
        "user",
        "Context:\n[mem:staging-port] fact: Staging port\nThe staging server listens on port "
        "8443.\n\nQuestion: Which port does the staging server listen on?",
    ),
]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:11434/v1", "http://127.0.0.1:11434/v1"),
        ("http://localhost:1234", "http://localhost:1234/v1"),
        ("127.0.0.1:8080", "http://127.0.0.1:8080/v1"),
        ("http://[::1]:8000/v1/", "http://[::1]:8000/v1"),
        ("http://127.0.0.2:9000/api/v1", "http://127.0.0.2:9000/api/v1"),
    ],
)
def test_loopback_urls_are_accepted_and_normalised(url, expected):
    assert parse_url(url).url == expected


@pytest.mark.parametrize(
    "url", ["http://10.0.0.5:11434/v1", "https://api.openai.com/v1", "http://example.local:80"]
)
def test_remote_urls_are_refused_unless_allowed(url):
    with pytest.raises(RemoteURLRefused, match="not on this machine"):
        parse_url(url)
    assert not parse_url(url, allow_remote=True).is_loopback


def test_loopback_check_makes_no_dns_lookup():
    assert is_loopback_host("localhost") and is_loopback_host("127.8.0.1")
    assert is_loopback_host("::1")
    assert not is_loopback_host("localhost.evil.example")
    assert not is_loopback_host("0.0.0.0")


def test_bad_urls_say_what_a_good_one_looks_like():
    with pytest.raises(ServerUnavailable, match="http://127.0.0.1:11434/v1"):
        parse_url("ftp://127.0.0.1/v1")


def test_server_down_is_a_clear_error(unused_port):
    port = unused_port
    with pytest.raises(ServerUnavailable, match="connection refused") as info:
        list_models(f"http://127.0.0.1:{port}/v1", timeout=1.0)
    assert "ollama serve" in str(info.value)


@pytest.fixture
def not_an_openai_server() -> Iterator[str]:
    """A loopback HTTP server that answers 404 to everything (like a wrong path)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(
                    b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
                    b"Content-Length: 9\r\nConnection: close\r\n\r\nnot found"
                )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    stop.set()
    sock.close()
    thread.join(timeout=5)


def test_a_server_that_is_not_openai_compatible_is_named_as_such(not_an_openai_server):
    with pytest.raises(ServerUnavailable, match="HTTP 404.*OpenAI-compatible"):
        list_models(not_an_openai_server)


def test_ollama_latest_tag_is_implied():
    assert match_model("llama3.2", ["llama3.2:latest", "qwen2.5:3b"]) == "llama3.2:latest"
    assert match_model("qwen2.5:3b", ["llama3.2:latest", "qwen2.5:3b"]) == "qwen2.5:3b"
    assert match_model("phi4", ["llama3.2:latest"]) is None


def test_lists_the_models_of_a_running_server(llama_server):
    assert list_models(llama_server.url) == [llama_server.alias]


def test_streams_an_answer_from_the_context(llama_server):
    model = OpenAICompatModel(llama_server.url)
    assert isinstance(model, ChatModel)
    assert model.name == llama_server.alias
    pieces = list(model.stream(QUESTION, max_tokens=48, temperature=0.0))
    assert len(pieces) > 1, "the answer arrives in pieces"
    assert "8443" in "".join(pieces)


def test_generate_returns_the_whole_answer(llama_server):
    model = OpenAICompatModel(llama_server.url, llama_server.alias)
    assert "8443" in model.generate(QUESTION, max_tokens=48, temperature=0.0)


def test_missing_model_lists_what_the_server_has(llama_server):
    with pytest.raises(ModelNotFound, match="has no model 'llama3.2'.*smollm2"):
        OpenAICompatModel(llama_server.url, "llama3.2")


def test_probe_reports_running_and_stopped_servers(llama_server, unused_port):
    down = f"http://127.0.0.1:{unused_port}/v1"
    listings = probe_servers({"test": llama_server.url, "down": down})
    assert listings[0].running and listings[0].models == [llama_server.alias]
    assert not listings[1].running and listings[1].error


def test_probe_never_contacts_a_remote_url():
    (listing,) = probe_servers({"remote": "http://192.0.2.1:11434/v1"}, timeout=5.0)
    assert not listing.running and "not on this machine" in (listing.error or "")
