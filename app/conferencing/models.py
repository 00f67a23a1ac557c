"""Provider rooms for remote sessions, the webhook events received, and provider recordings."""

from __future__ import annotations

import enum
import json
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.activities.models import ActivitySession
from app.dbtypes import str_enum
from app.extensions import db
from app.territory.models import Office
from app.timeutil import UTCDateTime, utcnow


class RoomStatus(enum.StrEnum):
    """Where the provider's meeting stands against what the session needs.

    pending -> working -> ready (the provider matches the session: created, moved or deleted)
    working -> pending (the provider was down or busy: retried with back-off) or failed
               (refused for good, e.g. bad credentials; or attempts exhausted)
    working -> unknown (the worker stopped mid-call: the meeting may or may not exist;
               never retried automatically, staff decide)
    Any change to the session (``version`` + 1) puts a ready or failed room back to pending.
    """

    PENDING = "pending"
    WORKING = "working"
    READY = "ready"
    FAILED = "failed"
    UNKNOWN = "unknown"


class ConferenceRoom(db.Model):  # type: ignore[name-defined]
    """The provider's meeting for one session (made by the provider's API, e.g. Zoom's).

    One row per session, also the job that keeps the provider in step with the session:
    ``version`` counts the changes the session asked for, ``synced_version`` the last one the
    provider has. The worker claims the row (``working``), calls the provider, records.
    """

    __tablename__ = "conference_rooms"
    __table_args__ = (Index("ix_conference_rooms_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("activity_sessions.id", ondelete="CASCADE"),
                                            unique=True)
    provider: Mapped[str] = mapped_column(String(20), default="zoom")
    # The provider's id (Zoom meeting id as text, Google Calendar event id); None: no meeting now.
    external_id: Mapped[str | None] = mapped_column(String(64), index=True)
    join_url: Mapped[str | None] = mapped_column(String(1000))
    passcode_encrypted: Mapped[str | None] = mapped_column(Text)  # app.secrets.encrypt_text
    dial_in_json: Mapped[str | None] = mapped_column(Text)  # [{"country", "number", "city"}...]
    status: Mapped[RoomStatus] = mapped_column(str_enum(RoomStatus, "conference_room_status", 12),
                                               default=RoomStatus.READY, server_default="ready")
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    synced_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claimed_version: Mapped[int | None] = mapped_column(Integer)
    # Bumped each time the provider's meeting is deleted, so a new one gets new idempotency keys.
    generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)  # Spanish, shown to staff
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the provider says it took place
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    session: Mapped[ActivitySession] = relationship()

    @property
    def dial_in(self) -> list[dict[str, str]]:
        try:
            rows = json.loads(self.dial_in_json or "[]")
        except ValueError:
            return []
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


class OfficeConferenceSettings(db.Model):  # type: ignore[name-defined]
    """An office's own video accounts (encrypted at rest) and its default provider.

    Each ``*_credentials`` column is ``app.secrets.encrypt_text`` of a JSON object; nothing
    here is ever shown back in full (see ``app.conferencing.credentials``).
    """

    __tablename__ = "office_conference_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), unique=True)
    default_provider: Mapped[str | None] = mapped_column(String(20))
    zoom_credentials: Mapped[str | None] = mapped_column(Text)
    google_credentials: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    office: Mapped[Office] = relationship()


class ZoomWebhookEvent(db.Model):  # type: ignore[name-defined]
    """Every verified Zoom event, once: the unique key makes a repeated delivery a no-op."""

    __tablename__ = "zoom_webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "sha256:<hex of the signed raw body>" (webhooks.event_key); rows stored by earlier
    # versions hold the unsigned x-zm-request-id instead (still unique, still purged).
    event_key: Mapped[str] = mapped_column(String(128), unique=True)
    event: Mapped[str] = mapped_column(String(80))
    meeting_id: Mapped[str | None] = mapped_column(String(64), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[str] = mapped_column(Text)  # the JSON body, secrets (download_token...) removed


class ConferenceRecording(db.Model):  # type: ignore[name-defined]
    """One recording file the provider reported for a session (kept until recordings/ takes it).

    Nothing secret is stored: Zoom's ``download_token`` (valid 24 h) is dropped; downloading
    ``download_url`` later takes the provider's own API credentials.
    """

    __tablename__ = "conference_recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("activity_sessions.id", ondelete="CASCADE"),
                                            index=True)
    external_file_id: Mapped[str] = mapped_column(String(128), unique=True)
    file_type: Mapped[str | None] = mapped_column(String(20))  # MP4, M4A, TRANSCRIPT, CHAT...
    download_url: Mapped[str | None] = mapped_column(String(1000))
    play_url: Mapped[str | None] = mapped_column(String(1000))
    recording_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recording_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[ActivitySession] = relationship()
