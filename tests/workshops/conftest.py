"""Workshop fixtures shared by the workshop tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.activities.models import Modality
from app.activities.services import SessionInput
from app.extensions import db
from workshops import services
from workshops.models import Topic


def topic(slug: str = "entrevista-de-trabajo") -> Topic:
    t = db.session.scalar(select(Topic).where(Topic.slug == slug))
    assert t is not None
    return t


def local_in(days: int, hour: int = 10, minute: int = 0, tz: str = "America/Santiago") -> datetime:
    """A naive wall-clock time ``days`` from today in ``tz``."""
    today = datetime.now(ZoneInfo(tz)).date() + timedelta(days=days)
    return datetime(today.year, today.month, today.day, hour, minute)


def session_input(start: datetime | None = None, *, hours: float = 2, tz: str = "America/Santiago",
                  modality: Modality = Modality.REMOTE, capacity: int = 50, **kw: Any) -> SessionInput:
    start = start or local_in(7)
    if modality != Modality.REMOTE:
        kw.setdefault("venue_name", "Sala de capacitación OMIL")
        kw.setdefault("address", "Av. Irarrázaval 3550")
        kw.setdefault("comuna_code", "13120")
    else:
        kw.setdefault("join_url", "https://us02web.zoom.us/j/123456789")
    return SessionInput(start_local=start, end_local=start + timedelta(hours=hours), timezone=tz,
                        modality=modality, capacity=capacity, **kw)


class WorkshopWorld:
    """An office hosting workshops in a network with a convening office; staff in each role."""

    def __init__(self, factory: Any) -> None:
        self.factory = factory
        self.host = factory.office("13120", name="OMIL Ñuñoa", category="avanzada")
        self.convening = factory.office("13122", name="OMIL Peñalolén", category="basica")
        self.other = factory.office("13110", name="OMIL La Florida")
        self.network = factory.network(("13",), name="Red Oriente", offices=[self.host, self.convening],
                                       coordinator=self.host)
        self.other_network = factory.network(("13",), name="Red Sur", offices=[self.other], coordinator=self.other)
        self.host_staff = factory.user(office=self.host, name="Hilda Host")
        self.convening_staff = factory.user(office=self.convening, name="Carla Convoca")
        self.other_staff = factory.user(office=self.other, name="Otto Otra")
        self.sence_rm = factory.user("sence_regional", sence_unit=factory.sence_unit("13"))

    def data(self, **kw: Any) -> services.WorkshopData:
        values: dict[str, Any] = {
            "title": "Cómo enfrentar una entrevista de trabajo",
            "description": "Practicamos preguntas frecuentes.",
            "topic_id": topic().id,
            "host_office_id": self.host.id,
            "network_ids": [self.network.id],
            "convening_office_ids": [self.convening.id],
            "facilitator_user_ids": [self.host_staff.id],
        }
        values.update(kw)
        return services.WorkshopData(**values)

    def workshop(self, *, count: int = 1, start: datetime | None = None, publish: bool = False,
                 actor: Any = None, **kw: Any) -> Any:
        sched = services.Schedule(first=session_input(start, **kw.pop("session", {})), count=count)
        w = services.create_workshop(self.data(**kw), sched, actor=actor or self.host_staff,
                                     confirm_warnings=True, confirm_facilitator=True)
        if publish:
            services.publish(w, actor=actor or self.host_staff)
        return w


@pytest.fixture
def world(factory: Any) -> WorkshopWorld:
    return WorkshopWorld(factory)
