"""What only a workshop has: its topic, audience, facilitators, convening offices, materials."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.activities.models import Activity
from app.extensions import db
from app.files_models import StoredFile
from app.territory.models import Office
from app.timeutil import UTCDateTime, utcnow


class Topic(db.Model):  # type: ignore[name-defined]
    """The catalogue of apresto topics, editable by admins."""

    __tablename__ = "workshop_topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Workshop(db.Model):  # type: ignore[name-defined]
    """A taller de apresto laboral: one row per workshop activity (same id)."""

    __tablename__ = "workshops"

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("workshop_topics.id"), index=True)
    audience: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(10), default="es")
    offers_subtitles: Mapped[bool] = mapped_column(Boolean, default=False)
    offers_sign_language: Mapped[bool] = mapped_column(Boolean, default=False)
    offers_materials_in_advance: Mapped[bool] = mapped_column(Boolean, default=False)
    accessibility_notes: Mapped[str] = mapped_column(Text, default="")

    activity: Mapped[Activity] = relationship(lazy="joined")
    topic: Mapped[Topic] = relationship(lazy="joined")
    facilitators: Mapped[list[Facilitator]] = relationship(back_populates="workshop",
                                                           cascade="all, delete-orphan")
    materials: Mapped[list[Material]] = relationship(back_populates="workshop", cascade="all, delete-orphan")
    notes: Mapped[list[StaffNote]] = relationship(back_populates="workshop", cascade="all, delete-orphan",
                                                  order_by="StaffNote.created_at")


class Facilitator(db.Model):  # type: ignore[name-defined]
    """A staff member or a guest who teaches the workshop."""

    __tablename__ = "workshop_facilitators"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.activity_id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    guest_name: Mapped[str | None] = mapped_column(String(160))

    workshop: Mapped[Workshop] = relationship(back_populates="facilitators")
    user: Mapped[User | None] = relationship()

    @property
    def display_name(self) -> str:
        return self.user.name if self.user is not None else (self.guest_name or "")


class Material(db.Model):  # type: ignore[name-defined]
    __tablename__ = "workshop_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.activity_id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    workshop: Mapped[Workshop] = relationship(back_populates="materials")
    file: Mapped[StoredFile] = relationship()


class StaffNote(db.Model):  # type: ignore[name-defined]
    """A note convening or host staff leave on a workshop (not public)."""

    __tablename__ = "workshop_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.activity_id", ondelete="CASCADE"), index=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    workshop: Mapped[Workshop] = relationship(back_populates="notes")
    office: Mapped[Office | None] = relationship()
    author: Mapped[User | None] = relationship()
