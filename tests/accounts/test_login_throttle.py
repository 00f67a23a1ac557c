"""Failed logins are counted per account across addresses, in the limiter's store (memory
here, Redis when configured), with a refusal that does not say whether the account exists."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from limits.storage import MemoryStorage, storage_from_string

from app.accounts.throttle import AccountThrottle, account_throttle
from app.extensions import db, limiter
from app.outbox.models import OutboxMessage
from tests.conftest import IN_CI, get_csrf

REDIS_URL = "redis://127.0.0.1:6379/0"
LOCKED = "Hubo demasiados intentos fallidos de ingreso con este correo."


def _login_from(client: FlaskClient, address: str, email: str, password: str) -> object:
    """A login attempt from ``address`` (each address stays far below the per-address limit)."""
    env = {"REMOTE_ADDR": address}
    page = client.get("/cuenta/ingresar", environ_base=env).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return client.post("/cuenta/ingresar", data={"email": email, "password": password,
                                                 "csrf_token": token}, environ_base=env)


def _fail_ten_times(client: FlaskClient, email: str) -> None:
    for i in range(10):
        resp = _login_from(client, f"10.0.{i}.1", email, "equivocada-123")
        assert resp.status_code == 400


def test_ten_failures_from_ten_addresses_lock_the_account_even_for_the_right_password(
        client, factory):
    user = factory.user(email="objetivo@example.cl")
    _fail_ten_times(client, user.email)
    resp = _login_from(client, "10.9.9.9", user.email, factory.password)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 429
    assert LOCKED in body
    assert re.search(r"espere 1[45] minutos", body)
    assert 'value="objetivo@example.cl"' in body


def test_the_lock_answers_the_same_for_an_email_without_an_account(client, factory):
    user = factory.user(email="existe@example.cl")
    _fail_ten_times(client, user.email)
    _fail_ten_times(client, "no-existe@example.cl")
    known = _login_from(client, "10.8.0.1", user.email, "otra-123456")
    unknown = _login_from(client, "10.8.0.2", "no-existe@example.cl", "otra-123456")
    assert known.status_code == unknown.status_code == 429
    strip = lambda r: r.get_data(as_text=True).replace("no-existe@example.cl", "X").replace(  # noqa: E731
        "existe@example.cl", "X")
    assert re.sub(r'value="[^"]{40,}"', "", strip(known)) == re.sub(r'value="[^"]{40,}"', "", strip(unknown))


def test_the_lock_is_per_account_not_per_person_at_the_address(client, factory):
    target = factory.user(email="a@example.cl")
    other = factory.user(email="b@example.cl")
    _fail_ten_times(client, target.email)
    assert _login_from(client, "10.0.0.1", other.email, factory.password).status_code == 302


def test_the_email_is_counted_whatever_its_case(client, factory):
    user = factory.user(email="mayus@example.cl")
    for i in range(10):
        _login_from(client, f"10.1.{i}.1", "MAYUS@Example.CL" if i % 2 else user.email, "mal-123456")
    assert _login_from(client, "10.1.99.1", user.email, factory.password).status_code == 429


def test_a_successful_login_clears_earlier_failures(client, factory, app):
    user = factory.user(email="despistada@example.cl")
    for i in range(9):
        _login_from(client, f"10.2.{i}.1", user.email, "mal-123456")
    assert _login_from(client, "10.2.50.1", user.email, factory.password).status_code == 302
    client.post("/cuenta/salir", data={"csrf_token": get_csrf(client, "/cuenta/")},
                environ_base={"REMOTE_ADDR": "10.2.50.1"})
    for i in range(9):
        _login_from(client, f"10.3.{i}.1", user.email, "mal-123456")
    assert _login_from(client, "10.3.50.1", user.email, factory.password).status_code == 302


def test_a_password_reset_unlocks_the_account(client, factory):
    user = factory.user(email="bloqueada@example.cl")
    _fail_ten_times(client, user.email)
    client.post("/cuenta/olvide-mi-contrasena", environ_base={"REMOTE_ADDR": "10.4.0.1"}, data={
        "email": user.email, "csrf_token": get_csrf(client, "/cuenta/olvide-mi-contrasena")})
    msg = db.session.query(OutboxMessage).filter_by(kind="password_reset").one()
    link = re.search(r"http://localhost(/cuenta/contrasena/\S+)", msg.body_text).group(1)
    new = "una-clave-nueva-larga"
    client.post(link, data={"password": new, "confirm": new, "csrf_token": get_csrf(client, link)})
    assert _login_from(client, "10.4.0.2", user.email, new).status_code == 302


def test_the_counter_lives_in_the_rate_limiters_store(app):
    assert account_throttle().storage is limiter.storage


def test_the_store_never_holds_the_email(app):
    storage = MemoryStorage()
    throttle = AccountThrottle(storage, "10 per 15 minutes", "secreto")
    throttle.attempt("privada@example.cl")
    assert storage.events and not any("privada" in key for key in storage.events)


# --- the same counter shared through Redis ----------------------------------------------------


@pytest.fixture
def redis_throttles() -> Iterator[tuple[AccountThrottle, AccountThrottle]]:
    """Two throttles as two processes would have them: separate connections, one Redis."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        msg = f"Redis no responde en {REDIS_URL}: {exc}"
        if IN_CI:
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    secret = secrets.token_hex(8)  # keys of this test only
    pair = (AccountThrottle(storage_from_string(REDIS_URL), "10 per 15 minutes", secret),
            AccountThrottle(storage_from_string(REDIS_URL), "10 per 15 minutes", secret))
    yield pair
    for email in ("compartida@example.cl", "http@example.cl"):
        pair[0].clear(email)
    client.close()


def test_two_processes_sharing_redis_share_one_count(redis_throttles):
    web_1, web_2 = redis_throttles
    for _ in range(5):
        assert web_1.attempt("compartida@example.cl")
        assert web_2.attempt("compartida@example.cl")
    assert not web_1.attempt("compartida@example.cl")
    assert not web_2.attempt("compartida@example.cl")
    assert 1 <= web_2.minutes_left("compartida@example.cl") <= 15
    web_2.clear("compartida@example.cl")
    assert web_1.attempt("compartida@example.cl")


def test_logins_through_redis_lock_the_account_across_addresses(
        app, client, factory, redis_throttles, monkeypatch):
    monkeypatch.setitem(app.extensions, "account_throttle", redis_throttles[0])
    user = factory.user(email="http@example.cl")
    _fail_ten_times(client, user.email)
    assert _login_from(client, "10.7.0.1", user.email, factory.password).status_code == 429
    # another process, same Redis: locked there too
    monkeypatch.setitem(app.extensions, "account_throttle", redis_throttles[1])
    assert _login_from(client, "10.7.0.2", user.email, factory.password).status_code == 429


def _race(throttles: list[AccountThrottle], email: str, n: int = 40) -> int:
    """``n`` attempts at once, spread over ``throttles``; how many were let through."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    barrier = Barrier(n)

    def one(i: int) -> bool:
        barrier.wait()
        return throttles[i % len(throttles)].attempt(email)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return sum(pool.map(one, range(n)))


def test_parallel_attempts_never_get_past_the_limit_in_memory(app):
    throttle = AccountThrottle(MemoryStorage(), "10 per 15 minutes", "secreto")
    assert _race([throttle], "paralela@example.cl") == 10


def test_parallel_attempts_from_two_processes_never_get_past_the_limit_in_redis(redis_throttles):
    assert _race(list(redis_throttles), "compartida@example.cl") == 10
