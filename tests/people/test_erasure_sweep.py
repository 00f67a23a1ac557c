""""Eliminar mis datos" reaches every store: after it, no String, Text or JSON column of any
table (walked from the SQLAlchemy metadata, so a new table cannot be forgotten) holds the
person's email, phone, RUT or name."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.outbox.models import OutboxMessage
from app.people.erasure import person_erased
from app.registration import services, survey
from app.registration.models import SurveyResponse
from tests.conferencing.test_zoom_webhook import joined, room, send, zoom
from tests.dissemination.test_campaigns import queue_all, started
from tests.registration.conftest import make_rut, person_input, published_session, register_as_person, world
from tests.registration.test_survey import attend, end

__all__ = ["published_session", "send", "world", "zoom"]  # fixtures used here

FIRST, LAST = "Xiomara", "Quintanilla Ureta"
EMAIL = "Xiomara.Quintanilla@Example.cl"
PHONE = "+56981234567"


def _text_columns() -> list[sa.Column[Any]]:
    """Every column whose stored value is text: String (and Enum), Text, JSON, and type
    decorators over them."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            kind = column.type
            impl = getattr(kind, "impl", None)
            if isinstance(kind, sa.String | sa.JSON) or isinstance(impl, sa.String | sa.JSON):
                found.append(column)
    return found


def sweep(needles: list[str]) -> list[str]:
    """"table.column ~ needle" for every stored value that contains a needle (any case)."""
    hits = []
    for column in _text_columns():
        value = sa.func.lower(sa.cast(column, sa.Text))
        for needle in needles:
            query = sa.select(sa.func.count()).select_from(column.table).where(
                value.contains(needle.lower(), autoescape=True))
            if db.session.scalar(query):
                hits.append(f"{column.table.name}.{column.name} ~ {needle}")
    return hits


@pytest.fixture
def everywhere(world: Any, published_session: Any, send: Any) -> Any:
    """A person whose data is in every store the platform has: registrations (and their
    messages) in a past and an upcoming session, a survey comment, campaign messages, and a
    Zoom attendance event. Returns (a registration, the strings that identify them)."""
    n = 4242
    rut = make_rut(n)
    details = {"first_names": FIRST, "last_names": LAST, "email": EMAIL, "phone": "9 8123 4567",
               "opt_in_future": True}
    upcoming = published_session()
    room(upcoming)
    reg = register_as_person(upcoming.id, person_input(n, **details))
    past = published_session()
    old = attend(register_as_person(past.id, person_input(n, **details)))
    end(past)
    survey.answer(old, 5, f"Soy {FIRST} {LAST}, escríbanme a {EMAIL} o al {PHONE}")
    person = reg.person
    if person.office_id is None:  # a contact of the host office, so the campaign reaches them
        person.office_id = world.host.id
        db.session.commit()
    another = published_session()  # people already registered are not convened again
    queue_all(started(world, another.activity, channels=["email", "whatsapp", "sms"]))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.dedupe_key.like(f"campaign:%:p{person.id}"))) == 1
    event = joined(EMAIL.upper())
    event["payload"]["object"]["participant"]["user_name"] = f"{FIRST} {LAST}"
    event["payload"]["object"]["participant"]["phone_number"] = PHONE
    assert send(event).get_json() == {"status": "handled"}
    needles = [EMAIL, PHONE, PHONE.removeprefix("+56"), rut, rut.replace("-", ""), f"{FIRST} {LAST}", FIRST, LAST]
    return reg, needles


def test_before_erasure_the_sweep_finds_the_person_in_each_store(everywhere: Any) -> None:
    """The control: the sweep does see data where it is (so its silence below means something)."""
    _reg, needles = everywhere
    tables = {hit.split(".")[0] for hit in sweep(needles)}
    assert {"people", "outbox_messages", "survey_responses", "zoom_webhook_events"} <= tables


def test_after_erasure_no_text_column_of_any_table_holds_the_person(everywhere: Any) -> None:
    reg, needles = everywhere
    services.erase_personal_data(reg)
    db.session.expire_all()
    assert sweep(needles) == []


def test_erasure_keeps_the_rating_and_the_zoom_event_row(everywhere: Any) -> None:
    from app.conferencing.models import ZoomWebhookEvent
    from app.conferencing.webhooks import PURGED

    reg, _needles = everywhere
    services.erase_personal_data(reg)
    db.session.expire_all()
    [answer] = db.session.scalars(sa.select(SurveyResponse)).all()
    assert answer.rating == 5 and answer.comment == ""
    [event] = db.session.scalars(sa.select(ZoomWebhookEvent)).all()
    assert event.payload == PURGED and event.event == "meeting.participant_joined"  # a repeat is still known


def test_other_peoples_zoom_events_are_left_alone(everywhere: Any, send: Any) -> None:
    from app.conferencing.models import ZoomWebhookEvent

    reg, _needles = everywhere
    send(joined("otra.persona@example.cl"))
    services.erase_personal_data(reg)
    db.session.expire_all()
    payloads = [json.loads(e.payload) for e in db.session.scalars(sa.select(ZoomWebhookEvent))]
    assert sum("otra.persona@example.cl" in json.dumps(p) for p in payloads) == 1


def test_domains_hear_of_the_erasure_inside_the_same_transaction(everywhere: Any) -> None:
    reg, _needles = everywhere
    heard: list[tuple[int, str | None]] = []
    with person_erased.connected_to(lambda person, identifiers, **kw: heard.append((person.id, identifiers.email))):
        services.erase_personal_data(reg)
    assert [(pid, (email or "").lower()) for pid, email in heard] == [(reg.person_id, EMAIL.lower())]
