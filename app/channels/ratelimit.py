"""Per-channel send rate: a token bucket, shared through Redis when REDIS_URL is set.

The worker asks ``acquire(channel)`` before each send: 0.0 means go (a token was taken),
a positive number is how many seconds to wait before asking again (nothing was taken).
Each bucket holds one second's worth of sends (at least one), so a channel allowed 20 a
second may send 20 at once, then one every 50 ms. A channel without a configured rate is
never held back. If Redis stops answering, the limiter falls back to its in-process bucket
for 30 seconds rather than stop the worker (a log line says so), then tries Redis again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app

log = logging.getLogger("puente.channels")

REDIS_RETRY_SECONDS = 30.0
RATE_SETTINGS = {"whatsapp": "WHATSAPP_RATE_PER_SECOND", "sms": "SMS_RATE_PER_SECOND"}

# Atomic take-or-wait on a hash {tokens, ts}; time from the Redis server, so every worker
# agrees on it. Returns the wait as a string (a Lua number would be truncated to an integer).
_LUA = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return tostring(wait)
"""


class RateLimiter:
    def __init__(self, rates: Mapping[str, float], *, redis_url: str | None = None,
                 prefix: str = "puente:ratelimit:", clock: Callable[[], float] = time.monotonic) -> None:
        self.rates = {channel: float(rate) for channel, rate in rates.items() if rate and rate > 0}
        self.prefix = prefix
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, updated)
        self._script: Any = None
        self._redis_retry_at = float("-inf")
        if redis_url:
            import redis

            client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
            self._script = client.register_script(_LUA)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RateLimiter:
        rates = {channel: float(config.get(setting) or 0) for channel, setting in RATE_SETTINGS.items()}
        return cls(rates, redis_url=config.get("REDIS_URL") or None)

    @staticmethod
    def capacity(rate: float) -> float:
        return max(1.0, rate)

    def acquire(self, channel: str) -> float:
        """0.0 when a send on ``channel`` may go now; else the seconds to wait first."""
        rate = self.rates.get(channel)
        if rate is None:
            return 0.0
        if self._script is not None and self.clock() >= self._redis_retry_at:
            import redis

            try:
                return max(0.0, float(self._script(keys=[self.prefix + channel],
                                                   args=[repr(rate), repr(self.capacity(rate))])))
            except redis.RedisError as exc:
                # Not again for a while: each try may cost a connect timeout.
                self._redis_retry_at = self.clock() + REDIS_RETRY_SECONDS
                log.warning("rate limiter: Redis unavailable (%s); in-process bucket for %ss",
                            type(exc).__name__, REDIS_RETRY_SECONDS)
        return self._local(channel, rate)

    def _local(self, channel: str, rate: float) -> float:
        capacity = self.capacity(rate)
        with self._lock:
            now = self.clock()
            tokens, updated = self._buckets.get(channel, (capacity, now))
            tokens = min(capacity, tokens + max(0.0, now - updated) * rate)
            if tokens >= 1:
                self._buckets[channel] = (tokens - 1, now)
                return 0.0
            self._buckets[channel] = (tokens, now)
            return (1 - tokens) / rate


_EXTENSION_KEY = "puente_channel_rate_limiter"


def rate_limiter() -> RateLimiter:
    """The current app's limiter (one per app, so its in-process buckets are shared)."""
    limiter = current_app.extensions.get(_EXTENSION_KEY)
    if limiter is None:
        limiter = current_app.extensions.setdefault(_EXTENSION_KEY,
                                                    RateLimiter.from_config(current_app.config))
    assert isinstance(limiter, RateLimiter)
    return limiter
