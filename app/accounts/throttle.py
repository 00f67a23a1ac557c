"""Login attempts counted per account, across addresses, in the rate limiter's own store.

The per-address limit on the login form (``LOGIN_RATE_LIMIT``) does not stop someone who
tries one account's password from many addresses. This counter does: every attempt for an
email takes one place in a moving window (``LOGIN_ACCOUNT_RATE_LIMIT``, 10 per 15 minutes by
default) and a successful login or a password reset empties it. The attempt is counted before
the password is checked, so parallel attempts cannot slip past the limit between a check and
a count.

The key is an HMAC of the typed email (so the store never holds addresses) and is counted
whether or not an account exists: the refusal says nothing about which emails have one.

The store is Flask-Limiter's (``limiter.storage``): Redis when ``REDIS_URL`` is set, so every
process and machine shares one count; otherwise this process's memory.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import Storage
from limits.strategies import MovingWindowRateLimiter

NAMESPACE = "login-account"


class AccountThrottle:
    """Counts login attempts per account in ``storage`` against ``limit``."""

    def __init__(self, storage: Storage | None, limit: str | RateLimitItem, secret: str) -> None:
        """``storage`` None: Flask-Limiter's store, looked up on each use (it is made, and
        remade, by ``limiter.init_app``)."""
        self._storage = storage
        self.limit = parse(limit) if isinstance(limit, str) else limit
        self._secret = secret.encode()

    @property
    def storage(self) -> Storage:
        from app.extensions import limiter

        return self._storage if self._storage is not None else limiter.storage

    @property
    def _strategy(self) -> MovingWindowRateLimiter:
        return MovingWindowRateLimiter(self.storage)

    def _key(self, email: str) -> str:
        normalised = (email or "").strip().lower().encode()
        return hmac.new(self._secret, b"login-account:" + normalised, hashlib.sha256).hexdigest()[:32]

    def attempt(self, email: str) -> bool:
        """Count one attempt; False when the account has used up its attempts (not counted)."""
        return self._strategy.hit(self.limit, NAMESPACE, self._key(email))

    def clear(self, email: str) -> None:
        self._strategy.clear(self.limit, NAMESPACE, self._key(email))

    def minutes_left(self, email: str) -> int:
        """Whole minutes until the next attempt is accepted (at least 1)."""
        stats = self._strategy.get_window_stats(self.limit, NAMESPACE, self._key(email))
        return max(1, math.ceil((stats.reset_time - time.time()) / 60))


def account_throttle() -> AccountThrottle:
    """The running app's throttle (built in ``create_app`` over the limiter's store)."""
    return current_app.extensions["account_throttle"]  # type: ignore[no-any-return]


def init_app(app: Flask) -> None:
    app.extensions["account_throttle"] = AccountThrottle(
        None, app.config["LOGIN_ACCOUNT_RATE_LIMIT"], app.config["SECRET_KEY"])
