"""The outbox viewer: who sees which messages, one message as its recipient sees it,
the isolated HTML body, and requeueing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.extensions import db
from app.outbox.models import OutboxStatus
from tests.conftest import csrf_from
from tests.outbox.conftest import make_message, reload

LIST = "/gestion/mensajes/"


def page(client, url=LIST, status=200):
    resp = client.get(url)
    assert resp.status_code == status, resp.get_data(as_text=True)[:1000]
    return resp.get_data(as_text=True)


@pytest.fixture
def offices(factory):
    """Two offices in the Metropolitana (13), one in Biobío (08)."""
    return {
        "santiago": factory.office("13101", name="OMIL Santiago"),
        "nunoa": factory.office("13120", name="OMIL Ñuñoa"),
        "concepcion": factory.office("08101", name="OMIL Concepción"),
    }


@pytest.fixture
def messages(offices):
    """One message per office plus one with no office (a password reset)."""
    return {
        name: make_message(subject=f"Asunto {name}", office_id=office.id)
        for name, office in offices.items()
    } | {"none": make_message(subject="Asunto none", kind="password_reset")}


def subjects_listed(html, messages):
    return {name for name in messages if f"Asunto {name}<" in html}


# --- who sees what -------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login(client):
    resp = client.get(LIST)
    assert resp.status_code == 302
    assert "/cuenta/ingresar" in resp.headers["Location"]


def test_national_admin_sees_every_message(client, logged_in, messages):
    logged_in(role="sence_national")
    assert subjects_listed(page(client), messages) == {"santiago", "nunoa", "concepcion", "none"}


def test_regional_staff_see_messages_of_offices_in_their_region(client, logged_in, factory,
                                                               messages):
    logged_in(role="sence_regional", sence_unit=factory.sence_unit("13"))
    assert subjects_listed(page(client), messages) == {"santiago", "nunoa"}


def test_office_staff_see_only_their_office_messages(client, logged_in, offices, messages):
    logged_in(role="office_staff", office=offices["nunoa"])
    assert subjects_listed(page(client), messages) == {"nunoa"}


def test_scoped_query_agrees_with_can_for_every_role(app, factory, offices, messages):
    from app.accounts.policy import can, visible_outbox_messages

    users = [factory.user("sence_national"),
             factory.user("sence_regional", sence_unit=factory.sence_unit("08")),
             factory.user("office_staff", office=offices["santiago"])]
    for user in users:
        listed = set(db.session.scalars(visible_outbox_messages(user)))
        allowed = {m for m in map(reload, messages.values()) if can(user, "outbox.read", m)}
        assert listed == allowed, user.role


def test_list_is_newest_first(client, logged_in, offices):
    office = offices["santiago"]
    old = make_message(subject="Asunto viejo", office_id=office.id)
    old.created_at = datetime.now(UTC) - timedelta(days=2)
    db.session.commit()
    make_message(subject="Asunto nuevo", office_id=office.id)
    logged_in(role="office_staff", office=office)
    html = page(client)
    assert html.index("Asunto nuevo") < html.index("Asunto viejo")


def test_list_shows_fifty_per_page(client, logged_in, offices):
    office = offices["santiago"]
    for n in range(51):
        make_message(subject=f"Número {n:02d}", office_id=office.id, commit=False)
    db.session.commit()
    logged_in(role="office_staff", office=office)
    first = page(client)
    assert first.count("Número ") == 50
    assert "Página 1 de 2" in first
    assert 'rel="next"' in first
    second = page(client, LIST + "?page=2")
    assert second.count("Número ") == 1
    assert 'rel="prev"' in second


# --- filters -------------------------------------------------------------------------------


def test_status_filter_narrows_the_list(client, logged_in, offices):
    office = offices["santiago"]
    make_message(subject="Asunto pendiente", office_id=office.id)
    failed = make_message(subject="Asunto fallido", office_id=office.id)
    failed.status = OutboxStatus.FAILED
    db.session.commit()
    logged_in(role="office_staff", office=office)
    html = page(client, LIST + "?status=failed")
    assert "Asunto fallido" in html
    assert "Asunto pendiente" not in html


def test_kind_filter_narrows_the_list(client, logged_in, messages):
    logged_in(role="sence_national")
    html = page(client, LIST + "?kind=password_reset")
    assert subjects_listed(html, messages) == {"none"}


def test_pagination_links_keep_the_filters(client, logged_in, offices):
    office = offices["santiago"]
    for n in range(51):
        make_message(subject=f"Número {n}", office_id=office.id, commit=False)
    db.session.commit()
    logged_in(role="office_staff", office=office)
    html = page(client, LIST + "?status=pending&kind=invitation")
    assert "page=2" in html
    assert "status=pending" in html.split('rel="next"')[0].rsplit("href=", 1)[1]


@pytest.mark.parametrize("query, message", [
    ("?status=enviadisimo", "Elija un estado de la lista."),
    ("?status=%3Cscript%3E", "Elija un estado de la lista."),
    ("?kind=no-existe", "Elija un tipo de mensaje de la lista."),
    ("?page=abc", "El número de página no es válido"),
    ("?page=0", "El número de página no es válido"),
    ("?page=99999999999999999999", "El número de página no es válido"),
])
def test_bad_filter_value_answers_400_in_spanish(client, logged_in, messages, query, message):
    logged_in(role="sence_national")
    html = page(client, LIST + query, status=400)
    assert message in html
    assert 'class="error-summary"' in html
    assert "<script>" not in html
    # The list still answers, without the bad filter.
    assert subjects_listed(html, messages) == {"santiago", "nunoa", "concepcion", "none"}


def test_page_past_the_end_is_empty_not_an_error(client, logged_in, messages):
    logged_in(role="sence_national")
    assert "No hay mensajes en esta página." in page(client, LIST + "?page=9")


# --- one message ---------------------------------------------------------------------------


def test_detail_shows_the_message_as_its_recipient_sees_it(client, logged_in, offices):
    office = offices["santiago"]
    msg = make_message(office_id=office.id, to="ana@example.cl", to_name="Ana Pérez",
                       subject="Su taller es mañana", body_text="Hola Ana,\n<b>no</b> es HTML.")
    logged_in(role="office_staff", office=office)
    html = page(client, f"{LIST}{msg.id}")
    assert "Ana Pérez &lt;ana@example.cl&gt;" in html
    assert "Su taller es mañana" in html
    assert "Puente Laboral &lt;no-responder@puentelaboral.cl&gt;" in html
    assert '<pre class="message">Hola Ana,\n&lt;b&gt;no&lt;/b&gt; es HTML.</pre>' in html
    assert f'src="/gestion/mensajes/{msg.id}/html"' in html
    assert "<iframe" in html and " sandbox " in html
    assert "Pendiente" in html


def test_detail_shows_delivery_facts(client, logged_in, offices):
    office = offices["santiago"]
    msg = make_message(office_id=office.id)
    msg.status = OutboxStatus.FAILED
    msg.attempts = 3
    msg.last_error = "destinatario rechazado (550 5.1.1 Buzón inexistente)"
    msg.transport = "smtp"
    db.session.commit()
    logged_in(role="office_staff", office=office)
    html = page(client, f"{LIST}{msg.id}")
    assert "Fallido" in html
    assert "550 5.1.1 Buzón inexistente" in html
    assert "Correo (SMTP)" in html
    assert "<dd>3</dd>" in html


def test_detail_date_is_in_the_office_time_zone(client, logged_in, factory):
    office = factory.office("12101", name="OMIL Punta Arenas")
    msg = make_message(office_id=office.id)
    msg.created_at = datetime(2025, 7, 15, 12, 0, tzinfo=UTC)  # winter: Santiago is UTC-4
    db.session.commit()
    logged_in(role="office_staff", office=office)
    html = page(client, f"{LIST}{msg.id}")
    assert "9:00:00" in html  # Punta Arenas keeps UTC-3 all year
    assert "8:00:00" not in html
    assert "America/Punta_Arenas" in html


def test_detail_of_unknown_message_is_404(client, logged_in):
    logged_in(role="sence_national")
    page(client, f"{LIST}999999", status=404)


def test_detail_of_another_office_message_is_403(client, logged_in, offices, messages):
    logged_in(role="office_staff", office=offices["santiago"])
    page(client, f"{LIST}{messages['nunoa'].id}", status=403)
    page(client, f"{LIST}{messages['none'].id}", status=403)


def test_regional_staff_cannot_open_another_region_message(client, logged_in, factory, messages):
    logged_in(role="sence_regional", sence_unit=factory.sence_unit("13"))
    page(client, f"{LIST}{messages['concepcion'].id}", status=403)


# --- the HTML body, isolated ---------------------------------------------------------------


def test_html_body_is_served_with_its_own_strict_policy(client, logged_in, offices):
    office = offices["santiago"]
    msg = make_message(office_id=office.id,
                       body_html='<p>Hola</p><script>alert(1)</script><img src="https://x.cl/p.gif">')
    logged_in(role="office_staff", office=office)
    resp = client.get(f"{LIST}{msg.id}/html")
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    assert resp.get_data(as_text=True).startswith("<p>Hola</p>")
    csp = resp.headers["Content-Security-Policy"]
    assert csp == ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                   "frame-ancestors 'self'")
    assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"


def test_other_pages_keep_the_global_policy(client, logged_in, offices):
    msg = make_message(office_id=offices["santiago"].id)
    logged_in(role="office_staff", office=offices["santiago"])
    resp = client.get(f"{LIST}{msg.id}")
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


def test_html_body_of_another_office_message_is_403(client, logged_in, offices, messages):
    logged_in(role="office_staff", office=offices["santiago"])
    page(client, f"{LIST}{messages['nunoa'].id}/html", status=403)


def test_text_only_message_has_no_html_body(client, logged_in, offices):
    msg = make_message(office_id=offices["santiago"].id, body_html=None)
    logged_in(role="office_staff", office=offices["santiago"])
    assert "<iframe" not in page(client, f"{LIST}{msg.id}")
    page(client, f"{LIST}{msg.id}/html", status=404)


# --- requeue -------------------------------------------------------------------------------


def failed_message(office, status=OutboxStatus.FAILED):
    msg = make_message(office_id=office.id)
    msg.status = status
    msg.attempts = 8
    msg.last_error = "destinatario rechazado (550)"
    db.session.commit()
    return msg


def post_requeue(client, msg_id):
    token = csrf_from(page(client, f"{LIST}{msg_id}"))
    return client.post(f"{LIST}{msg_id}/reintentar", data={"csrf_token": token})


@pytest.mark.parametrize("status", [OutboxStatus.FAILED, OutboxStatus.UNKNOWN])
def test_regional_staff_requeue_sends_the_message_again(client, logged_in, factory, offices,
                                                        status):
    msg = failed_message(offices["santiago"], status)
    logged_in(role="sence_regional", sence_unit=factory.sence_unit("13"))
    assert "Reintentar" in page(client, f"{LIST}{msg.id}")
    resp = post_requeue(client, msg.id)
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"{LIST}{msg.id}")
    msg = reload(msg)
    assert msg.status == OutboxStatus.SENT  # the kick delivered it (Huey runs immediately)
    assert msg.attempts == 1
    assert "quedó en cola" in page(client, f"{LIST}{msg.id}")


def test_requeue_is_audited(client, logged_in, factory, offices):
    msg = failed_message(offices["santiago"])
    user = logged_in(role="sence_regional", sence_unit=factory.sence_unit("13"))
    post_requeue(client, msg.id)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outbox.requeue"))
    assert event is not None
    assert event.user_id == user.id
    assert event.object_type == "OutboxMessage"
    assert event.object_id == str(msg.id)
    assert event.office_id == offices["santiago"].id
    assert event.region_code == "13"
    assert "@" not in event.summary  # no personal data in the summary


def test_office_staff_may_read_but_not_requeue(client, logged_in, offices):
    msg = failed_message(offices["santiago"])
    logged_in(role="office_staff", office=offices["santiago"])
    html = page(client, f"{LIST}{msg.id}")
    assert "Reintentar" not in html
    resp = client.post(f"{LIST}{msg.id}/reintentar", data={"csrf_token": csrf_from(html)})
    assert resp.status_code == 403
    assert reload(msg).status == OutboxStatus.FAILED


def test_regional_staff_cannot_requeue_another_region_message(client, logged_in, factory,
                                                              offices):
    msg = failed_message(offices["concepcion"])
    logged_in(role="sence_regional", sence_unit=factory.sence_unit("13"))
    token = csrf_from(page(client, "/gestion/"))
    assert client.post(f"{LIST}{msg.id}/reintentar", data={"csrf_token": token}).status_code == 403
    assert reload(msg).status == OutboxStatus.FAILED


def test_sent_message_has_no_requeue_button_and_a_late_click_changes_nothing(
        client, logged_in, offices):
    msg = make_message(office_id=offices["santiago"].id)
    msg.status = OutboxStatus.SENT
    db.session.commit()
    logged_in(role="sence_national")
    html = page(client, f"{LIST}{msg.id}")
    assert "Reintentar" not in html
    resp = client.post(f"{LIST}{msg.id}/reintentar", data={"csrf_token": csrf_from(html)})
    assert resp.status_code == 303
    assert reload(msg).status == OutboxStatus.SENT
    assert "no se reintentó" in page(client, f"{LIST}{msg.id}")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outbox.requeue")) is None


def test_requeue_without_csrf_token_is_refused(client, logged_in, offices):
    msg = failed_message(offices["santiago"])
    logged_in(role="sence_national")
    assert client.post(f"{LIST}{msg.id}/reintentar").status_code == 400
    assert reload(msg).status == OutboxStatus.FAILED


def test_requeue_of_unknown_message_is_404(client, logged_in):
    logged_in(role="sence_national")
    token = csrf_from(page(client, "/gestion/"))
    assert client.post(f"{LIST}999999/reintentar", data={"csrf_token": token}).status_code == 404
