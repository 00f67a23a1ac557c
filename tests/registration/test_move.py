"""Changing to another date: one transaction, the seat rules of a registration, and nothing
changed when the new date is full unless its waitlist was chosen."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.activities.models import ActivitySession
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.registration import services
from app.registration.models import Registration, RegistrationStatus
from tests.registration.conftest import person_input, register_as_person
from tests.workshops.conftest import local_in


def three_dates(world: Any, capacity: int = 5) -> list[ActivitySession]:
    w = world.workshop(count=3, publish=True, start=local_in(10), session={"capacity": capacity})
    return list(w.activity.sessions)


def reg_in(session: ActivitySession, n: int) -> Registration:
    return services.register(session.id, person_input(n)).registration


def counts(*sessions: ActivitySession) -> list[int]:
    db.session.expire_all()
    return [db.session.get(ActivitySession, s.id).confirmed_count for s in sessions]


def kinds_for(reg: Registration) -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(OutboxMessage.kind).where(
        OutboxMessage.dedupe_key.startswith(f"registration:{reg.id}:"))))


def test_moving_gives_the_old_seat_back_and_takes_the_new_one(world):
    first, second, _third = three_dates(world)
    reg = reg_in(first, 1)
    result = services.move(reg, second.id, if_full="stay", same_activity=True)
    new = result.registration
    assert new.session_id == second.id and new.status == RegistrationStatus.CONFIRMED
    db.session.refresh(reg)
    assert reg.status == RegistrationStatus.CANCELLED and reg.cancel_reason == "Cambio de fecha"
    assert counts(first, second) == [0, 1]
    assert new.office_id == reg.office_id and new.source == reg.source  # the credit stays
    # The old date leaves their calendar (CANCEL); the new date arrives with its invitation.
    assert kinds_for(reg) == ["registration_confirmation", "registration_withdrawn"]
    assert kinds_for(new) == ["registration_confirmation"]


def test_the_freed_seat_goes_to_the_first_person_waiting_on_the_old_date(world):
    first, second, _third = three_dates(world, capacity=1)
    reg = reg_in(first, 1)
    waiting = reg_in(first, 2)
    assert waiting.status == RegistrationStatus.WAITLISTED
    services.move(reg, second.id, if_full="stay")
    db.session.refresh(waiting)
    assert waiting.status == RegistrationStatus.CONFIRMED
    assert counts(first, second) == [1, 1]


def test_a_full_date_leaves_the_person_where_they_were(world):
    first, second, _third = three_dates(world, capacity=1)
    reg = reg_in(first, 1)
    reg_in(second, 2)
    with pytest.raises(services.SessionFull) as err:
        services.move(reg, second.id, if_full="stay")
    assert err.value.status == 409 and "sigue como estaba" in err.value.message
    db.session.refresh(reg)
    assert reg.status == RegistrationStatus.CONFIRMED and reg.session_id == first.id
    assert counts(first, second) == [1, 1]
    assert db.session.scalar(select(Registration).where(Registration.session_id == second.id,
                                                        Registration.person_id == reg.person_id)) is None
    assert kinds_for(reg) == ["registration_confirmation"]  # nothing told: nothing happened


def test_choosing_the_waitlist_of_a_full_date_moves_there_explicitly(world):
    first, second, _third = three_dates(world, capacity=1)
    reg = reg_in(first, 1)
    reg_in(second, 2)
    new = services.move(reg, second.id, if_full="waitlist").registration
    assert new.status == RegistrationStatus.WAITLISTED and services.waitlist_position(new) == 1
    assert counts(first, second) == [0, 1]


def test_a_second_click_with_a_stale_registration_moves_once(world):
    """The old registration is claimed with a conditional UPDATE, not trusted from memory: a
    second request still holding it as confirmed cannot free its seat twice."""
    from sqlalchemy.orm.attributes import set_committed_value

    first, second, third = three_dates(world)
    reg = reg_in(first, 1)
    services.move(reg, second.id)
    set_committed_value(reg, "status", RegistrationStatus.CONFIRMED)  # what the second click believes
    with pytest.raises(services.RegistrationError) as err:
        services.move(reg, third.id)
    assert err.value.status == 409
    assert counts(first, second, third) == [0, 1, 0]


def test_moving_to_the_same_date_or_a_date_of_another_workshop_is_refused(world):
    first, _second, _third = three_dates(world)
    other = world.workshop(publish=True, start=local_in(11)).activity.sessions[0]
    reg = reg_in(first, 1)
    with pytest.raises(services.RegistrationError) as same:
        services.move(reg, first.id)
    assert same.value.status == 409
    with pytest.raises(services.RegistrationError) as foreign:
        services.move(reg, other.id, same_activity=True)
    assert foreign.value.status == 404
    assert counts(first) == [1]


def test_moving_to_a_date_already_taken_by_the_person_is_refused(world):
    first, second, _third = three_dates(world)
    reg = reg_in(first, 1)
    taken = register_as_person(second.id, person_input(1))  # held, then confirmed from her message
    assert taken.person_id == reg.person_id and taken.status == RegistrationStatus.CONFIRMED
    with pytest.raises(services.RegistrationError) as err:
        services.move(reg, second.id)
    assert err.value.status == 409
    db.session.refresh(reg)
    assert reg.status == RegistrationStatus.CONFIRMED and counts(first, second) == [1, 1]


def test_after_cancelling_the_person_takes_another_date(world):
    first, second, _third = three_dates(world)
    reg = reg_in(first, 1)
    services.cancel(reg)
    new = services.move(reg, second.id, if_full="stay", same_activity=True).registration
    assert new.status == RegistrationStatus.CONFIRMED
    assert counts(first, second) == [0, 1]


def test_a_closed_date_is_refused_and_nothing_changes(world):
    from workshops import services as workshop_services

    first, second, _third = three_dates(world)
    reg = reg_in(first, 1)
    workshop_services.cancel_session(second, "Sin sala", actor=world.host_staff)
    with pytest.raises(services.RegistrationError) as err:
        services.move(reg, second.id)
    assert err.value.status == 409
    db.session.refresh(reg)
    assert reg.status == RegistrationStatus.CONFIRMED
