"""Metadata of every file the platform keeps; the bytes live in the storage backend."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import UTCDateTime, utcnow


class StoredFile(db.Model):  # type: ignore[name-defined]
    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)  # path inside the backend
    filename: Mapped[str] = mapped_column(String(255))  # the uploader's name, for downloads
    content_type: Mapped[str] = mapped_column(String(100))  # detected from the bytes
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(40))  # material, cv, certificate, recording
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
