"""Provider rooms for remote sessions, the webhook events received, and provider recordings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.activities.models import ActivitySession
from app.extensions import db
from app.timeutil import UTCDateTime, utcnow


class ConferenceRoom(db.Model):  # type: ignore[name-defined]
    """The provider's meeting for one session (made by the provider, e.g. Zoom's API)."""

    __tablename__ = "conference_rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("activity_sessions.id", ondelete="CASCADE"),
                                            unique=True)
    provider: Mapped[str] = mapped_column(String(20), default="zoom")
    external_id: Mapped[str] = mapped_column(String(64), index=True)  # Zoom meeting id, as text
    join_url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[ActivitySession] = relationship()


class ZoomWebhookEvent(db.Model):  # type: ignore[name-defined]
    """Every verified Zoom event, once: the unique key makes a repeated delivery a no-op."""

    __tablename__ = "zoom_webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # x-zm-request-id, or "sha256:<hex of the raw body>" when Zoom sends none.
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
