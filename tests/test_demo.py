"""The demo seed: ``flask seed-demo`` on an empty database, and again on a loaded one."""

from __future__ import annotations

from typing import Any

import phonenumbers
import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.models import Role, User
from app.accounts.policy import current_year, is_coordinator
from app.demo import DEMO_PASSWORD, DemoNotLoadedError, seed_demo
from app.extensions import db
from app.territory.models import Network, Office, OfficeCategory, OfficeKind
from tests.conftest import login, table_counts


def _networks() -> list[Network]:
    return list(db.session.scalars(select(Network).order_by(Network.name)))


def _users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


def test_seed_creates_three_networks_in_two_regions(app: Flask) -> None:
    seed_demo()
    networks = _networks()
    assert len(networks) == 3
    assert {code for n in networks for code in n.region_codes} == {"13", "12"}
    magallanes = next(n for n in networks if n.region_codes == {"12"})
    assert {o.comuna.region_code for o in magallanes.offices} == {"12"}
    assert {o.timezone for o in magallanes.offices} == {"America/Punta_Arenas"}


def test_seed_creates_offices_of_every_category_with_contact_data(app: Flask) -> None:
    seed_demo()
    offices = list(db.session.scalars(select(Office)))
    assert 8 <= len(offices) <= 12
    assert {o.category for o in offices if o.kind == OfficeKind.OMIL} == set(OfficeCategory)
    assert any(o.kind == OfficeKind.PLATAFORMA and o.category is None for o in offices)
    assert any(o.name == "OMIL Ñuñoa" for o in offices)
    for office in offices:
        assert office.networks, office
        assert office.email and office.email.endswith(".example.cl")
        assert office.address and office.opening_hours
        for number in (office.phone, office.whatsapp):
            assert number and number.startswith("+56")
            assert phonenumbers.is_valid_number(phonenumbers.parse(number)), number


def test_each_network_has_an_avanzada_coordinator_this_year_and_history_last_year(
    app: Flask,
) -> None:
    seed_demo()
    year = current_year()
    for network in _networks():
        current = network.coordinating_office(year)
        previous = network.coordinating_office(year - 1)
        assert current is not None and previous is not None, network
        assert current.category == OfficeCategory.AVANZADA
        assert current != previous
        assert current in network.offices and previous in network.offices


def test_seed_creates_staff_in_every_role(app: Flask) -> None:
    seed_demo()
    users = _users()
    roles = {u.role for u in users}
    assert {Role.OFFICE_STAFF, Role.SENCE_REGIONAL, Role.SENCE_NATIONAL} <= roles
    assert {u.region_code for u in users if u.role == Role.SENCE_REGIONAL} == {"13", "12"}
    assert len([u for u in users if u.role == Role.SENCE_NATIONAL]) == 1
    staffed_offices = {u.office_id for u in users if u.role == Role.OFFICE_STAFF}
    assert len(staffed_offices) >= 5
    assert all(u.email.endswith("@demo.puentelaboral.cl") for u in users)


def test_every_network_has_a_coordinator_account_for_this_year(app: Flask) -> None:
    seed_demo()
    users = _users()
    for network in _networks():
        coordinators = [u for u in users if is_coordinator(u, network)]
        assert coordinators, network
        assert all(u.office == network.coordinating_office(current_year()) for u in coordinators)


def test_returned_credentials_log_in(app: Flask, client: Any) -> None:
    rows = seed_demo()
    assert len(rows) == len(_users())
    assert {password for _role, _email, password in rows} == {DEMO_PASSWORD}
    email = next(e for _r, e, _p in rows if e.startswith("coordinacion.oriente@"))
    resp = login(client, email, DEMO_PASSWORD)
    assert resp.status_code == 302


def test_second_seed_changes_nothing(app: Flask) -> None:
    seed_demo()
    before = table_counts()
    with pytest.raises(DemoNotLoadedError):
        seed_demo()
    assert table_counts() == before


def test_seed_does_nothing_on_a_database_that_has_an_office(app: Flask, factory: Any) -> None:
    factory.office("13101")
    before = table_counts()
    with pytest.raises(DemoNotLoadedError):
        seed_demo()
    assert table_counts() == before


def test_cli_prints_credentials_and_a_local_only_warning(app: Flask, runner: Any) -> None:
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "coordinacion.oriente@demo.puentelaboral.cl" in result.output
    assert "sence.nacional@demo.puentelaboral.cl" in result.output
    assert DEMO_PASSWORD in result.output
    assert "solo para pruebas locales" in result.output


def test_cli_second_run_says_not_loaded_and_exits_zero(app: Flask, runner: Any) -> None:
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    before = table_counts()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "no está vacía" in result.output
    assert DEMO_PASSWORD not in result.output
    assert table_counts() == before


def test_cli_refuses_in_production(
    app: Flask, runner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PRODUCTION", True)
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "production" in result.output
    assert not _networks()
