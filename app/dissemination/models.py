"""Campaigns: one activity announced on several channels, in one or more steps, with tracked links.

- A ``Campaign`` belongs to one activity (optionally one of its sessions) and to whoever
  prepared it: an office (its own contacts) or, for a network coordinator, the whole network
  (the contacts of every office in it).
- ``CampaignChannel`` is one channel of the campaign with its own tracking code: every link
  the channel carries is ``/c/<code>``, so a click and a registration arriving through it are
  counted for that channel. QR (poster) and radio codes are short and easy to say.
- ``CampaignStep`` is one sending: the announcement, "quedan cupos", the last call. Queueing a
  step writes one outbox message per person (``campaign:<step>:p<person>``: never two), in
  batches, moving ``cursor`` forward, so a worker that stops in the middle resumes where it was.
- Per-recipient delivery is the outbox message itself (``outbox_messages.campaign_id``):
  queued, sent, failed with the provider's reason, retried with back-off, held while paused.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.activities.models import Activity, ActivitySession
from app.dbtypes import str_enum
from app.extensions import db
from app.territory.models import Network, Office
from app.timeutil import UTCDateTime, utcnow


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"  # being prepared: nothing goes out
    ACTIVE = "active"  # its steps go out at their time
    PAUSED = "paused"  # queued messages held; steps wait
    DONE = "done"  # every step went out (or was skipped)
    CANCELLED = "cancelled"


class StepKind(enum.StrEnum):
    ANNOUNCEMENT = "announcement"
    SEATS_LEFT = "seats_left"  # "quedan cupos": only while there are seats
    LAST_CALL = "last_call"  # "última llamada": before registration closes


class StepStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    QUEUING = "queuing"  # messages being written, in batches (resumable)
    QUEUED = "queued"  # every message is in the outbox
    SKIPPED = "skipped"  # nothing to say any more (full, closed, cancelled)
    CANCELLED = "cancelled"


class ChannelKind(enum.StrEnum):
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    FACEBOOK = "facebook"  # a post on the office's page
    WHATSAPP_SHARE = "whatsapp_share"  # a ready-to-forward text for staff's own groups
    WEB = "web"  # the widget and feeds on municipal sites
    POSTER = "poster"  # printed, with a QR code
    RADIO = "radio"  # a script read aloud


#: Channels that reach people one by one (opted-in contacts), on their preferred channel.
PERSON_CHANNELS = (ChannelKind.EMAIL, ChannelKind.WHATSAPP, ChannelKind.SMS)


class Campaign(db.Model):  # type: ignore[name-defined]
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("activity_sessions.id", ondelete="SET NULL"))
    # Prepared by an office for its own contacts, or by a coordinator for the whole network.
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    network_id: Mapped[int | None] = mapped_column(ForeignKey("networks.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    message_short: Mapped[str] = mapped_column(Text)  # SMS, WhatsApp, the share text
    message_long: Mapped[str] = mapped_column(Text)  # email, Facebook
    status: Mapped[CampaignStatus] = mapped_column(str_enum(CampaignStatus, "campaign_status", 12),
                                                   default=CampaignStatus.DRAFT)
    # Audience filters: comunas (CUT codes, comma-separated), previous attendance ("any",
    # "yes", "no"), interests (words, comma-separated), and leaving out people already registered.
    audience_comunas: Mapped[str] = mapped_column(Text, default="")
    audience_attended: Mapped[str] = mapped_column(String(8), default="any")
    audience_interests: Mapped[str] = mapped_column(String(300), default="")
    exclude_registered: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    activity: Mapped[Activity] = relationship()
    session: Mapped[ActivitySession | None] = relationship()
    office: Mapped[Office] = relationship()
    network: Mapped[Network | None] = relationship()
    channels: Mapped[list[CampaignChannel]] = relationship(back_populates="campaign", order_by="CampaignChannel.id",
                                                           cascade="all, delete-orphan")
    steps: Mapped[list[CampaignStep]] = relationship(back_populates="campaign", order_by="CampaignStep.send_at",
                                                     cascade="all, delete-orphan")

    def channel(self, kind: str) -> CampaignChannel | None:
        return next((c for c in self.channels if c.channel == kind), None)

    @property
    def channel_kinds(self) -> list[str]:
        return [c.channel for c in self.channels]


class CampaignChannel(db.Model):  # type: ignore[name-defined]
    __tablename__ = "campaign_channels"
    __table_args__ = (UniqueConstraint("campaign_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    channel: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind, "campaign_channel_kind", 16))
    code: Mapped[str] = mapped_column(String(16), unique=True)  # the tracking code in /c/<code>
    clicks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    campaign: Mapped[Campaign] = relationship(back_populates="channels")


class CampaignStep(db.Model):  # type: ignore[name-defined]
    __tablename__ = "campaign_steps"
    __table_args__ = (UniqueConstraint("campaign_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    kind: Mapped[StepKind] = mapped_column(str_enum(StepKind, "campaign_step_kind", 16))
    send_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[StepStatus] = mapped_column(str_enum(StepStatus, "campaign_step_status", 12),
                                               default=StepStatus.SCHEDULED)
    cursor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # last person id queued
    queued: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # no address on any channel
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)  # why it was skipped

    campaign: Mapped[Campaign] = relationship(back_populates="steps")


class CampaignClickDay(db.Model):  # type: ignore[name-defined]
    """Visits of a channel's tracked link per day (UTC), for the report over time."""

    __tablename__ = "campaign_click_days"
    __table_args__ = (UniqueConstraint("channel_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("campaign_channels.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    clicks: Mapped[int] = mapped_column(Integer, default=0)


class ContactImport(db.Model):  # type: ignore[name-defined]
    """One CSV of contacts an office imported: what it held and what became of each row."""

    __tablename__ = "contact_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    filename: Mapped[str] = mapped_column(String(200))
    # The stored upload it came from: one import per upload, however often "Importar" is pressed.
    source_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    excluded: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[str] = mapped_column(Text, default="")  # JSON: [{row, reason}] of excluded rows


class OfficeFacebookPage(db.Model):  # type: ignore[name-defined]
    """The Facebook page an office posts to, with its page token encrypted at rest."""

    __tablename__ = "office_facebook_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), unique=True)
    page_id: Mapped[str] = mapped_column(String(40))
    page_name: Mapped[str | None] = mapped_column(String(200))
    token_encrypted: Mapped[str] = mapped_column(Text)
    token_hint: Mapped[str] = mapped_column(String(12))  # "…a1b2": never the token
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
