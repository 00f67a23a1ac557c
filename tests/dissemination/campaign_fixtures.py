"""Campaign fixtures: a published workshop, contacts of its host office, a campaign input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.dissemination import services
from app.extensions import db
from app.people.models import Channel, DocumentType, Person
from app.timeutil import utcnow
from tests.registration.conftest import make_rut, person_input, published_session, world
from tests.workshops.conftest import WorkshopWorld, local_in

__all__ = ["contact", "make_rut", "person_input", "published_session", "world", "WorkshopWorld", "local_in",
           "campaign_input", "activity_with_contacts"]

_n = iter(range(500, 1_000_000))


def contact(office: Any, *, channel: Channel = Channel.EMAIL, email: str | None = "auto", phone: str | None = None,
            opted_in: bool = True, comuna: str = "13120", interests: str = "", **kw: Any) -> Person:
    n = next(_n)
    now = utcnow()
    person = Person(first_names="Contacto", last_names=f"Número {n}", document_type=DocumentType.RUT,
                    document_number=make_rut(n), email=(f"contacto{n}@example.cl" if email == "auto" else email),
                    phone=phone, comuna_code=comuna, preferred_channel=channel, consent_data_at=now,
                    consent_version="test", opt_in_future=opted_in, opt_in_at=now if opted_in else None,
                    office_id=office.id, interests=interests, **kw)
    db.session.add(person)
    db.session.commit()
    return person


def campaign_input(activity: Any, **kw: Any) -> services.CampaignInput:
    values: dict[str, Any] = {
        "name": "Difusión de prueba", "activity_id": activity.id, "message_short": "{titulo} el {fecha}: {enlace}",
        "message_long": "Le invitamos a {titulo}, el {fecha} a las {hora} en {lugar}. Inscríbase: {enlace}",
        "channels": ["email", "whatsapp", "sms"], "schedule": "now",
    }
    values.update(kw)
    return services.CampaignInput(**values)


@pytest.fixture
def activity_with_contacts(world: WorkshopWorld) -> Any:
    """A published workshop hosted by ``world.host`` ten days ahead; returns (activity, session)."""
    w = world.workshop(publish=True, start=local_in(10), session={"capacity": 30})
    return w.activity, w.activity.sessions[0]


def later(hours: int) -> Any:
    return (utcnow() + timedelta(hours=hours))
