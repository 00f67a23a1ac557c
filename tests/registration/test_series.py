"""A whole series in one submission: each date its own seat or waitlist place, one message
listing them all, the right partial result, and nothing half-written."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from app.activities.models import ActivitySession
from app.extensions import db
from app.outbox.models import OutboxMessage, OutboxStatus
from app.outbox.rendering import render, render_now
from app.people.models import Channel, Person
from app.people.services import PersonError
from app.registration import holds, series, services
from app.registration.models import Registration, RegistrationHold, RegistrationStatus
from app.timeutil import utcnow
from tests.conftest import count
from tests.registration.conftest import person_input
from tests.workshops.conftest import local_in


@pytest.fixture
def four_dates(world: Any) -> list[ActivitySession]:
    w = world.workshop(publish=True, count=4, start=local_in(10), session={"capacity": 2})
    sessions = list(w.activity.sessions)
    assert len({s.series_id for s in sessions}) == 1 and sessions[0].series_id is not None
    return sessions


def ids(sessions: list[ActivitySession]) -> list[int]:
    return [s.id for s in sessions]


def phone_only(n: int) -> Any:
    return person_input(n, email="", phone=f"9 8765 43{n:02d}", preferred_channel="")


def seats(session_id: int) -> int:
    db.session.expire_all()
    return db.session.get(ActivitySession, session_id).confirmed_count


def test_the_series_offers_its_open_dates_in_order(four_dates):
    assert ids(series.series_sessions(four_dates[2])) == ids(four_dates)


def test_a_date_that_closed_is_not_offered(four_dates):
    four_dates[0].starts_at = utcnow()
    db.session.commit()
    assert ids(series.series_sessions(four_dates[1])) == ids(four_dates[1:])


def test_all_dates_in_one_submission_each_hold_a_seat_and_one_message_lists_them(four_dates):
    result = series.register_series(four_dates[0], ids(four_dates), phone_only(1))
    assert [d.outcome for d in result.dates] == ["confirmed"] * 4
    assert not result.recognised
    regs = db.session.scalars(select(Registration).order_by(Registration.session_id)).all()
    assert [r.session_id for r in regs] == ids(four_dates)
    assert len({r.nonce for r in regs}) == 4  # a personal link of its own for each date
    assert all(seats(s.id) == 1 for s in four_dates)
    messages = db.session.scalars(select(OutboxMessage)).all()
    assert len(messages) == 1
    msg = messages[0]
    assert msg.kind == "registration_series" and msg.channel == "whatsapp" and msg.recipient == "+56987654301"
    body = render_now(msg).body_text
    for reg in regs:
        assert services.personal_url(reg) in body
        assert reg.session.local_start.strftime("%H:%M") in body
    assert body.count("confirmada") == 4
    assert db.session.get(Person, regs[0].person_id).preferred_channel == Channel.WHATSAPP


def test_the_email_lists_every_date_and_brings_one_invitation_per_confirmed_date(four_dates):
    for n in (2, 3):  # the third date fills up
        series.register_series(four_dates[2], [four_dates[2].id], person_input(n))
    result = series.register_series(four_dates[0], ids(four_dates), person_input(1))
    assert [d.outcome for d in result.dates] == ["confirmed", "confirmed", "waitlisted", "confirmed"]
    msg = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "camila1@example.cl"))
    rendered = render(msg)
    assert rendered is not None
    assert "lista de espera, en el lugar 1" in rendered.body_text
    assert rendered.body_html and "lugar 1" in rendered.body_html
    assert [a.filename for a in rendered.attachments] == ["invitacion-1.ics", "invitacion-2.ics", "invitacion-3.ics"]


def test_full_dates_give_a_waitlist_place_and_the_rest_a_seat(four_dates):
    full = four_dates[1]
    for n in (10, 11):
        services.register(full.id, person_input(n))
    result = series.register_series(four_dates[0], ids(four_dates), phone_only(1))
    outcome = {d.session.id: d for d in result.dates}
    assert outcome[full.id].outcome == "waitlisted" and outcome[full.id].position == 1
    assert [outcome[s.id].outcome for s in four_dates if s.id != full.id] == ["confirmed"] * 3
    assert seats(full.id) == 2  # never oversold


def kinds() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)))


def test_a_known_document_books_nothing_and_holds_the_first_open_date_for_confirmation(four_dates):
    """Whoever typed a known RUT may not be the person: only the first open date is held, and the
    message goes to the contact on file; the other dates are taken later from the personal page."""
    first = services.register(four_dates[2].id, phone_only(1)).registration
    nonce = first.nonce
    four_dates[0].starts_at = utcnow()  # the first date closed: the first *open* one is held
    db.session.commit()
    typed = person_input(1, first_names="Otra", email="x@example.cl", phone="")
    result = series.register_series(four_dates[0], ids(four_dates), typed)
    assert result.recognised and result.dates == [] and result.created == []
    assert result.person.id == first.person_id and result.typed_contact  # what was typed, masked
    db.session.expire_all()
    assert db.session.get(Registration, first.id).nonce == nonce  # the date already held is not touched
    assert count(Registration) == 1 and count(Person) == 1
    person = db.session.get(Person, first.person_id)
    assert person.email is None and person.first_names == "Camila"  # nothing on file changes
    hold = db.session.scalars(select(RegistrationHold)).one()
    assert (hold.session_id, hold.person_id) == (four_dates[1].id, first.person_id)
    assert hold.holds_seat and seats(four_dates[1].id) == 1
    assert [seats(s.id) for s in four_dates] == [0, 1, 1, 0]  # the held seat and her own date, nothing else
    assert kinds() == ["registration_confirmation", "registration_hold"]
    held_msg = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "registration_hold"))
    assert held_msg.recipient == "+56987654301"  # the phone on file, not the email typed


def test_a_known_document_holds_the_first_date_and_the_message_goes_to_the_contact_on_file(four_dates):
    first = services.register(four_dates[3].id, phone_only(1)).registration
    result = series.register_series(four_dates[0], ids(four_dates), person_input(1, first_names="Otra"))
    assert result.recognised and not result.created
    hold = db.session.scalars(select(RegistrationHold)).one()
    assert hold.session_id == four_dates[0].id and hold.holds_seat and seats(four_dates[0].id) == 1
    assert count(Registration) == 1
    held_msg = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "registration_hold"))
    assert held_msg.recipient == "+56987654301"  # on file; the email typed gets nothing
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "registration_series")) is None
    reg = holds.confirm(hold)  # she confirms from her message
    assert (reg.session_id, reg.person_id, reg.status) == (four_dates[0].id, first.person_id,
                                                           RegistrationStatus.CONFIRMED)
    assert seats(four_dates[0].id) == 1 and count(Registration) == 2


def test_every_date_already_held_creates_nothing_and_sends_the_links_again_to_the_contact_on_file(four_dates):
    series.register_series(four_dates[0], ids(four_dates), phone_only(1))
    assert kinds() == ["registration_series"]
    again = series.register_series(four_dates[0], ids(four_dates), phone_only(1))
    assert again.recognised and not again.dates and not again.created
    assert count(Registration) == 4 and count(RegistrationHold) == 0
    assert all(seats(s.id) == 1 for s in four_dates)
    links = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "registration_links")).one()
    assert links.recipient == "+56987654301" and kinds() == ["registration_series", "registration_links"]


def test_a_cancelled_date_is_held_and_once_confirmed_registered_again_in_the_same_row(four_dates):
    reg = services.register(four_dates[0].id, phone_only(1)).registration
    reg_id, nonce = reg.id, reg.nonce
    services.cancel(reg)
    result = series.register_series(four_dates[0], ids(four_dates[:2]), phone_only(1))
    assert result.recognised and not result.dates
    hold = db.session.scalars(select(RegistrationHold)).one()
    assert hold.session_id == four_dates[0].id
    assert count(Registration) == 1 and seats(four_dates[1].id) == 0  # the second date is not taken
    again = holds.confirm(hold)
    assert again.id == reg_id and again.status == RegistrationStatus.CONFIRMED and again.nonce != nonce
    assert count(Registration) == 1 and seats(four_dates[0].id) == 1


def test_a_date_that_closed_meanwhile_is_skipped_with_its_reason(four_dates):
    four_dates[3].starts_at = utcnow()
    db.session.commit()
    result = series.register_series(four_dates[0], ids(four_dates), phone_only(1))
    last = next(d for d in result.dates if d.session.id == four_dates[3].id)
    assert last.outcome == "closed" and "ya cerraron" in last.note
    assert count(Registration) == 3


def test_when_every_chosen_date_has_closed_nothing_is_written(four_dates):
    for s in four_dates[:2]:
        s.starts_at = utcnow()
    db.session.commit()
    with pytest.raises(services.RegistrationError) as err:
        series.register_series(four_dates[0], ids(four_dates[:2]), phone_only(1))
    assert err.value.status == 409 and "ya cerraron" in err.value.message
    assert count(Person) == 0 and count(Registration) == 0 and count(OutboxMessage) == 0


@pytest.mark.parametrize("case", ["no date", "a date of another workshop"])
def test_dates_that_are_not_of_the_series_are_refused_and_nothing_written(four_dates, world, case):
    other = world.workshop(publish=True, start=local_in(12)).activity.sessions[0]
    chosen = [] if case == "no date" else [four_dates[0].id, other.id]
    with pytest.raises(services.RegistrationError) as err:
        series.register_series(four_dates[0], chosen, phone_only(1))
    assert err.value.status == 400 and err.value.field == "sessions"
    assert count(Person) == 0 and count(Registration) == 0 and count(OutboxMessage) == 0


def test_bad_person_details_write_nothing(four_dates):
    with pytest.raises(PersonError):
        series.register_series(four_dates[0], ids(four_dates), phone_only(1).__class__(
            **{**phone_only(1).__dict__, "document_number": "12.345.678-9"}))
    assert count(Person) == 0 and count(Registration) == 0 and sum(seats(s.id) for s in four_dates) == 0


def test_a_failure_after_some_seats_were_taken_gives_every_seat_back(four_dates, monkeypatch):
    calls = []
    real = services._take_seat

    def take_then_fail(session_id: int) -> bool:
        calls.append(session_id)
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return real(session_id)

    monkeypatch.setattr(services, "_take_seat", take_then_fail)
    with pytest.raises(RuntimeError):
        series.register_series(four_dates[0], ids(four_dates), phone_only(1))
    assert len(calls) == 3
    assert sum(seats(s.id) for s in four_dates) == 0
    assert count(Person) == 0 and count(Registration) == 0 and count(OutboxMessage) == 0


def test_the_message_is_not_sent_once_the_person_asked_to_be_erased(four_dates):
    result = series.register_series(four_dates[0], ids(four_dates), phone_only(1))
    services.erase_personal_data(result.created[0])
    msg = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "registration_series"))
    assert msg.status == OutboxStatus.CANCELLED and msg.recipient == services.ERASED


# --- concurrency -----------------------------------------------------------------------------


def test_parallel_series_submissions_never_oversell_any_date(app, world):
    """12 people at once want the 4 dates of a series with 2 seats each: exactly 2 seats taken
    on each date, the others waitlisted, nobody lost or doubled (the same conditional UPDATE
    as a single registration; the control is in test_concurrency.py)."""
    w = world.workshop(publish=True, count=4, start=local_in(10), session={"capacity": 2})
    session_ids = [s.id for s in w.activity.sessions]
    anchor_id = session_ids[0]
    db.session.commit()
    workers = 12
    barrier = threading.Barrier(workers)
    errors: list[str] = []

    def one(i: int) -> None:
        barrier.wait()
        with app.app_context():
            try:
                anchor = db.session.get(ActivitySession, anchor_id)
                series.register_series(anchor, session_ids, phone_only(20 + i))
            except Exception as exc:  # recorded, then asserted on
                errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, range(workers)))
    assert not errors, errors[:3]
    db.session.expire_all()
    for sid in session_ids:
        by_status = dict(db.session.execute(
            select(Registration.status, func.count()).where(Registration.session_id == sid)
            .group_by(Registration.status)).all())
        assert by_status == {RegistrationStatus.CONFIRMED: 2, RegistrationStatus.WAITLISTED: workers - 2}
        assert db.session.get(ActivitySession, sid).confirmed_count == 2
    assert count(Person) == workers
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == workers


def test_the_worker_writes_and_delivers_the_one_message(four_dates):
    from app.outbox.delivery import deliver_one

    series.register_series(four_dates[0], ids(four_dates), phone_only(1))
    msg = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "registration_series"))
    assert msg.body_text == ""  # written by the worker, not by the request
    assert deliver_one(msg.id) == OutboxStatus.SENT
    db.session.expire_all()
    sent = db.session.get(OutboxMessage, msg.id)
    assert sent.renderer is None and sent.body_text.count("/inscripcion/") == 4
