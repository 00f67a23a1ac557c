"""The dissemination pages: campaigns, tracked links, unsubscribing, contacts import, Facebook page."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from app.dissemination import services
from app.dissemination.models import Campaign, CampaignStatus, ChannelKind, ContactImport
from app.extensions import db
from app.outbox import delivery
from app.outbox.models import OutboxMessage, OutboxStatus
from app.people.models import Person
from app.registration.models import Registration
from tests.conftest import count, csrf_from, login
from tests.dissemination.campaign_fixtures import (
    activity_with_contacts,
    campaign_input,
    contact,
    make_rut,
    world,
)

__all__ = ["activity_with_contacts", "world"]


def log_in(client, user):
    assert login(client, user.email).status_code == 302


def form_data(activity, **kw):
    data = {"name": "Campaña de diciembre", "session_id": "", "scope": "office",
            "message_short": "{titulo}: {fecha} {hora}. {enlace}",
            "message_long": "Le invitamos a {titulo} el {fecha}. {enlace}", "channels": ["email", "sms", "poster"],
            "schedule": "now", "audience_attended": "any", "exclude_registered": "y"}
    data.update(kw)
    return data


def post_new(client, activity, **kw):
    page = client.get(f"/gestion/difusion/nueva?actividad={activity.id}")
    assert page.status_code == 200
    data = form_data(activity, **kw)
    data["csrf_token"] = csrf_from(page.get_data(as_text=True))
    return client.post(f"/gestion/difusion/nueva?actividad={activity.id}", data=data)


def test_staff_create_a_campaign_preview_it_and_start_it(client, world, activity_with_contacts):
    activity, _s = activity_with_contacts
    contact(world.host)
    log_in(client, world.host_staff)
    resp = post_new(client, activity)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    campaign = db.session.scalar(select(Campaign))
    page = client.get(resp.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for code in (c.code for c in campaign.channels):
        assert f"/c/{code}" in html
    assert "mensaje(s) SMS" in html and "Descargar afiche" in html
    frame = client.get(f"/gestion/difusion/{campaign.id}/correo.html")
    assert frame.status_code == 200 and "sandbox" in frame.headers["Content-Security-Policy"]
    assert "Inscribirme" in frame.get_data(as_text=True)
    listing = client.get("/gestion/difusion/")
    assert listing.status_code == 200 and "Campaña de diciembre" in listing.get_data(as_text=True)
    assert "Correo, SMS, Afiche (QR)" in listing.get_data(as_text=True)
    start = client.post(f"/gestion/difusion/{campaign.id}/accion",
                        data={"csrf_token": csrf_from(html), "action": "start"})
    assert start.status_code == 303
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status in (CampaignStatus.ACTIVE, CampaignStatus.DONE)
    # The worker runs inline in tests: the step was queued and delivered.
    assert count(OutboxMessage) >= 1


def test_bad_input_keeps_what_was_typed_and_answers_400_in_spanish(client, world, activity_with_contacts):
    activity, _s = activity_with_contacts
    log_in(client, world.host_staff)
    resp = post_new(client, activity, message_short="Hola {nombre} <script>alert(1)</script>", channels=[],
                    name="Mi campaña con ñ")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Elija al menos un canal" in html and "{nombre}" in html
    assert "Mi campaña con ñ" in html and "<script>alert(1)</script>" not in html
    assert count(Campaign) == 0


def test_an_expired_form_is_refused_without_writing(client, world, activity_with_contacts):
    activity, _s = activity_with_contacts
    log_in(client, world.host_staff)
    resp = client.post(f"/gestion/difusion/nueva?actividad={activity.id}", data=form_data(activity))
    assert resp.status_code == 400 and count(Campaign) == 0


def test_staff_of_another_office_cannot_see_or_manage_a_campaign(client, world, activity_with_contacts):
    activity, _s = activity_with_contacts
    campaign = services.create_campaign(campaign_input(activity), world.host_staff)
    log_in(client, world.other_staff)
    assert client.get(f"/gestion/difusion/{campaign.id}").status_code == 403
    assert client.get(f"/gestion/difusion/nueva?actividad={activity.id}").status_code == 403
    assert client.get("/gestion/difusion/999999").status_code == 404
    assert client.get("/gestion/difusion/nueva?actividad=abc").status_code == 404
    assert client.get("/gestion/difusion/nueva").status_code == 200


def test_poster_and_radio_downloads(client, world, activity_with_contacts):
    activity, _s = activity_with_contacts
    campaign = services.create_campaign(campaign_input(activity, channels=["poster", "radio"]), world.host_staff)
    log_in(client, world.host_staff)
    pdf = client.get(f"/gestion/difusion/{campaign.id}/afiche.pdf")
    png = client.get(f"/gestion/difusion/{campaign.id}/afiche.png")
    txt = client.get(f"/gestion/difusion/{campaign.id}/radio.txt")
    assert pdf.data.startswith(b"%PDF") and png.data.startswith(b"\x89PNG")
    code = campaign.channel(ChannelKind.RADIO).code
    assert txt.status_code == 200 and " ".join(code) in txt.get_data(as_text=True) or code in txt.get_data(
        as_text=True)
    assert client.get(f"/gestion/difusion/{campaign.id}/afiche.pdf").headers["Cache-Control"].startswith("private")
    other = services.create_campaign(campaign_input(activity, channels=["email"]), world.host_staff)
    assert client.get(f"/gestion/difusion/{other.id}/afiche.pdf").status_code == 404


def test_a_tracked_link_counts_the_click_and_credits_the_registration(client, world, activity_with_contacts):
    activity, session = activity_with_contacts
    campaign = services.create_campaign(campaign_input(activity, channels=["poster"]), world.host_staff)
    code = campaign.channel(ChannelKind.POSTER).code
    resp = client.get(f"/c/{code.lower()}")
    assert resp.status_code == 303 and f"/inscripcion/sesion/{session.id}?c={code}" in resp.headers["Location"]
    assert client.head(f"/c/{code}").status_code == 303  # a HEAD (link preview) is not a visit
    db.session.expire_all()
    assert campaign.channel(ChannelKind.POSTER).clicks == 1
    form = client.get(resp.headers["Location"])
    data = {"csrf_token": csrf_from(form.get_data(as_text=True)), "first_names": "Rosa", "last_names": "Paz",
            "document_type": "rut", "document_number": make_rut(4242), "email": "rosa@example.cl",
            "comuna_code": "13120", "preferred_channel": "email", "connectivity": "good", "consent_data": "y"}
    done = client.post(resp.headers["Location"], data=data)
    assert done.status_code == 200, done.get_data(as_text=True)[:1500]
    reg = db.session.scalar(select(Registration))
    assert reg.via == "poster" and reg.campaign_channel_id == campaign.channel(ChannelKind.POSTER).id


def test_unknown_or_malicious_codes_get_a_helpful_404(client):
    for code in ("NOPE2345", "<script>", "x" * 400):
        resp = client.get(f"/c/{code}")
        assert resp.status_code == 404 and "No encontramos ese enlace" in resp.get_data(as_text=True)
    assert client.get("/c/%00").status_code == 400  # a NUL anywhere in a path: the input guard


def test_unsubscribing_takes_one_click_and_a_link_scanner_changes_nothing(client, world, activity_with_contacts):
    activity, _s = activity_with_contacts
    person = contact(world.host)
    other = contact(world.host)
    campaign = services.create_campaign(campaign_input(activity, channels=["email"]), world.host_staff)
    services.start_campaign(campaign, world.host_staff)
    for step_id in services.due_steps():
        services.queue_step(step_id)
    token = services.unsubscribe_token(person.id)
    page = client.get(f"/b/{token}")
    assert page.status_code == 200 and "No quiero recibir más avisos" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Person, person.id).opt_in_future is True  # GET changed nothing
    one_click = client.post(f"/b/{token}", data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and one_click.data == b"OK"
    db.session.expire_all()
    gone = db.session.get(Person, person.id)
    assert gone.opt_in_future is False and gone.opted_out_at is not None
    msgs = {m.recipient: m.status for m in db.session.scalars(select(OutboxMessage))}
    assert msgs[person.email] == OutboxStatus.CANCELLED and msgs[other.email] == OutboxStatus.PENDING
    assert client.post(f"/b/{token}").status_code == 200  # twice is fine
    assert client.get(f"/b/{person.id}-AAAAAAAAAAAA").status_code == 404
    assert client.get(f"/b/{other.id + 1000}-{token.split('-')[1]}").status_code == 404
    assert client.get("/b/abc").status_code == 404
    assert client.get("/b/99999999999-AAAAAAAAAAAA").status_code == 404
    assert client.post("/b/" + "9" * 5000).status_code == 404


def test_an_email_carries_a_working_unsubscribe_link(client, world, activity_with_contacts):
    activity, _s = activity_with_contacts
    person = contact(world.host)
    campaign = services.create_campaign(campaign_input(activity, channels=["email"]), world.host_staff)
    services.start_campaign(campaign, world.host_staff)
    for step_id in services.due_steps():
        services.queue_step(step_id)
    delivery.deliver_due()
    msg = db.session.scalar(select(OutboxMessage))
    path = re.search(r"https?://[^/]+(/b/\S+)", msg.body_text).group(1)
    assert client.post(path).status_code == 200
    db.session.expire_all()
    assert db.session.get(Person, person.id).opted_out_at is not None


CSV_OK = ("Nombres;Apellidos;RUT;Correo;Celular;Comuna;Acepta avisos;Intereses\n"
          f"Ana;Pérez;{make_rut(8001)};ana@example.cl;;Ñuñoa;sí;comercio\n"
          f"Luis;Soto;{make_rut(8002)};;9 8765 4321;13120;2026-10-01;construcción\n"
          f"Sin;Consentimiento;{make_rut(8003)};sin@example.cl;;Ñuñoa;no;\n"
          f"Mal;Rut;12.345.678-0;mal@example.cl;;Ñuñoa;sí;\n"
          f"Ana;Repetida;{make_rut(8001)};ana2@example.cl;;Ñuñoa;sí;\n")


def upload(client, content: bytes, name: str = "contactos.csv"):
    page = client.get("/gestion/difusion/contactos")
    return client.post("/gestion/difusion/contactos", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data")


def test_contacts_are_previewed_then_imported_with_a_report(client, world):
    log_in(client, world.host_staff)
    preview = upload(client, CSV_OK.encode("utf-8-sig"))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "2 contactos nuevos" in html
    assert "sin consentimiento registrado" in html and "repetido en el archivo" in html
    assert count(Person) == 0  # nothing written by the preview
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="token" value="([^"]+)"', html)
    data = {"csrf_token": csrf_from(html), "token": token.group(1), "step": "import"}
    for name, index in (("first_names", 0), ("last_names", 1), ("document", 2), ("email", 3), ("phone", 4),
                        ("comuna", 5), ("consent", 6), ("interests", 7)):
        data[f"col_{name}"] = str(index)
    done = client.post("/gestion/difusion/contactos", data=data)
    assert done.status_code == 303
    people = {p.first_names: p for p in db.session.scalars(select(Person))}
    assert set(people) == {"Ana", "Luis"}
    assert people["Ana"].opt_in_future and people["Ana"].consent_source == "import"
    assert people["Ana"].office_id == world.host.id and people["Luis"].phone == "+56987654321"
    record = db.session.scalar(select(ContactImport))
    assert (record.created, record.excluded) == (2, 3)


def test_a_csv_without_a_consent_column_is_refused(client, world):
    log_in(client, world.host_staff)
    resp = upload(client, f"Nombres;RUT;Correo\nAna;{make_rut(9)};a@example.cl\n".encode())
    assert resp.status_code == 400 and "Falta la columna de consentimiento" in resp.get_data(as_text=True)


def test_a_csv_in_a_wrong_encoding_or_not_a_csv_gets_a_clear_message(client, world):
    log_in(client, world.host_staff)
    utf16_no_bom = "Nombres;RUT\nAna;1\n".encode("utf-16-le")
    resp = upload(client, utf16_no_bom)
    assert resp.status_code == 400 and "No pudimos leer el texto" in resp.get_data(as_text=True)
    xlsx = upload(client, b"PK\x03\x04" + b"\x00" * 100, "contactos.xlsx")
    assert xlsx.status_code == 400 and "Excel" in xlsx.get_data(as_text=True)
    empty = upload(client, b"")
    assert empty.status_code == 400
    big = upload(client, b"a;b\n" + b"x;y\n" * 600_000)
    assert big.status_code == 400 and "MB" in big.get_data(as_text=True)


def test_a_windows_1252_csv_from_excel_is_read(client, world):
    log_in(client, world.host_staff)
    resp = upload(client, CSV_OK.encode("cp1252"))
    assert resp.status_code == 200 and "2 contactos nuevos" in resp.get_data(as_text=True)


def test_a_tampered_import_token_is_refused(client, world):
    log_in(client, world.host_staff)
    page = client.get("/gestion/difusion/contactos")
    resp = client.post("/gestion/difusion/contactos", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                            "token": "forged", "step": "import"})
    assert resp.status_code == 400 and "venció o no es válida" in resp.get_data(as_text=True)


def test_the_facebook_page_form_refuses_bad_input_and_never_shows_the_token(client, world):
    log_in(client, world.host_staff)
    page = client.get("/gestion/difusion/facebook")
    csrf = csrf_from(page.get_data(as_text=True))
    bad = client.post("/gestion/difusion/facebook", data={"csrf_token": csrf, "page_id": "abc<script>",
                                                           "token": "has spaces in it"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "solo números" in html and "sin espacios" in html
    assert "has spaces in it" not in html


def test_the_report_page_shows_registrations_by_channel(client, world, activity_with_contacts):
    from app.registration import services as registration
    from tests.registration.conftest import person_input

    activity, session = activity_with_contacts
    campaign = services.create_campaign(campaign_input(activity, channels=["radio"]), world.host_staff)
    services.count_click(campaign.channel(ChannelKind.RADIO))
    services.count_click(campaign.channel(ChannelKind.RADIO))
    registration.register(session.id, person_input(61), campaign_code=campaign.channel(ChannelKind.RADIO).code)
    registration.register(session.id, person_input(62), source=registration.Source.STAFF, office=world.host,
                          staff_user=world.host_staff, via="phone")
    log_in(client, world.host_staff)
    page = client.get("/gestion/difusion/informe")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Radio" in html and "Teléfono" in html
    visits = html.split('id="visitas"')[1]
    assert "<td>2</td>" in visits  # two visits of the radio link this month
    assert client.get("/gestion/difusion/informe?oficina=999999").status_code == 400
    assert client.get("/gestion/difusion/informe?red=abc").status_code == 400
    by_network = client.get(f"/gestion/difusion/informe?red={world.network.id}").get_data(as_text=True)
    assert "Radio" in by_network and "Teléfono" in by_network
    other = client.get(f"/gestion/difusion/informe?red={world.other_network.id}")
    assert other.status_code == 400  # a network the user does not see


def test_a_send_now_draft_reopens_as_send_now_and_saves_unchanged(client, world, activity_with_contacts):
    activity, _s = activity_with_contacts
    campaign = services.create_campaign(campaign_input(activity), world.host_staff)
    log_in(client, world.host_staff)
    page = client.get(f"/gestion/difusion/{campaign.id}/editar").get_data(as_text=True)
    assert re.search(r'value="now"[^>]*checked|checked[^>]*value="now"', page)
    data = form_data(activity, name=campaign.name, channels=campaign.channel_kinds)
    data["csrf_token"] = csrf_from(page)
    assert client.post(f"/gestion/difusion/{campaign.id}/editar", data=data).status_code == 303


def test_a_refused_action_redirects_back_with_the_reason(client, world):
    from tests.dissemination.campaign_fixtures import local_in

    draft_activity = world.workshop(publish=False, start=local_in(10)).activity
    campaign = services.create_campaign(campaign_input(draft_activity), world.host_staff)
    log_in(client, world.host_staff)
    page = client.get(f"/gestion/difusion/{campaign.id}")
    resp = client.post(f"/gestion/difusion/{campaign.id}/accion",
                       data={"csrf_token": csrf_from(page.get_data(as_text=True)), "action": "start"})
    assert resp.status_code == 303
    assert "Publique la actividad" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_the_sms_length_check_uses_a_link_as_long_as_any_real_one(app, world, activity_with_contacts):
    from app.dissemination.messages import sample_unsubscribe_url, unsubscribe_url

    with app.test_request_context():
        assert len(sample_unsubscribe_url()) >= len(unsubscribe_url(2**31 - 1))


def test_pressing_import_twice_imports_once(client, world):
    log_in(client, world.host_staff)
    html = upload(client, CSV_OK.encode("utf-8")).get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="token" value="([^"]+)"', html)
    data = {"csrf_token": csrf_from(html), "token": token.group(1), "step": "import"}
    for name, index in (("first_names", 0), ("last_names", 1), ("document", 2), ("email", 3), ("phone", 4),
                        ("comuna", 5), ("consent", 6), ("interests", 7)):
        data[f"col_{name}"] = str(index)
    assert client.post("/gestion/difusion/contactos", data=data).status_code == 303
    again = client.post("/gestion/difusion/contactos", data=data)
    # The stored upload is deleted after the first import: the second press finds nothing to import.
    assert again.status_code in (400, 409) and count(Person) == 2 and count(ContactImport) == 1


def test_an_upload_imported_already_is_refused_with_nothing_written(app, world):
    from app.dissemination import contacts as contact_import

    parsed = contact_import.parse(CSV_OK.encode("utf-8"))
    mapping = {"first_names": 0, "last_names": 1, "document": 2, "email": 3, "phone": 4, "comuna": 5,
               "consent": 6, "interests": 7, "channel": None}
    contact_import.run_import(parsed, mapping, office_id=world.host.id, actor=world.host_staff,
                              filename="a.csv", source_key="contact-imports/2026/11/abc")
    with pytest.raises(contact_import.AlreadyImported):
        contact_import.run_import(parsed, mapping, office_id=world.host.id, actor=world.host_staff,
                                  filename="a.csv", source_key="contact-imports/2026/11/abc")
    assert count(Person) == 2 and count(ContactImport) == 1
