"""Retry policy for outbound webhook deliveries.

Capped exponential backoff with full jitter, at most 8 attempts over about a day, then the
delivery is dead-lettered (decision ``webhook-retries-capped-jittered-backoff-a73f``, which
replaced the old fixed three-retries policy).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=6)

    def next_delay(self, attempt: int, rng: random.Random | None = None) -> timedelta | None:
        """Delay before attempt ``attempt + 1``, or None when we should give up.

        ``attempt`` counts attempts already made (1 after the first failure). Full jitter:
        a uniform draw between zero and the capped exponential delay.
        """
        if attempt >= self.max_attempts:
            return None
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        draw = (rng or random).uniform(0, ceiling.total_seconds())
        return timedelta(seconds=draw)


def should_retry(status_code: int | None, *, transport_error: bool = False) -> bool:
    """Whether a failed delivery is worth retrying. 4xx other than the listed ones is final."""
    if transport_error:
        return True
    return status_code in RETRYABLE_STATUS


DEFAULT_POLICY = RetryPolicy()
