"""Registration fixtures: a published workshop session and valid person input."""

from __future__ import annotations

from typing import Any

import pytest
from stdnum.cl import rut as _rut

from app.people.services import PersonInput
from tests.workshops.conftest import WorkshopWorld, local_in


def make_rut(n: int) -> str:
    """A valid RUT (check digit computed by python-stdnum)."""
    body = str(10_000_000 + n)
    return f"{body}-{_rut.calc_check_digit(body)}"


def person_input(n: int = 1, **kw: Any) -> PersonInput:
    values: dict[str, Any] = {
        "first_names": "Camila", "last_names": f"Rojas {n}", "document_type": "rut",
        "document_number": make_rut(n), "email": f"camila{n}@example.cl", "phone": "",
        "comuna_code": "13120", "preferred_channel": "email", "consent_data": True,
    }
    values.update(kw)
    return PersonInput(**values)


@pytest.fixture
def published_session(world: WorkshopWorld) -> Any:
    def _make(capacity: int = 50, **kw: Any) -> Any:
        w = world.workshop(publish=True, start=local_in(10), session={"capacity": capacity}, **kw)
        return w.activity.sessions[0]

    return _make


@pytest.fixture
def world(factory: Any) -> WorkshopWorld:
    return WorkshopWorld(factory)


def register_as_person(session_id: int, inp: PersonInput, **kw: Any) -> Any:
    """``services.register`` as the person would: a known document is held until confirmed from
    the message on file, which this does (``app.registration.holds``). Returns the registration."""
    from sqlalchemy import select

    from app.extensions import db
    from app.registration import holds, services
    from app.registration.models import RegistrationHold

    result = services.register(session_id, inp, **kw)
    if not result.held:
        return result.registration
    hold = db.session.scalars(select(RegistrationHold).where(RegistrationHold.session_id == session_id)
                              .order_by(RegistrationHold.id.desc())).first()
    return holds.confirm(hold)
