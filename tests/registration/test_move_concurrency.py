"""Two people moving into the last seat of a date at the same moment: exactly one gets it, the
other stays where they were. Runs on both databases (on PostgreSQL the moves really overlap).
A control shows the race the lock and re-check prevent: reading the free seats, then moving,
oversells."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select, update

from app.activities.models import ActivitySession
from app.extensions import db
from app.registration import services
from app.registration.models import Registration, RegistrationStatus
from tests.registration.conftest import person_input
from tests.workshops.conftest import local_in


def _together(app: Any, jobs: list[Any]) -> list[str]:
    """Run each job in its own thread and app context, all released at once."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(job: Any) -> None:
        with app.app_context():
            barrier.wait()
            try:
                out = job()
            except services.SessionFull:
                out = "full"
            except Exception as exc:  # recorded, then asserted on
                out = f"error:{type(exc).__name__}:{exc}"
            finally:
                db.session.remove()
        with lock:
            outcomes.append(out)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _confirmed_in(session_id: int) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.session_id == session_id, Registration.status == RegistrationStatus.CONFIRMED)) or 0)


def _setup(world: Any) -> tuple[int, int, int, list[int]]:
    """Two people confirmed on the first date; the second date has one seat left."""
    w = world.workshop(count=2, publish=True, start=local_in(10), session={"capacity": 2})
    first, second = w.activity.sessions
    movers = [services.register(first.id, person_input(n)).registration.id for n in (1, 2)]
    services.register(second.id, person_input(3))
    db.session.commit()
    return first.id, second.id, 1, movers


def _move_job(reg_id: int, target_id: int) -> Any:
    def job() -> str:
        reg = db.session.get(Registration, reg_id)
        return services.move(reg, target_id, if_full="stay", same_activity=True).registration.status.value
    return job


def test_two_people_moving_into_the_last_seat_at_once_one_gets_it_the_other_stays(app, world):
    first_id, second_id, _free, movers = _setup(world)
    outcomes = _together(app, [_move_job(r, second_id) for r in movers])
    assert sorted(outcomes) == ["confirmed", "full"], outcomes
    db.session.expire_all()
    assert _confirmed_in(second_id) == 2  # never oversold
    assert _confirmed_in(first_id) == 1  # the one who stayed still holds their seat
    counts = {s.id: s.confirmed_count for s in db.session.scalars(select(ActivitySession))}
    assert counts == {first_id: 1, second_id: 2}  # the counters agree with the rows


def test_people_moving_in_opposite_directions_at_once_never_block_each_other(app, world):
    """Both sessions are locked in id order, so crossing moves cannot deadlock on PostgreSQL
    (without ``_lock_sessions`` this test fails there with DeadlockDetected)."""
    w = world.workshop(count=2, publish=True, start=local_in(10), session={"capacity": 20})
    first, second = w.activity.sessions
    jobs = []
    for n in range(6):
        here, there = (first, second) if n % 2 == 0 else (second, first)
        reg = services.register(here.id, person_input(10 + n)).registration
        jobs.append(_move_job(reg.id, there.id))
    db.session.commit()
    outcomes = _together(app, jobs)
    assert outcomes == ["confirmed"] * 6, outcomes
    db.session.expire_all()
    assert _confirmed_in(first.id) == 3 and _confirmed_in(second.id) == 3


def test_control_reading_free_seats_then_moving_without_the_lock_oversells(app, world):
    """The naive move (look at the free seats, then cancel and insert) lets both see the last
    seat: the reason ``services.move`` takes the seat with a conditional UPDATE under a lock."""
    first_id, second_id, _free, movers = _setup(world)
    barrier = threading.Barrier(2)

    def naive(reg_id: int) -> None:
        with app.app_context():
            target = db.session.get(ActivitySession, second_id)
            free = target.capacity - target.confirmed_count
            barrier.wait()  # both have looked before either moves
            if free > 0:
                reg = db.session.get(Registration, reg_id)
                reg.status = RegistrationStatus.CANCELLED
                db.session.add(Registration(session_id=second_id, person_id=reg.person_id, nonce="x",
                                            status=RegistrationStatus.CONFIRMED, source=reg.source))
                db.session.execute(update(ActivitySession).where(ActivitySession.id == second_id)
                                   .values(confirmed_count=target.confirmed_count + 1))
                db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=naive, args=(r,)) for r in movers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert _confirmed_in(second_id) == 3  # oversold: two seats went to the one left
