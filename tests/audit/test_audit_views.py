"""The audit log reader at /gestion/auditoria/: scoping by role, labels, pagination."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.audit.models import AuditEvent
from app.audit.services import record
from app.extensions import db
from app.timeutil import utcnow


def _text(resp: Any) -> str:
    return resp.get_data(as_text=True)


def _event(summary: str, *, action: str = "office.update", obj: Any = None, **scope: Any) -> None:
    record(action, obj, summary, **scope)
    db.session.commit()


def _rows(body: str) -> int:
    return body.count('<th scope="row">')


def test_audit_log_requires_login(client):
    resp = client.get("/gestion/auditoria/")
    assert resp.status_code == 302
    assert "/cuenta/ingresar" in resp.headers["Location"]


def test_national_admin_reads_every_event_with_spanish_labels(client, factory, logged_in):
    office = factory.office("05101", name="OMIL Lejana")
    _event("evento-lejano", obj=office, office_id=office.id, region_code="05")
    _event("evento-sin-ambito", action="token.create")
    logged_in(role="sence_national")
    resp = client.get("/gestion/auditoria/")
    body = _text(resp)
    assert resp.status_code == 200
    assert "evento-lejano" in body and "evento-sin-ambito" in body
    assert "Editó una oficina" in body and "Creó un token de API" in body
    assert "Oficina OMIL Lejana" in body
    assert '<th scope="col">' in body


def test_regional_reads_events_of_their_region_offices_and_networks(client, factory, logged_in):
    here = factory.office("13101")
    there = factory.office("05101")
    shared = factory.network(("05", "13"))
    elsewhere = factory.network(("05",))
    _event("por-region", region_code="13")
    _event("por-oficina", office_id=here.id)
    _event("por-red", network_id=shared.id)
    _event("otra-region", region_code="05")
    _event("otra-oficina", office_id=there.id)
    _event("otra-red", network_id=elsewhere.id)
    logged_in(role="sence_regional")
    body = _text(client.get("/gestion/auditoria/"))
    for visible in ("por-region", "por-oficina", "por-red"):
        assert visible in body
    for hidden in ("otra-region", "otra-oficina", "otra-red"):
        assert hidden not in body


def test_coordinator_reads_events_of_their_networks_and_its_offices(client, factory, logged_in):
    mine = factory.office()
    member = factory.office()
    outsider = factory.office()
    net = factory.network(offices=[member], coordinator=mine)
    other_net = factory.network(offices=[outsider])
    _event("de-mi-red", network_id=net.id)
    _event("de-oficina-miembro", office_id=member.id)
    _event("de-otra-red", network_id=other_net.id)
    _event("de-oficina-ajena", office_id=outsider.id)
    _event("solo-region", region_code="13")
    logged_in(office=mine)
    resp = client.get("/gestion/auditoria/")
    body = _text(resp)
    assert resp.status_code == 200
    assert "de-mi-red" in body and "de-oficina-miembro" in body
    assert "de-otra-red" not in body and "de-oficina-ajena" not in body
    assert "solo-region" not in body


def test_last_years_coordinator_reads_nothing(client, factory, logged_in):
    from app.accounts.policy import current_year

    mine = factory.office()
    net = factory.network(coordinator=mine, year=current_year() - 1)
    _event("de-la-red", network_id=net.id)
    logged_in(office=mine)
    assert "de-la-red" not in _text(client.get("/gestion/auditoria/"))


def test_plain_office_staff_get_an_explanation_and_no_events(client, factory, logged_in):
    office = factory.office()
    factory.network(offices=[office])
    _event("de-su-propia-oficina", office_id=office.id, region_code="13")
    logged_in(office=office)
    resp = client.get("/gestion/auditoria/")
    body = _text(resp)
    assert resp.status_code == 200
    assert "no coordina ninguna red" in body
    assert "de-su-propia-oficina" not in body
    assert _rows(body) == 0


def test_employer_cannot_read_the_audit_log(client, logged_in):
    logged_in(role="employer")
    assert client.get("/gestion/auditoria/").status_code == 403


def test_log_is_newest_first_and_paginated_by_fifty(client, factory, logged_in):
    start = utcnow() - timedelta(days=1)
    for i in range(55):
        event = record("office.update", None, f"evento-{i:02d}")
        event.at = start + timedelta(minutes=i)
    db.session.commit()
    logged_in(role="sence_national")  # adds a login event, the newest of all
    first = _text(client.get("/gestion/auditoria/"))
    second = _text(client.get("/gestion/auditoria/?page=2"))
    assert _rows(first) == 50 and _rows(second) == 6
    assert first.index("evento-54") < first.index("evento-53")
    assert "evento-05" in second and "evento-05" not in first
    assert "Página 1 de 2" in first and 'rel="next"' in first


def test_nonsense_page_number_shows_the_first_page(client, factory, logged_in):
    _event("el-unico")
    logged_in(role="sence_national")
    for page in ("abc", "-3", "0", "99999999999999999999"):
        resp = client.get(f"/gestion/auditoria/?page={page}")
        assert resp.status_code == 200
        assert "el-unico" in _text(resp)


def test_page_past_the_end_is_empty_not_an_error(client, logged_in):
    logged_in(role="sence_national")
    resp = client.get("/gestion/auditoria/?page=7")
    assert resp.status_code == 200
    assert "No hay eventos en esta página." in _text(resp)


def test_each_event_shows_who_and_the_request_ip(client, factory, logged_in):
    user = logged_in(role="sence_national", name="Auditora Nacional")
    body = _text(client.get("/gestion/auditoria/"))
    assert "Auditora Nacional" in body
    assert "Ingreso al sistema" in body
    assert db.session.query(AuditEvent).filter_by(user_id=user.id).first().ip in body
