"""The per-channel rate limiter: in-process token bucket, and the same bucket shared in Redis."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from app.channels import RateLimiter, rate_limiter
from tests.channels.conftest import bare_app
from tests.conftest import IN_CI

REDIS_URL = "redis://127.0.0.1:6379/0"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_local_bucket_allows_a_seconds_worth_then_spaces_sends() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"sms": 2.0}, clock=clock)
    assert limiter.acquire("sms") == 0.0
    assert limiter.acquire("sms") == 0.0
    assert limiter.acquire("sms") == pytest.approx(0.5)
    clock.now += 0.25
    assert limiter.acquire("sms") == pytest.approx(0.25)
    clock.now += 0.25
    assert limiter.acquire("sms") == 0.0
    assert limiter.acquire("sms") == pytest.approx(0.5)


def test_a_slow_rate_still_lets_one_message_through() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"whatsapp": 0.5}, clock=clock)
    assert limiter.acquire("whatsapp") == 0.0
    assert limiter.acquire("whatsapp") == pytest.approx(2.0)


def test_idle_time_does_not_build_up_more_than_one_seconds_worth() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"sms": 2.0}, clock=clock)
    clock.now += 3600
    assert [limiter.acquire("sms") for _ in range(3)][:2] == [0.0, 0.0]
    assert limiter.acquire("sms") > 0


def test_channels_are_limited_separately_and_unconfigured_ones_not_at_all() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"sms": 1.0, "whatsapp": 1.0, "email": 0}, clock=clock)
    assert limiter.acquire("sms") == 0.0
    assert limiter.acquire("sms") > 0
    assert limiter.acquire("whatsapp") == 0.0
    assert all(limiter.acquire("email") == 0.0 for _ in range(50))
    assert all(limiter.acquire("radio") == 0.0 for _ in range(50))


def test_rates_come_from_the_settings() -> None:
    limiter = RateLimiter.from_config({"WHATSAPP_RATE_PER_SECOND": 20.0, "SMS_RATE_PER_SECOND": 0,
                                       "REDIS_URL": None})
    assert limiter.rates == {"whatsapp": 20.0}


def test_the_app_has_one_shared_limiter() -> None:
    app = bare_app(WHATSAPP_RATE_PER_SECOND=1.0, SMS_RATE_PER_SECOND=1.0, REDIS_URL=None)
    with app.app_context():
        first = rate_limiter()
        assert rate_limiter() is first
        assert first.acquire("sms") == 0.0
        assert rate_limiter().acquire("sms") > 0


# --- Redis --------------------------------------------------------------------------------------


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        msg = f"Redis no responde en {REDIS_URL}: {exc}"
        if IN_CI:
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    prefix = f"puente:test:ratelimit:{secrets.token_hex(4)}:"
    yield prefix
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()


def test_workers_sharing_redis_share_one_bucket(redis_prefix: str) -> None:
    worker_a = RateLimiter({"sms": 2.0}, redis_url=REDIS_URL, prefix=redis_prefix)
    worker_b = RateLimiter({"sms": 2.0}, redis_url=REDIS_URL, prefix=redis_prefix)
    assert worker_a.acquire("sms") == 0.0
    assert worker_b.acquire("sms") == 0.0
    wait = worker_a.acquire("sms")
    assert 0.3 < wait <= 0.5
    assert worker_b.acquire("sms") > 0.3


def test_redis_bucket_refills_with_time(redis_prefix: str) -> None:
    import time

    limiter = RateLimiter({"whatsapp": 20.0}, redis_url=REDIS_URL, prefix=redis_prefix)
    assert all(limiter.acquire("whatsapp") == 0.0 for _ in range(20))
    wait = limiter.acquire("whatsapp")
    assert 0 < wait <= 0.05
    time.sleep(wait + 0.01)
    assert limiter.acquire("whatsapp") == 0.0


def test_without_redis_the_limiter_falls_back_to_its_own_bucket(closed_port: int) -> None:
    clock = FakeClock()
    limiter = RateLimiter({"sms": 1.0}, redis_url=f"redis://127.0.0.1:{closed_port}/0", clock=clock)
    calls = []
    script = limiter._script

    def counting(**kw: object) -> object:
        calls.append(kw)
        return script(**kw)

    limiter._script = counting
    assert limiter.acquire("sms") == 0.0
    assert limiter.acquire("sms") == pytest.approx(1.0)
    assert len(calls) == 1  # Redis is not asked again at once
    clock.now += 31
    assert limiter.acquire("sms") == 0.0
    assert len(calls) == 2  # but again after a while
