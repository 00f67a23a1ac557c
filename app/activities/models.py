"""Activities (a workshop or a fair), their sessions and series."""

from __future__ import annotations

import enum
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.dbtypes import str_enum
from app.extensions import db
from app.territory.models import Comuna, Network, Office
from app.timeutil import UTCDateTime, utcnow


class ActivityKind(enum.StrEnum):
    WORKSHOP = "workshop"
    FAIR = "fair"


class ActivityStatus(enum.StrEnum):
    """borrador → publicado → realizado, or cancelado (with a reason)."""

    DRAFT = "draft"
    PUBLISHED = "published"
    DONE = "done"
    CANCELLED = "cancelled"


class Modality(enum.StrEnum):
    REMOTE = "remote"
    IN_PERSON = "in_person"
    HYBRID = "hybrid"


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


activity_networks = Table(
    "activity_networks",
    db.metadata,
    Column("activity_id", ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True),
    Column("network_id", ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True, index=True),
)

# Offices that convene jobseekers for an activity another office hosts (convocantes).
activity_convening_offices = Table(
    "activity_convening_offices",
    db.metadata,
    Column("activity_id", ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True),
    Column("office_id", ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Activity(db.Model):  # type: ignore[name-defined]
    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ActivityKind] = mapped_column(str_enum(ActivityKind, "activity_kind", 12), index=True)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ActivityStatus] = mapped_column(str_enum(ActivityStatus, "activity_status", 12),
                                                   default=ActivityStatus.DRAFT, index=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    host_office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    host_office: Mapped[Office] = relationship()
    networks: Mapped[list[Network]] = relationship(secondary=activity_networks, order_by="Network.name")
    convening_offices: Mapped[list[Office]] = relationship(secondary=activity_convening_offices,
                                                           order_by="Office.name")
    sessions: Mapped[list[ActivitySession]] = relationship(
        back_populates="activity", order_by="ActivitySession.starts_at", cascade="all, delete-orphan"
    )

    @property
    def is_public(self) -> bool:
        return self.status in (ActivityStatus.PUBLISHED, ActivityStatus.DONE, ActivityStatus.CANCELLED) \
            and self.published_at is not None

    @property
    def timezone(self) -> str:
        return self.host_office.comuna.timezone

    def __repr__(self) -> str:
        return f"<Activity {self.id} {self.kind} {self.slug}>"


class ActivitySeries(db.Model):  # type: ignore[name-defined]
    """A recurrence that made some of an activity's sessions ("every Tuesday for 4 weeks")."""

    __tablename__ = "activity_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    rrule: Mapped[str] = mapped_column(String(200))  # RFC 5545 RRULE, e.g. FREQ=WEEKLY;COUNT=4
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ActivitySession(db.Model):  # type: ignore[name-defined]
    """One dated meeting of an activity. Times are stored in UTC and shown in ``timezone``."""

    __tablename__ = "activity_sessions"
    __table_args__ = (Index("ix_activity_sessions_starts_status", "starts_at", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("activity_series.id", ondelete="SET NULL"),
                                                  index=True)
    uid: Mapped[str] = mapped_column(String(120), unique=True)  # iCalendar UID, never changes
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(40))
    modality: Mapped[Modality] = mapped_column(str_enum(Modality, "session_modality", 12))
    capacity: Mapped[int] = mapped_column(Integer)
    # Seats taken, changed only by one conditional UPDATE (see app.registration.services).
    confirmed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    venue_name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    comuna_code: Mapped[str | None] = mapped_column(ForeignKey("comunas.code"), index=True)
    # The join link: pasted by staff (provider "link") or filled by a video provider later.
    join_provider: Mapped[str] = mapped_column(String(20), default="link")
    join_url: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[SessionStatus] = mapped_column(str_enum(SessionStatus, "session_status", 12),
                                                  default=SessionStatus.SCHEDULED)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE
    detached: Mapped[bool] = mapped_column(Boolean, default=False)  # edited apart from its series
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="sessions")
    comuna: Mapped[Comuna | None] = relationship()

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(ZoneInfo(self.timezone))

    @property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(ZoneInfo(self.timezone))

    @property
    def is_remote(self) -> bool:
        return self.modality in (Modality.REMOTE, Modality.HYBRID)

    @property
    def is_in_person(self) -> bool:
        return self.modality in (Modality.IN_PERSON, Modality.HYBRID)

    def __repr__(self) -> str:
        return f"<ActivitySession {self.id} {self.starts_at:%Y-%m-%d %H:%M}Z>"


class ActivityChange(db.Model):  # type: ignore[name-defined]
    """A recorded change to a published session (time, place, link) or a cancellation.

    The people affected are told through the outbox; registrants (with the registration
    issue) subscribe through the ``session_changed`` signal.
    """

    __tablename__ = "activity_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("activity_sessions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))  # time, place, link, cancelled
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarFeed(db.Model):  # type: ignore[name-defined]
    """A private iCalendar subscription: an unguessable token its owner can revoke and renew.

    The token in the URL is an HMAC of (id, nonce) under SECRET_KEY, so it is never stored and
    can be shown again; renewing changes the nonce, which kills the old URL.
    """

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(20))  # network, office, facilitator
    scope_id: Mapped[int] = mapped_column(Integer)
    nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
