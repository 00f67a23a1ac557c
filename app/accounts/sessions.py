"""Ending sessions: logout and "cerrar las demás sesiones".

A password change or reset (``app/accounts/passwords.py``) ends them the same way.

Sessions are signed cookies the server does not keep, so a copied cookie stays valid until
something it carries stops matching. Each cookie carries the account's ``session_version``
(``User.get_id``); these services raise it, and ``load_user`` refuses any older cookie. The
view then re-issues the current cookie where the person stays logged in.

Personal API tokens are not sessions: they are listed and revoked on their own on
*Mi cuenta*, and only a password reset (``passwords.reset_password``) or a deactivation
revokes them all.
"""

from __future__ import annotations

from app.accounts import services
from app.accounts.models import User
from app.audit.services import record
from app.extensions import db


def log_out(user: User) -> None:
    """End this session and every other one of the account (a copied cookie included)."""
    services.bump_session_version(user)
    record("auth.logout", user, actor=user, office_id=user.office_id)
    db.session.commit()


def end_other_sessions(user: User) -> None:
    """End every session of the account; the caller re-issues the current one's cookie."""
    services.bump_session_version(user)
    record("auth.sessions_ended", user, actor=user, office_id=user.office_id)
    db.session.commit()
