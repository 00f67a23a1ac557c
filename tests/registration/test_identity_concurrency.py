"""Concurrent submissions that share an email, a phone or a document end as the same
submissions one after another would. Both databases; on PostgreSQL they really overlap.

A person is their document, so a shared contact needs no lock at all (it merges nobody: 20
RUTs with one email are 20 people, as in sequence). Two submissions with the *same* RUT race
to create the person: the unique constraint on the document refuses the second insert and
``register`` looks again (retry). The control shows that race without the retry: find, then
insert, fails with an IntegrityError (a 500, before).
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.people.models import Person
from app.people.services import clean_person, find_person, new_person
from app.registration import services
from app.registration.models import Registration, RegistrationHold, RegistrationStatus
from tests.registration.conftest import person_input
from tests.registration.test_concurrency import _fire

N = 20


def _tally(session_id: int) -> dict[str, int]:
    db.session.expire_all()
    rows = db.session.execute(select(Registration.status, func.count()).where(Registration.session_id == session_id)
                              .group_by(Registration.status)).all()
    return {status.value: n for status, n in rows}


def test_20_concurrent_posts_sharing_one_email_make_20_people_as_in_sequence(app, published_session):
    together, in_turn = published_session(capacity=15), published_session(capacity=15)
    together_id, in_turn_id = together.id, in_turn.id
    db.session.commit()
    inputs = [person_input(i, email="familia@example.cl", phone="9 8765 4321") for i in range(N)]
    outcomes = _fire(app, together_id, inputs)
    assert not [o for o in outcomes if o.startswith("error")], outcomes[:3]
    assert db.session.scalar(select(func.count()).select_from(Person)) == N
    later = [person_input(100 + i, email="otra@example.cl") for i in range(N)]  # the same shape, one by one
    for inp in later:
        services.register(in_turn_id, inp)
    assert _tally(together_id) == _tally(in_turn_id) == {"confirmed": 15, "waitlisted": 5}
    assert db.session.scalar(select(func.count(func.distinct(Person.document_number)))) == 2 * N


def test_20_concurrent_posts_with_the_same_rut_make_one_person_and_one_registration(app, published_session):
    session = published_session(capacity=5)
    session_id = session.id
    db.session.commit()
    outcomes = _fire(app, session_id, [person_input(7, first_names=f"Intento {i}") for i in range(N)])
    assert not [o for o in outcomes if o.startswith("error")], outcomes[:3]
    assert sum(1 for o in outcomes if not o.endswith(":repeat")) == 1
    assert db.session.scalar(select(func.count()).select_from(Person)) == 1
    assert _tally(session_id) == {"confirmed": 1}
    assert db.session.scalar(select(func.count()).select_from(RegistrationHold)) == 0  # all repeats: nothing held


def test_concurrent_posts_of_a_known_rut_make_one_hold_and_one_message(app, published_session):
    first, second = published_session(capacity=5), published_session(capacity=5)
    services.register(first.id, person_input(7))
    second_id = second.id
    db.session.commit()
    outcomes = _fire(app, second_id, [person_input(7) for _ in range(12)])
    assert not [o for o in outcomes if o.startswith("error")], outcomes[:3]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(RegistrationHold)) == 1
    from app.activities.models import ActivitySession
    from app.outbox.models import OutboxMessage

    assert db.session.get(ActivitySession, second_id).confirmed_count == 1  # one seat held, not twelve
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.kind == "registration_hold")) == 1


def test_control_find_then_insert_without_the_retry_fails_on_the_same_rut(app, published_session):
    """Both look, neither finds, both insert: the document's unique constraint refuses one, which
    without ``register``'s retry would be a 500."""
    published_session()
    barrier = threading.Barrier(2)
    errors: list[str] = []

    def naive(i: int) -> None:
        with app.app_context():
            cleaned = clean_person(person_input(9, first_names=f"Intento {i}"))
            found = find_person(cleaned)
            barrier.wait()  # both have looked before either inserts
            try:
                if found is None:
                    new_person(cleaned, office_id=None)
                    db.session.commit()
            except IntegrityError as exc:
                errors.append(type(exc).__name__)
            finally:
                db.session.rollback()
                db.session.remove()

    threads = [threading.Thread(target=naive, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == ["IntegrityError"]
    assert db.session.scalar(select(func.count()).select_from(Person)) == 1


def test_registrations_are_not_left_half_written_by_a_lost_race(app, published_session):
    """After the same-RUT race every seat taken belongs to a registration."""
    session = published_session(capacity=3)
    session_id = session.id
    db.session.commit()
    _fire(app, session_id, [person_input(i % 4) for i in range(16)])
    db.session.expire_all()
    from app.activities.models import ActivitySession

    confirmed = db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.session_id == session_id, Registration.status == RegistrationStatus.CONFIRMED))
    assert db.session.get(ActivitySession, session_id).confirmed_count == confirmed == 3
    assert db.session.scalar(select(func.count()).select_from(Person)) == 4


