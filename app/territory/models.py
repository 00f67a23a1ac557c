"""Chile's territory (regions, comunas) and the organisations that work on it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.dbtypes import str_enum
from app.extensions import db
from app.timeutil import UTCDateTime, utcnow


class Region(db.Model):  # type: ignore[name-defined]
    """One of Chile's 16 regions, keyed by its two-digit CUT code ("13")."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    iso_code: Mapped[str] = mapped_column(String(6), unique=True)  # ISO 3166-2, e.g. CL-RM
    roman: Mapped[str] = mapped_column(String(6))
    position: Mapped[int] = mapped_column(Integer)  # north to south

    comunas: Mapped[list[Comuna]] = relationship(back_populates="region", order_by="Comuna.name")

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"


class Comuna(db.Model):  # type: ignore[name-defined]
    """A comuna with its official five-digit CUT code and its IANA time zone."""

    __tablename__ = "comunas"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    province: Mapped[str] = mapped_column(String(120))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    timezone: Mapped[str] = mapped_column(String(40))

    region: Mapped[Region] = relationship(back_populates="comunas")

    def __repr__(self) -> str:
        return f"<Comuna {self.code} {self.name}>"


network_regions = Table(
    "network_regions",
    db.metadata,
    Column("network_id", ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True),
    Column("region_code", ForeignKey("regions.code"), primary_key=True),
)

network_offices = Table(
    "network_offices",
    db.metadata,
    Column("network_id", ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True),
    Column("office_id", ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True),
)


class OfficeKind(enum.StrEnum):
    OMIL = "omil"
    PLATAFORMA = "plataforma_laboral"


class OfficeCategory(enum.StrEnum):
    BASICA = "basica"
    INTERMEDIA = "intermedia"
    AVANZADA = "avanzada"


class Office(db.Model):  # type: ignore[name-defined]
    """An OMIL (básica, intermedia or avanzada) or a plataforma laboral, in one comuna."""

    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    slug: Mapped[str] = mapped_column(String(180), unique=True)
    kind: Mapped[OfficeKind] = mapped_column(
        str_enum(OfficeKind, "office_kind", 24)
    )
    category: Mapped[OfficeCategory | None] = mapped_column(
        str_enum(OfficeCategory, "office_category", 16),
        nullable=True,
    )
    comuna_code: Mapped[str] = mapped_column(ForeignKey("comunas.code"), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    whatsapp: Mapped[str | None] = mapped_column(String(20))  # E.164
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    facebook_url: Mapped[str | None] = mapped_column(String(300))
    website: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(300))
    opening_hours: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    comuna: Mapped[Comuna] = relationship()
    networks: Mapped[list[Network]] = relationship(
        secondary=network_offices, back_populates="offices", order_by="Network.name"
    )

    @property
    def region_code(self) -> str:
        return self.comuna.region_code

    @property
    def timezone(self) -> str:
        return self.comuna.timezone

    def __repr__(self) -> str:
        return f"<Office {self.id} {self.name}>"


class Network(db.Model):  # type: ignore[name-defined]
    """A red territorial: offices that plan together, coordinated by one office a year."""

    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    slug: Mapped[str] = mapped_column(String(180), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    regions: Mapped[list[Region]] = relationship(secondary=network_regions, order_by="Region.position")
    offices: Mapped[list[Office]] = relationship(
        secondary=network_offices, back_populates="networks", order_by="Office.name"
    )
    coordinations: Mapped[list[NetworkCoordination]] = relationship(
        back_populates="network", order_by="NetworkCoordination.year.desc()",
        cascade="all, delete-orphan",
    )

    @property
    def region_codes(self) -> set[str]:
        return {r.code for r in self.regions}

    def coordinating_office(self, year: int) -> Office | None:
        for c in self.coordinations:
            if c.year == year:
                return c.office
        return None

    def __repr__(self) -> str:
        return f"<Network {self.id} {self.name}>"


class NetworkCoordination(db.Model):  # type: ignore[name-defined]
    """Which office coordinates a network in a given year; rows are kept as history."""

    __tablename__ = "network_coordinations"
    __table_args__ = (UniqueConstraint("network_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    year: Mapped[int] = mapped_column(Integer)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    network: Mapped[Network] = relationship(back_populates="coordinations")
    office: Mapped[Office] = relationship()


class SenceUnitLevel(enum.StrEnum):
    REGIONAL = "regional"
    NATIONAL = "national"


class SenceUnit(db.Model):  # type: ignore[name-defined]
    """SENCE's national level or one of its Direcciones Regionales (one per region)."""

    __tablename__ = "sence_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[SenceUnitLevel] = mapped_column(
        str_enum(SenceUnitLevel, "sence_unit_level", 12)
    )
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), unique=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))

    region: Mapped[Region | None] = relationship()


class OfficeLogo(db.Model):  # type: ignore[name-defined]
    """The logo an office shows next to its workshops (usually its municipality's), uploaded by its
    staff: no trademark ships with the platform. A table of its own, so offices and stored files
    do not reference each other in a circle."""

    __tablename__ = "office_logos"

    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"), unique=True)
    alt: Mapped[str] = mapped_column(String(160))  # what the logo says, e.g. "Municipalidad de Ñuñoa"
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
