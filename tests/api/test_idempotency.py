"""Idempotency-Key: the same key gets the same answer and the work is done once.

The decorator is exercised on ``idem_app`` (the application plus small test endpoints built with
``app.api.api_blueprint``, the path real endpoints take), then on POST /api/v1/registrations,
where a retry storm must leave exactly one registration.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request, request_finished
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from app.extensions import db
from app.registration.models import IdempotentRequest, Registration
from app.timeutil import utcnow
from tests.api.conftest import PROBLEM, assert_problem, bearer
from tests.conftest import count, make_test_config
from tests.registration.test_api import registration_body
from tests.workshops.conftest import WorkshopWorld, local_in

ECHO = "/api/v1/_idem/echo"
SLOW = "/api/v1/_idem/slow"
BOOM = "/api/v1/_idem/boom"
MINE = "/api/v1/_idem/mine"
REGISTER = "/api/v1/registrations"


class Calls:
    """What the test endpoints saw; ``gate`` holds /slow until the test opens it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.entered = threading.Event()
        self.gate = threading.Event()

    def reset(self) -> None:
        self.bodies.clear()
        self.entered.clear()
        self.gate.clear()


@pytest.fixture(scope="session")
def idem_app(app: Flask, database_url: str, instance_dir: Path) -> Iterator[Flask]:
    """The application plus idempotent test endpoints under /api/v1/_idem."""
    from apiflask.fields import Integer, String

    from app import create_app
    from app.api import api_blueprint, register_api
    from app.api.auth import auth, current_api_user
    from app.api.idempotency import idempotent
    from app.api.schemas import ApiSchema

    application = create_app(make_test_config(database_url, instance_dir))
    calls = Calls()

    class EchoIn(ApiSchema):
        name = String(required=True)
        status = Integer(load_default=201)

    bp = api_blueprint("api_idem_test", __name__, "/api/v1/_idem")

    @bp.post("/echo")
    @bp.auth_required(auth, optional=True)
    @idempotent
    @bp.input(EchoIn)
    def echo(json_data: dict[str, Any]) -> Any:
        calls.bodies.append(json_data)
        status = json_data["status"]
        if status >= 400:
            from app.errors import problem

            return problem(status, "respuesta de prueba")
        return {"call": len(calls.bodies), "name": json_data["name"]}, status, {"Location": "/algo/1"}

    @bp.post("/slow")
    @idempotent
    def slow() -> Any:
        calls.bodies.append({})
        calls.entered.set()
        assert calls.gate.wait(10)
        return {"call": len(calls.bodies)}, 201

    @bp.post("/boom")
    @idempotent
    def boom() -> Any:
        calls.bodies.append({})
        raise RuntimeError("falla de prueba")

    @bp.post("/mine")
    @bp.auth_required(auth)
    @idempotent
    def mine() -> Any:
        calls.bodies.append({})
        return {"user_id": current_api_user().id, "call": len(calls.bodies)}, 201

    register_api(application, bp)
    application.config["IDEM_CALLS"] = calls

    def _record_5xx(sender: Flask, response: Any, **_kw: Any) -> None:
        if response.status_code >= 500:
            app.config["SERVER_ERRORS"].append(f"idem_app {request.path} -> {response.status_code}")

    request_finished.connect(_record_5xx, application, weak=False)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def calls(idem_app: Flask) -> Calls:
    c: Calls = idem_app.config["IDEM_CALLS"]
    c.reset()
    return c


@pytest.fixture
def idem(idem_app: Flask, calls: Calls) -> FlaskClient:
    return idem_app.test_client()


def key(value: str = "clave-1") -> dict[str, str]:
    return {"Idempotency-Key": value}


def rows() -> list[IdempotentRequest]:
    db.session.expire_all()
    return list(db.session.scalars(select(IdempotentRequest)))


# --- the decorator ---------------------------------------------------------------------------


def test_without_a_key_every_request_runs(idem, calls):
    for _ in range(2):
        assert idem.post(ECHO, json={"name": "Ana"}).status_code == 201
    assert len(calls.bodies) == 2
    assert rows() == []


def test_the_same_key_twice_gets_the_same_answer_and_runs_once(idem, calls):
    first = idem.post(ECHO, json={"name": "Ana"}, headers=key())
    again = idem.post(ECHO, json={"name": "Ana"}, headers=key())
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() == {"call": 1, "name": "Ana"}
    assert again.mimetype == "application/json"
    assert again.headers["Location"] == first.headers["Location"] == "/algo/1"
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(calls.bodies) == 1


def test_the_same_key_with_another_body_is_422_and_does_not_run(idem, calls):
    idem.post(ECHO, json={"name": "Ana"}, headers=key())
    problem = assert_problem(idem.post(ECHO, json={"name": "Berta"}, headers=key()), 422)
    assert "otra solicitud" in problem["detail"]
    assert len(calls.bodies) == 1


@pytest.mark.parametrize("value", ["", "   ", "x" * 201, "clave-ñandú", "tab\there"])
def test_a_key_that_is_not_1_to_200_printable_characters_is_400(idem, calls, value):
    environ = {"HTTP_IDEMPOTENCY_KEY": value}  # set raw: the test client would encode it
    problem = assert_problem(idem.post(ECHO, json={"name": "Ana"}, environ_base=environ), 400)
    assert "Idempotency-Key" in problem["detail"]
    assert calls.bodies == [] and rows() == []


def test_a_key_of_200_printable_characters_is_accepted(idem, calls):
    value = ("Ab9-_~ .:{}" * 30)[:199] + "z"
    assert len(value) == 200
    assert idem.post(ECHO, json={"name": "Ana"}, headers=key(value)).status_code == 201


def test_a_repeat_while_the_first_is_in_flight_is_409_with_retry_after(idem_app, idem, calls):
    results: list[Any] = []
    first = threading.Thread(target=lambda: results.append(idem_app.test_client().post(SLOW, headers=key())))
    first.start()
    try:
        assert calls.entered.wait(10)
        busy = idem.post(SLOW, headers=key())
        assert_problem(busy, 409)
        assert busy.headers["Retry-After"] == "1"
    finally:
        calls.gate.set()
        first.join(10)
    assert results[0].status_code == 201
    replay = idem.post(SLOW, headers=key())
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == results[0].get_json()
    assert len(calls.bodies) == 1


@pytest.mark.allow_5xx
@pytest.mark.parametrize("status", [409, 429, 500, 503])
def test_answers_meant_to_be_retried_are_not_stored(idem, calls, status):
    for _ in range(2):
        assert idem.post(ECHO, json={"name": "Ana", "status": status}, headers=key()).status_code == status
    assert len(calls.bodies) == 2
    assert rows() == []


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_refusals_are_stored_and_replayed_as_problem_json(idem, calls, status):
    idem.post(ECHO, json={"name": "Ana", "status": status}, headers=key())
    again = idem.post(ECHO, json={"name": "Ana", "status": status}, headers=key())
    assert again.status_code == status and again.mimetype == PROBLEM
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(calls.bodies) == 1


def test_a_validation_error_is_the_stored_answer(idem, calls):
    first = idem.post(ECHO, json={"nombre": "Ana"}, headers=key())
    again = idem.post(ECHO, json={"nombre": "Ana"}, headers=key())
    assert first.status_code == again.status_code == 422
    assert again.get_json()["errors"] == first.get_json()["errors"]
    assert calls.bodies == []
    assert [r.status_code for r in rows()] == [422]


@pytest.mark.allow_5xx
def test_an_exception_in_the_view_releases_the_key(idem, calls):
    for _ in range(2):
        assert_problem(idem.post(BOOM, headers=key()), 500)
    assert len(calls.bodies) == 2
    assert rows() == []


def test_the_scope_is_the_account_or_the_address(idem, calls, factory, token_for):
    ana, berta = factory.user(), factory.user()
    as_ana = idem.post(MINE, headers={**key(), **bearer(token_for(ana))})
    as_berta = idem.post(MINE, headers={**key(), **bearer(token_for(berta))})
    assert as_ana.get_json()["user_id"] == ana.id and as_berta.get_json()["user_id"] == berta.id
    here = idem.post(ECHO, json={"name": "Ana"}, headers=key())
    there = idem.post(ECHO, json={"name": "Ana"}, headers=key(), environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert "Idempotent-Replayed" not in there.headers
    assert here.get_json()["call"] != there.get_json()["call"]
    assert len(calls.bodies) == 4
    scopes = sorted(r.scope for r in rows())
    assert scopes[2:] == sorted([f"user:{ana.id}", f"user:{berta.id}"])
    assert all(s.startswith("ip:") and "10.1.2.3" not in s and "127.0.0.1" not in s for s in scopes[:2])


def test_a_refused_token_with_a_key_is_401_and_stores_nothing(idem, calls):
    resp = idem.post(ECHO, json={"name": "Ana"}, headers={**key(), **bearer("pl_" + "x" * 43)})
    assert_problem(resp, 401)
    assert calls.bodies == [] and rows() == []


def test_a_key_older_than_24_hours_is_ignored_and_replaced(idem, calls):
    idem.post(ECHO, json={"name": "Ana"}, headers=key())
    db.session.execute(update(IdempotentRequest).values(created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    again = idem.post(ECHO, json={"name": "Berta"}, headers=key())  # even with another body
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert len(calls.bodies) == 2 and len(rows()) == 1


def test_a_request_abandoned_in_flight_is_run_again(idem, calls):
    from app.api.idempotency import IN_FLIGHT_TIMEOUT

    idem.post(ECHO, json={"name": "Ana"}, headers=key())
    db.session.execute(update(IdempotentRequest).values(status_code=None, body=None,
                                                        created_at=utcnow() - IN_FLIGHT_TIMEOUT - timedelta(seconds=5)))
    db.session.commit()
    assert idem.post(ECHO, json={"name": "Ana"}, headers=key()).status_code == 201
    assert len(calls.bodies) == 2


def test_purge_expired_deletes_only_old_keys(idem, calls):
    from app.api.idempotency import purge_expired

    idem.post(ECHO, json={"name": "Ana"}, headers=key("vieja"))
    idem.post(ECHO, json={"name": "Ana"}, headers=key("nueva"))
    db.session.execute(update(IdempotentRequest).where(IdempotentRequest.key == "vieja")
                       .values(created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    assert purge_expired() == 1
    assert [r.key for r in rows()] == ["nueva"]


def test_the_openapi_document_lists_the_header(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    params = {p["name"]: p for p in spec["paths"][REGISTER]["post"]["parameters"]}
    assert params["Idempotency-Key"]["in"] == "header"
    assert "24 horas" in params["Idempotency-Key"]["description"]


# --- on the registration endpoint ------------------------------------------------------------


@pytest.fixture
def open_session(factory: Any) -> Any:
    world = WorkshopWorld(factory)
    workshop = world.workshop(publish=True, start=local_in(10), session={"capacity": 5})
    return workshop.activity.sessions[0]


def registrations() -> int:
    db.session.expire_all()
    return count(Registration)


def test_a_registration_retried_with_its_key_gets_the_same_answer(client, open_session):
    body = registration_body(open_session.id)
    first = client.post(REGISTER, json=body, headers=key("inscripcion-1"))
    again = client.post(REGISTER, json=body, headers=key("inscripcion-1"))
    assert first.status_code == again.status_code == 202  # the same answer for everyone, without a token
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Cache-Control"] == "no-store"
    assert registrations() == 1


def test_a_registration_key_reused_for_another_person_is_422_and_registers_nobody_else(client, open_session):
    client.post(REGISTER, json=registration_body(open_session.id, 1), headers=key("inscripcion-1"))
    resp = client.post(REGISTER, json=registration_body(open_session.id, 2), headers=key("inscripcion-1"))
    assert_problem(resp, 422)
    assert registrations() == 1


def test_without_a_key_a_retry_is_still_one_registration(client, open_session):
    body = registration_body(open_session.id)
    assert client.post(REGISTER, json=body).status_code == 202
    assert client.post(REGISTER, json=body).status_code == 202  # the same answer: nothing says "already"
    assert registrations() == 1


@pytest.mark.parametrize("round_", range(3))
def test_two_concurrent_requests_with_one_key_make_one_registration(app, open_session, round_):
    body = registration_body(open_session.id, 10 + round_)
    barrier = threading.Barrier(2)

    def send(_i: int) -> Any:
        client = app.test_client()
        barrier.wait()
        return client.post(REGISTER, json=body, headers=key(f"carrera-{round_}"))

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(send, range(2)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses in ([202, 202], [202, 409]), [a.get_data(as_text=True)[:300] for a in answers]
    created = [a for a in answers if a.status_code == 202]
    if len(created) == 2:  # the second came after the first had finished: a replay
        assert sum(1 for a in created if a.headers.get("Idempotent-Replayed") == "true") == 1
        assert created[0].get_json() == created[1].get_json()
    else:  # Retry-After: 1 from the key, or more where the rate limiter's window says so
        assert int(answers[[a.status_code for a in answers].index(409)].headers["Retry-After"]) >= 1
    assert registrations() == 1
    assert db.session.scalar(select(func.count()).select_from(IdempotentRequest)) == 1
