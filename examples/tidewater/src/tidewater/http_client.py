"""The one way tidewater talks HTTP to the outside world.

Rule (``.kenning`` rule ``outbound-http-through-http-client-7c21``): every outbound call in
``payments/`` and ``notifications/`` goes through :func:`request`, always with a timeout. This
module adds the timeout, a request id, the idempotency key header and structured logging.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

import httpx

from tidewater.settings import get_settings

log = logging.getLogger(__name__)

_client: httpx.Client | None = None


class HttpError(Exception):
    """An outbound call failed: a transport error or a non-2xx response."""

    def __init__(self, message: str, *, status_code: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.status_code = status_code
        self.retryable = retryable


def _shared_client() -> httpx.Client:
    global _client
    if _client is None:
        _client = httpx.Client(http2=False, follow_redirects=False)
    return _client


def request(
    method: str,
    url: str,
    *,
    timeout: float | None = None,
    json: Any = None,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    idempotency_key: str | None = None,
) -> httpx.Response:
    """Send one HTTP request and return the response; raise HttpError on failure.

    ``timeout`` defaults to ``Settings.http_timeout_seconds``; it is never ``None`` on the wire.
    A 5xx, 408 or 429 response and any transport error are marked ``retryable``.
    """
    effective_timeout = timeout if timeout is not None else get_settings().http_timeout_seconds
    request_id = uuid.uuid4().hex[:16]
    all_headers = {"User-Agent": "tidewater/0.7", "X-Request-Id": request_id}
    if idempotency_key:
        all_headers["Idempotency-Key"] = idempotency_key
    if headers:
        all_headers.update(headers)
    try:
        response = _shared_client().request(
            method, url, json=json, content=content, headers=all_headers, timeout=effective_timeout
        )
    except httpx.TransportError as exc:
        log.warning("http %s %s failed: %s", method, url, exc, extra={"request_id": request_id})
        raise HttpError(f"{method} {url}: {exc}", retryable=True) from exc
    log.info(
        "http %s %s -> %s", method, url, response.status_code, extra={"request_id": request_id}
    )
    if response.status_code >= 400:
        retryable = response.status_code >= 500 or response.status_code in (408, 429)
        raise HttpError(
            f"{method} {url} returned {response.status_code}",
            status_code=response.status_code,
            retryable=retryable,
        )
    return response


def close() -> None:
    """Close the shared connection pool (called on app shutdown)."""
    global _client
    if _client is not None:
        _client.close()
        _client = None
