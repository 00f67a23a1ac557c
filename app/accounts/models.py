"""Accounts: staff (office or SENCE) and, later, employers; personal API tokens; invitations."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.dbtypes import str_enum
from app.extensions import db
from app.territory.models import Office, SenceUnit
from app.timeutil import UTCDateTime, utcnow


class Role(enum.StrEnum):
    """What an account is. Network coordination is not a role of its own: it is held by the
    staff of the office that coordinates a network in the current year (see the policy)."""

    OFFICE_STAFF = "office_staff"
    SENCE_REGIONAL = "sence_regional"
    SENCE_NATIONAL = "sence_national"
    EMPLOYER = "employer"



class User(UserMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(160))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role", 20))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), index=True)
    sence_unit_id: Mapped[int | None] = mapped_column(ForeignKey("sence_units.id"), index=True)
    # Employers get their company with the fairs issue; the column is reserved for it.
    employer_id: Mapped[int | None] = mapped_column(index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Stamped into every session cookie (see get_id); logout, a password change or reset and
    # "cerrar las demás sesiones" raise it, so every cookie issued before stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    office: Mapped[Office | None] = relationship()
    sence_unit: Mapped[SenceUnit | None] = relationship()

    def get_id(self) -> str:  # Flask-Login: what the session cookie carries
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.OFFICE_STAFF, Role.SENCE_REGIONAL, Role.SENCE_NATIONAL)

    @property
    def region_code(self) -> str | None:
        if self.role == Role.OFFICE_STAFF and self.office is not None:
            return self.office.comuna.region_code
        if self.role == Role.SENCE_REGIONAL and self.sence_unit is not None:
            return self.sence_unit.region_code
        return None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class ApiToken(db.Model):  # type: ignore[name-defined]
    """A personal Bearer token. Only its SHA-256 is stored; the secret is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Invitation(db.Model):  # type: ignore[name-defined]
    """A staff invitation. The emailed link is signed and expiring, and works once."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(160))
    role: Mapped[Role] = mapped_column(str_enum(Role, "invitation_role", 20))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    sence_unit_id: Mapped[int | None] = mapped_column(ForeignKey("sence_units.id"))
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    office: Mapped[Office | None] = relationship()
    sence_unit: Mapped[SenceUnit | None] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])
