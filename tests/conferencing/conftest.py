"""Conferencing tests reuse the registration fixtures (a published session, its world)."""

from __future__ import annotations

from tests.registration.conftest import published_session, world

__all__ = ["published_session", "world"]
