"""A jobseeker, with what the national job board lacks: soft skills, territory, connectivity."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.dbtypes import str_enum
from app.extensions import db
from app.territory.models import Comuna
from app.timeutil import UTCDateTime, utcnow


class DocumentType(enum.StrEnum):
    RUT = "rut"
    PASSPORT = "passport"
    FOREIGN_ID = "foreign_id"


class Channel(enum.StrEnum):
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    PHONE_CALL = "phone_call"


class Connectivity(enum.StrEnum):
    GOOD = "good"
    MOBILE_ONLY = "mobile_only"
    NONE = "none"


CONSENT_VERSION = "2026-11"


class Person(db.Model):  # type: ignore[name-defined]
    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("document_type", "document_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    first_names: Mapped[str] = mapped_column(String(120))
    last_names: Mapped[str] = mapped_column(String(120))
    document_type: Mapped[DocumentType] = mapped_column(str_enum(DocumentType, "document_type", 12))
    document_number: Mapped[str] = mapped_column(String(20))  # RUT as 12345678-5
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    comuna_code: Mapped[str | None] = mapped_column(ForeignKey("comunas.code"))
    preferred_channel: Mapped[Channel] = mapped_column(str_enum(Channel, "contact_channel", 12), default=Channel.EMAIL)
    needs_subtitles: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_sign_language: Mapped[bool] = mapped_column(Boolean, default=False)
    uses_screen_reader: Mapped[bool] = mapped_column(Boolean, default=False)
    accessibility_other: Mapped[str] = mapped_column(Text, default="")
    connectivity: Mapped[Connectivity] = mapped_column(str_enum(Connectivity, "connectivity", 12),
                                                       default=Connectivity.GOOD)
    soft_skills: Mapped[str] = mapped_column(Text, default="")
    rural: Mapped[bool] = mapped_column(Boolean, default=False)
    availability: Mapped[str] = mapped_column(Text, default="")
    consent_data_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_version: Mapped[str | None] = mapped_column(String(20))
    consent_recording: Mapped[bool] = mapped_column(Boolean, default=False)
    opt_in_future: Mapped[bool] = mapped_column(Boolean, default=False)
    opt_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Unsubscribed from announcements (one click in any message): never contacted again about
    # future activities, on any channel, until they opt in again themselves.
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where the consent came from: "form" (public form), "staff" (phone or counter), "import"
    # (an office's CSV, which must carry the consent it recorded).
    consent_source: Mapped[str | None] = mapped_column(String(20))
    interests: Mapped[str] = mapped_column(String(300), default="", server_default="")  # words, comma-separated
    # The office that first took this person's details (it holds the contact).
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    comuna: Mapped[Comuna | None] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.first_names} {self.last_names}".strip()
