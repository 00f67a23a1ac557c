"""What views ask before acting: who is logged in, and may they do this (the policy decides)."""

from __future__ import annotations

from typing import cast

from flask import abort
from flask_login import current_user

from app.accounts.models import User
from app.accounts.policy import can


def current_account() -> User:
    """The logged-in account as a model (not Flask-Login's proxy)."""
    return cast(User, current_user._get_current_object())  # type: ignore[attr-defined]


def require(action: str, target: object = None) -> None:
    """403 unless the policy allows ``action`` on ``target`` for the logged-in account."""
    if not can(current_account(), action, target):
        abort(403)
