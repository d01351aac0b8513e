"""The OpenAI-compatible HTTP backend: Ollama, LM Studio, the llama.cpp server, vLLM.

kenning sends the user's code to whatever answers at the URL, so the URL must be on this
machine (``localhost``, ``127.0.0.0/8``, ``::1``) unless the caller explicitly allows a remote
one. The standard library's :mod:`http.client` does the talking: no HTTP dependency, and the
egress check has one code path to watch.

Endpoints used: ``GET /v1/models`` (listing, and checking a model exists) and
``POST /v1/chat/completions`` (with ``"stream": true``, read as server-sent events).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from kenning.llm.base import (
    GenerationError,
    Message,
    ModelNotFound,
    RemoteURLRefused,
    ServerUnavailable,
)

#: Where the usual local servers listen by default, probed by ``kenning models``.
KNOWN_SERVERS = {
    "ollama": "http://127.0.0.1:11434/v1",
    "lm-studio": "http://127.0.0.1:1234/v1",
    "llama.cpp": "http://127.0.0.1:8080/v1",
}

#: Most servers do not report their window over the OpenAI API; this is the usual default.
DEFAULT_CONTEXT_WINDOW = 4096

START_HINT = (
    "Start your server (Ollama: `ollama serve`; LM Studio: enable its local server; llama.cpp: "
    "`python -m llama_cpp.server --model FILE.gguf`) or point kenning at another one with "
    "`kenning config set model.url http://127.0.0.1:PORT/v1`."
)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A parsed server base URL, e.g. ``http://127.0.0.1:11434/v1``."""

    scheme: str
    host: str
    port: int
    base_path: str

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.base_path}"

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals; no DNS lookup is made."""
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_url(url: str, *, allow_remote: bool = False) -> Endpoint:
    """Parse and check a server URL; a bare ``host:port`` gets ``http://`` and ``/v1``.

    Raises:
        ServerUnavailable: the URL cannot be parsed.
        RemoteURLRefused: the host is not loopback and ``allow_remote`` is false.
    """
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ServerUnavailable(
            f"{url!r} is not a server URL; give one like http://127.0.0.1:11434/v1"
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ServerUnavailable(f"{url!r} has a bad port: {exc}") from exc
    path = parts.path.rstrip("/")
    if not path:
        path = "/v1"
    endpoint = Endpoint(parts.scheme, parts.hostname, port, path)
    if not allow_remote and not endpoint.is_loopback:
        raise RemoteURLRefused(
            f"{endpoint.url} is not on this machine, and kenning would send your code there. "
            "Use a server on localhost, or allow it explicitly with --allow-remote "
            "(or `kenning config set model.allow_remote true`)."
        )
    return endpoint


class _Client:
    """Just enough HTTP/1.1 for the two endpoints, with a short connect timeout."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        connect_timeout: float,
        read_timeout: float,
        api_key: str | None,
    ) -> None:
        self.endpoint = endpoint
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.api_key = api_key

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        cls = (
            http.client.HTTPSConnection
            if self.endpoint.scheme == "https"
            else http.client.HTTPConnection
        )
        conn = cls(self.endpoint.host, self.endpoint.port, timeout=self.connect_timeout)
        headers = {"Accept": "application/json, text/event-stream"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            conn.connect()
            if conn.sock is not None:
                conn.sock.settimeout(self.read_timeout)
            conn.request(method, self.endpoint.base_path + path, body=payload, headers=headers)
            return conn, conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise ServerUnavailable(
                f"No model server answers at {self.endpoint.url} ({_reason(exc)}). {START_HINT}"
            ) from exc

    def get_json(self, path: str) -> Any:
        conn, response = self.request("GET", path)
        try:
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ServerUnavailable(
                f"{self.endpoint.url} stopped answering ({_reason(exc)}). {START_HINT}"
            ) from exc
        finally:
            conn.close()
        if response.status != 200:
            raise ServerUnavailable(
                f"{self.endpoint.url}{path} answered HTTP {response.status}: "
                f"{_error_message(raw)}. Is this an OpenAI-compatible server? The URL "
                "usually ends in /v1."
            )
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ServerUnavailable(
                f"{self.endpoint.url}{path} did not answer JSON; is this an OpenAI-compatible "
                "server? The URL usually ends in /v1."
            ) from exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__


def _error_message(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:200] or "no body"
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data))
        if isinstance(error, dict):
            return str(error.get("message", error))[:300]
        return str(error)[:300]
    return text[:200]


def list_models(
    url: str,
    *,
    allow_remote: bool = False,
    timeout: float = 2.0,
    api_key: str | None = None,
) -> list[str]:
    """The model ids a server offers (``GET /v1/models``).

    Raises:
        ServerUnavailable: nothing answers, or not as an OpenAI-compatible server.
        RemoteURLRefused: see :func:`parse_url`.
    """
    endpoint = parse_url(url, allow_remote=allow_remote)
    client = _Client(endpoint, connect_timeout=timeout, read_timeout=timeout, api_key=api_key)
    data = client.get_json("/models")
    entries = data.get("data", []) if isinstance(data, dict) else []
    return [str(e["id"]) for e in entries if isinstance(e, dict) and "id" in e]


def match_model(wanted: str, available: Sequence[str]) -> str | None:
    """The server's id for ``wanted``: exact, or Ollama's implicit ``:latest`` tag."""
    if wanted in available:
        return wanted
    for candidate in (f"{wanted}:latest", wanted.lower()):
        if candidate in available:
            return candidate
    return None


class OpenAICompatModel:
    """A model behind an OpenAI-compatible server on loopback (implements ``ChatModel``)."""

    def __init__(
        self,
        url: str,
        model: str | None = None,
        *,
        context_window: int = DEFAULT_CONTEXT_WINDOW,
        allow_remote: bool = False,
        connect_timeout: float = 2.0,
        read_timeout: float = 300.0,
        api_key: str | None = None,
    ) -> None:
        """Connect to the server at ``url`` and pick ``model`` (default: its first model).

        Raises:
            RemoteURLRefused: the URL is not loopback and ``allow_remote`` is false.
            ServerUnavailable: nothing answers at the URL, or not as an OpenAI server.
            ModelNotFound: the server does not have ``model``.
        """
        self.endpoint = parse_url(url, allow_remote=allow_remote)
        self._client = _Client(
            self.endpoint,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            api_key=api_key,
        )
        data = self._client.get_json("/models")
        entries = data.get("data", []) if isinstance(data, dict) else []
        available = [str(e["id"]) for e in entries if isinstance(e, dict) and "id" in e]
        if model is None:
            if not available:
                raise ModelNotFound(
                    f"The server at {self.endpoint.url} has no model loaded. Load or pull one "
                    "(Ollama: `ollama pull llama3.2`), then try again."
                )
            chosen = available[0]
        else:
            found = match_model(model, available) if available else model
            if found is None:
                raise ModelNotFound(
                    f"The server at {self.endpoint.url} has no model {model!r}; it has: "
                    f"{', '.join(available)}. Pass one of those with --model (Ollama can "
                    f"fetch it: `ollama pull {model}`)."
                )
            chosen = found
        self.model = chosen
        self._window = context_window

    @property
    def name(self) -> str:
        """The server's model id."""
        return self.model

    @property
    def context_window(self) -> int:
        """As configured: the OpenAI API does not report a model's window."""
        return self._window

    def generate(
        self,
        messages: Sequence[Message],
        max_tokens: int = 512,
        temperature: float = 0.2,
        stop: Sequence[str] = (),
    ) -> str:
        """Return the whole answer (streamed underneath, so long answers do not time out)."""
        return "".join(self.stream(messages, max_tokens, temperature, stop))

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int = 512,
        temperature: float = 0.2,
        stop: Sequence[str] = (),
    ) -> Iterator[str]:
        """Yield the answer as the server streams it (server-sent events)."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m.to_dict() for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        if stop:
            body["stop"] = list(stop)
        conn, response = self._client.request("POST", "/chat/completions", body)
        try:
            if response.status != 200:
                message = _error_message(response.read())
                if response.status == 404 or "model" in message.lower():
                    raise ModelNotFound(
                        f"The server at {self.endpoint.url} could not use model "
                        f"{self.model!r}: {message}. `kenning models` lists what it has."
                    )
                raise GenerationError(
                    f"The server at {self.endpoint.url} refused the request "
                    f"(HTTP {response.status}): {message}"
                )
            yield from _read_events(response, self.endpoint.url)
        finally:
            conn.close()


def _read_events(response: http.client.HTTPResponse, url: str) -> Iterator[str]:
    """Parse ``data:`` lines of a chat-completions event stream into content pieces."""
    try:
        while True:
            line = response.readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").strip()
            if not text.startswith("data:"):
                continue
            data = text[5:].strip()
            if data == "[DONE]":
                return
            try:
                event = json.loads(data)
            except ValueError:
                continue
            if isinstance(event, dict) and "error" in event:
                raise GenerationError(f"The server at {url} failed: {_error_message(line[5:])}")
            for choice in event.get("choices", []) if isinstance(event, dict) else []:
                delta = choice.get("delta") or {}
                piece = delta.get("content")
                if piece:
                    yield str(piece)
    except (OSError, http.client.HTTPException) as exc:
        raise ServerUnavailable(f"{url} stopped answering mid-answer ({_reason(exc)}).") from exc
