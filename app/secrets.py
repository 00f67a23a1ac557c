"""Secrets at rest: encrypt a short text (an API secret, a page token) before storing it.

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under the keys of
``CREDENTIALS_KEY``: one or more Fernet keys separated by commas, the first encrypts and all
decrypt (``MultiFernet``), so a key is rotated by putting the new one first and running
``flask --app wsgi rotate-credentials`` (``rotate_all``); then the old key may go. Without
``CREDENTIALS_KEY`` the key is derived from ``SECRET_KEY`` with HKDF-SHA256; that derived key
is also always tried last, so setting ``CREDENTIALS_KEY`` later keeps old values readable.
Make a key with ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``.

Stored values are opaque ASCII tokens; ``mask`` is the only form ever shown back.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_HKDF_INFO = b"puente-laboral:credentials:v1"
MASK = "••••"


class SecretError(ValueError):
    """A stored value cannot be decrypted (wrong or rotated-out key, or tampered)."""


def derived_key(secret_key: str) -> bytes:
    """The Fernet key HKDF-SHA256 derives from ``SECRET_KEY``."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw)


@lru_cache(maxsize=8)
def _fernet(credentials_key: str, secret_key: str) -> MultiFernet:
    keys = [k.strip() for k in credentials_key.split(",") if k.strip()]
    try:
        fernets = [Fernet(k.encode()) for k in keys]
    except (ValueError, TypeError) as exc:
        raise SecretError("CREDENTIALS_KEY no es una clave Fernet válida (32 bytes en base64 url-safe)") from exc
    fernets.append(Fernet(derived_key(secret_key)))
    return MultiFernet(fernets)


def _current() -> MultiFernet:
    cfg = current_app.config
    return _fernet(str(cfg.get("CREDENTIALS_KEY") or ""), str(cfg["SECRET_KEY"]))


def encrypt_text(value: str) -> str:
    """``value`` encrypted under the current key, as an ASCII token safe for a Text column."""
    return _current().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_text(token: str) -> str:
    """The text ``encrypt_text`` made; ``SecretError`` if no configured key opens it."""
    try:
        return _current().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise SecretError("no se pudo descifrar el valor guardado (¿cambió la clave?)") from exc


def rotate_text(token: str) -> str:
    """``token`` re-encrypted under the first (newest) key."""
    try:
        return _current().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as exc:
        raise SecretError("no se pudo descifrar el valor guardado (¿cambió la clave?)") from exc


def rotate_all() -> int:
    """Re-encrypt every stored secret under the newest key (after a new key was put first in
    ``CREDENTIALS_KEY``), in one transaction; then the old key can be removed. Returns how
    many values were re-encrypted. ``SecretError`` (nothing written) if one cannot be read."""
    from app.conferencing.models import ConferenceRoom, OfficeConferenceSettings
    from app.dissemination.models import OfficeFacebookPage
    from app.extensions import db

    count = 0
    try:
        for row in db.session.query(OfficeConferenceSettings):
            for column in ("zoom_credentials", "google_credentials"):
                if getattr(row, column):
                    setattr(row, column, rotate_text(getattr(row, column)))
                    count += 1
        for room in db.session.query(ConferenceRoom).filter(ConferenceRoom.passcode_encrypted.is_not(None)):
            room.passcode_encrypted = rotate_text(room.passcode_encrypted)
            count += 1
        for page in db.session.query(OfficeFacebookPage):
            page.token_encrypted = rotate_text(page.token_encrypted)
            count += 1
    except SecretError:
        db.session.rollback()
        raise
    db.session.commit()
    return count


def mask(value: str | None) -> str:
    """What may be shown of a secret: its last 4 characters, and only when it is long enough
    (8 or more) that those 4 give little away; otherwise nothing but the mask."""
    if not value:
        return ""
    return MASK + value[-4:] if len(value) >= 8 else MASK
