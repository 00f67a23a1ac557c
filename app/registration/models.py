"""Registrations: one person in one session, confirmed or waitlisted, never twice."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.activities.models import ActivitySession
from app.dbtypes import str_enum
from app.extensions import db
from app.people.models import Person
from app.territory.models import Office
from app.timeutil import UTCDateTime, utcnow


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class Source(enum.StrEnum):
    PUBLIC = "public"
    STAFF = "staff"
    API = "api"


class Attendance(enum.StrEnum):
    PRESENT = "present"
    ABSENT = "absent"


class Registration(db.Model):  # type: ignore[name-defined]
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("session_id", "person_id"),
        Index("ix_registrations_waitlist", "session_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("activity_sessions.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    status: Mapped[RegistrationStatus] = mapped_column(str_enum(RegistrationStatus, "registration_status", 12))
    source: Mapped[Source] = mapped_column(str_enum(Source, "registration_source", 8))
    # Credit for convening: the office (and staff member) that registered the person.
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id", ondelete="SET NULL"), index=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    nonce: Mapped[str] = mapped_column(String(32))  # part of the personal link; rotated to revoke
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How the person came: a campaign channel's tracked link (``campaign_channel_id``, and
    # ``via`` = its channel), or for staff-assisted registrations "phone" or "counter".
    via: Mapped[str | None] = mapped_column(String(20), index=True)
    campaign_channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_channels.id", ondelete="SET NULL"), index=True)
    attendance: Mapped[Attendance | None] = mapped_column(str_enum(Attendance, "attendance", 8))
    attendance_marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    session: Mapped[ActivitySession] = relationship()
    person: Mapped[Person] = relationship()
    office: Mapped[Office | None] = relationship()
    staff_user: Mapped[User | None] = relationship(foreign_keys=[staff_user_id])


class IdempotentRequest(db.Model):  # type: ignore[name-defined]
    """An API request made with an Idempotency-Key: the same key gets the same response."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(80))  # the caller: user id, or "anon:<ip>"
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)  # None while in flight
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SurveyResponse(db.Model):  # type: ignore[name-defined]
    """An attendee's answer to the satisfaction survey: one per registration (see
    ``app.registration.survey``). Shown to staff without names."""

    __tablename__ = "survey_responses"
    __table_args__ = (CheckConstraint("rating >= 1 AND rating <= 5", name="rating_1_to_5"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"), unique=True)
    rating: Mapped[int] = mapped_column(Integer)  # 1 (nada útil) to 5 (muy útil)
    comment: Mapped[str] = mapped_column(Text, default="")  # at most 2,000 characters
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AttendanceCertificate(db.Model):  # type: ignore[name-defined]
    """A certificate of attendance, recorded on its first download so its verification code
    (an HMAC of the registration id, see ``app.registration.certificate``) can be looked up."""

    __tablename__ = "attendance_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"), unique=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegistrationHold(db.Model):  # type: ignore[name-defined]
    """A registration asked for on the public form or the API for a person already on file
    (their document is known), waiting for them to confirm it from the message sent to the
    contact on file: whoever typed the RUT may not be the person. It holds a seat (when one was
    free) until ``expires_at``; confirming turns it into a registration, expiry gives the seat
    back (see ``app.registration.holds``). One per person and session."""

    __tablename__ = "registration_holds"
    __table_args__ = (UniqueConstraint("session_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("activity_sessions.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    source: Mapped[Source] = mapped_column(str_enum(Source, "registration_source", 8))
    holds_seat: Mapped[bool] = mapped_column(Boolean, default=False)
    nonce: Mapped[str] = mapped_column(String(32))  # part of the confirmation link
    campaign_code: Mapped[str | None] = mapped_column(String(64))  # credited when confirmed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    session: Mapped[ActivitySession] = relationship()
    person: Mapped[Person] = relationship()
