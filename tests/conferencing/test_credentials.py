"""Secrets at rest (app/secrets.py) and an office's video credentials: encrypted in the
database, shown back masked, refused with a clear Spanish message when wrong, and used by the
worker instead of the platform's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from app.conferencing import credentials
from app.conferencing.models import OfficeConferenceSettings
from app.conferencing.tasks import sync_room_task
from app.config import ConfigError, load_config
from app.extensions import db
from app.secrets import SecretError, decrypt_text, encrypt_text, mask
from tests.conferencing.conftest import ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, FakeZoom
from tests.conferencing.test_google_meet import SERVICE_ACCOUNT
from tests.conftest import csrf_from

SECRET = "Zx8-very-secret-client-value-9Qk"


def page_url(office: Any) -> str:
    return f"/gestion/oficinas/{office.id}/videoconferencia"


def raw_row(office: Any) -> dict[str, Any]:
    row = db.session.execute(text("SELECT zoom_credentials, google_credentials, default_provider "
                                  "FROM office_conference_settings WHERE office_id = :o"), {"o": office.id}).one()
    return dict(row._mapping)


def post_zoom(client: Any, office: Any, **fields: str) -> Any:
    token = csrf_from(client.get(page_url(office)).get_data(as_text=True))
    data = {"zoom-csrf_token": token, **{f"zoom-{k}": v for k, v in fields.items()}}
    return client.post(page_url(office) + "/zoom", data=data)


def post_google(client: Any, office: Any, **fields: str) -> Any:
    token = csrf_from(client.get(page_url(office)).get_data(as_text=True))
    data = {"google-csrf_token": token, **{f"google-{k}": v for k, v in fields.items()}}
    return client.post(page_url(office) + "/google", data=data)


ZOOM_FIELDS = {"account_id": "AccountIdValue1234", "client_id": "ClientIdValue5678", "client_secret": SECRET}


# --- app/secrets.py ------------------------------------------------------------------------------


def test_encrypted_text_is_opaque_and_comes_back(app: Any) -> None:
    token = encrypt_text("sk-valor-secreto")
    assert "sk-valor-secreto" not in token and token.isascii()
    assert token != encrypt_text("sk-valor-secreto")  # a fresh IV every time
    assert decrypt_text(token) == "sk-valor-secreto"


def test_mask_shows_only_the_last_four_of_long_values() -> None:
    assert mask("abcdefghijkl") == "••••ijkl"
    assert mask("short") == "••••"  # too short to give any of it away
    assert mask("") == "" and mask(None) == ""


def test_a_key_from_credentials_key_with_rotation(app: Any, settings: Any) -> None:
    derived = encrypt_text("antes")  # under the key derived from SECRET_KEY
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings(CREDENTIALS_KEY=old)
    under_old = encrypt_text("con la clave")
    settings(CREDENTIALS_KEY=f"{new},{old}")
    assert decrypt_text(under_old) == "con la clave"
    assert decrypt_text(derived) == "antes"  # still readable after setting CREDENTIALS_KEY
    settings(CREDENTIALS_KEY=new)
    with pytest.raises(SecretError):
        decrypt_text(under_old)


def test_a_malformed_credentials_key_is_refused_at_startup() -> None:
    with pytest.raises(ConfigError, match="CREDENTIALS_KEY"):
        load_config({"CREDENTIALS_KEY": "no-es-una-clave"})


# --- the page --------------------------------------------------------------------------------------


def test_zoom_credentials_are_stored_encrypted_and_shown_masked(client: Any, logged_in: Any, world: Any) -> None:
    logged_in(office=world.host)
    resp = post_zoom(client, world.host, **ZOOM_FIELDS, sdk_key="SdkKeyValue0001", sdk_secret="SdkSecretValue0002")
    assert resp.status_code == 302
    raw = raw_row(world.host)
    for value in (SECRET, "AccountIdValue1234", "ClientIdValue5678", "SdkSecretValue0002"):
        assert value not in raw["zoom_credentials"]
    stored = json.loads(decrypt_text(raw["zoom_credentials"]))
    assert stored["client_secret"] == SECRET and stored["user_id"] == "me"
    body = client.get(page_url(world.host)).get_data(as_text=True)
    assert "••••" + SECRET[-4:] in body and "••••1234" in body
    for value in (SECRET, "AccountIdValue1234", "ClientIdValue5678", "SdkSecretValue0002"):
        assert value not in body


def test_a_blank_secret_keeps_the_stored_one(client: Any, logged_in: Any, world: Any) -> None:
    logged_in(office=world.host)
    post_zoom(client, world.host, **ZOOM_FIELDS)
    resp = post_zoom(client, world.host, account_id="", client_id="OtherClientId999", client_secret="")
    assert resp.status_code == 302
    stored = json.loads(decrypt_text(raw_row(world.host)["zoom_credentials"]))
    assert stored == {**ZOOM_FIELDS, "client_id": "OtherClientId999", "user_id": "me"}


@pytest.mark.parametrize(("fields", "message"), [
    ({"account_id": "", "client_id": "", "client_secret": ""}, "El Account ID es obligatorio"),
    ({**ZOOM_FIELDS, "client_secret": ""}, "El Client Secret es obligatorio"),
    ({**ZOOM_FIELDS, "account_id": "A" * 5000}, "es demasiado largo (máximo 200 caracteres)"),
    ({**ZOOM_FIELDS, "client_id": "<script>alert(1)</script>"}, "solo puede tener letras"),
    ({**ZOOM_FIELDS, "client_secret": "abc def\x07"}, "solo puede tener letras"),  # a NUL: app.inputguard
    ({**ZOOM_FIELDS, "sdk_key": "SdkKeyOnly123"}, "escriba ambos o ninguno"),
    ({**ZOOM_FIELDS, "user_id": "'; DROP TABLE users; --"}, "El usuario anfitrión debe ser"),
    ({**ZOOM_FIELDS, "user_id": "a@b"}, "debe ser una dirección de correo válida"),
])
def test_bad_zoom_input_gets_a_clear_message_and_400(client: Any, logged_in: Any, world: Any,
                                                     fields: dict[str, str], message: str) -> None:
    logged_in(office=world.host)
    resp = post_zoom(client, world.host, **fields)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert message in body
    assert "<script>alert(1)</script>" not in body  # what was typed comes back escaped
    assert SECRET not in body  # a secret typed is never written back
    assert db.session.scalar(db.select(OfficeConferenceSettings.zoom_credentials)) is None


def test_google_credentials_validated_and_stored(client: Any, logged_in: Any, world: Any) -> None:
    logged_in(office=world.host)
    resp = post_google(client, world.host, service_account_json="{no es json", calendar_id="", delegated_user="")
    assert resp.status_code == 400 and "contenido JSON del archivo de clave" in resp.get_data(as_text=True)
    resp = post_google(client, world.host, service_account_json=json.dumps({"type": "authorized_user"}))
    assert resp.status_code == 400 and "no es la clave de una cuenta de servicio" in resp.get_data(as_text=True)
    resp = post_google(client, world.host, service_account_json="x" * 30_000)
    assert resp.status_code == 400 and "demasiado largo" in resp.get_data(as_text=True)
    resp = post_google(client, world.host, service_account_json=json.dumps(SERVICE_ACCOUNT),
                       delegated_user="no-es-correo")
    assert resp.status_code == 400 and "dirección de correo válida" in resp.get_data(as_text=True)
    assert "BEGIN PRIVATE KEY" not in resp.get_data(as_text=True)
    resp = post_google(client, world.host, service_account_json=json.dumps(SERVICE_ACCOUNT),
                       calendar_id="talleres@omil.cl", delegated_user="agenda@omil.cl")
    assert resp.status_code == 302
    raw = raw_row(world.host)["google_credentials"]
    assert "PRIVATE KEY" not in raw and "meet@puente" not in raw
    body = client.get(page_url(world.host)).get_data(as_text=True)
    assert "PRIVATE KEY" not in body and "meet@puente.iam.gserviceaccount.com" not in body
    assert "••••.com" in body
    assert credentials.google_for(world.host.id).delegated_user == "agenda@omil.cl"


def test_clearing_and_the_default_provider(client: Any, logged_in: Any, world: Any) -> None:
    logged_in(office=world.host)
    token = csrf_from(client.get(page_url(world.host)).get_data(as_text=True))
    resp = client.post(page_url(world.host) + "/predeterminado",
                       data={"default-csrf_token": token, "default-default_provider": "zoom"})
    assert resp.status_code == 400 and "configure primero sus credenciales" in resp.get_data(as_text=True)
    post_zoom(client, world.host, **ZOOM_FIELDS)
    resp = client.post(page_url(world.host) + "/predeterminado",
                       data={"default-csrf_token": token, "default-default_provider": "zoom"})
    assert resp.status_code == 302 and raw_row(world.host)["default_provider"] == "zoom"
    resp = client.post(page_url(world.host) + "/borrar/zoom", data={"csrf_token": token})
    assert resp.status_code == 302
    assert raw_row(world.host) == {"zoom_credentials": None, "google_credentials": None, "default_provider": None}
    assert client.post(page_url(world.host) + "/borrar/teams", data={"csrf_token": token}).status_code == 404


def test_posting_without_the_csrf_token_is_refused(client: Any, logged_in: Any, world: Any) -> None:
    logged_in(office=world.host)
    resp = client.post(page_url(world.host) + "/zoom", data={f"zoom-{k}": v for k, v in ZOOM_FIELDS.items()})
    assert resp.status_code == 400
    assert db.session.scalar(db.select(OfficeConferenceSettings.id)) is None


def test_only_the_office_and_sence_manage_its_credentials(client: Any, logged_in: Any, world: Any,
                                                          factory: Any) -> None:
    assert client.get(page_url(world.host)).status_code == 302  # to the login page
    logged_in(office=world.convening)  # another office of the same network
    assert client.get(page_url(world.host)).status_code == 403
    assert post_zoom(client, world.convening, **ZOOM_FIELDS).status_code == 302  # its own: yes
    token = csrf_from(client.get(page_url(world.convening)).get_data(as_text=True))
    resp = client.post(page_url(world.host) + "/zoom",
                       data={"zoom-csrf_token": token, **{f"zoom-{k}": v for k, v in ZOOM_FIELDS.items()}})
    assert resp.status_code == 403
    assert client.get("/gestion/oficinas/999999/videoconferencia").status_code == 404


def test_the_office_detail_page_links_to_it(client: Any, logged_in: Any, world: Any) -> None:
    logged_in(office=world.host)
    body = client.get(f"/gestion/oficinas/{world.host.id}").get_data(as_text=True)
    assert page_url(world.host) in body


def test_the_offices_own_zoom_app_is_used_instead_of_the_platforms(world: Any, zoom_api: FakeZoom,
                                                                  settings: Any) -> None:
    from app.conferencing.zoom import clear_token_cache
    from tests.conferencing.test_room_lifecycle import the_room, zoom_workshop

    clear_token_cache()
    settings(ZOOM_ACCOUNT_ID="platform-account", ZOOM_CLIENT_ID="platform-client", ZOOM_CLIENT_SECRET="platform-x",
             ZOOM_API_BASE=zoom_api.url + "/v2", ZOOM_OAUTH_URL=zoom_api.url + "/oauth/token")
    credentials.save_zoom(world.host, credentials.ZoomInput(account_id=ACCOUNT_ID, client_id=CLIENT_ID,
                                                            client_secret=CLIENT_SECRET), actor=world.host_staff)
    assert credentials.zoom_for(world.host.id).source == "office"
    session = zoom_workshop(world).activity.sessions[0]
    assert sync_room_task.call_local(the_room(session).id) == "ready"  # the fake Zoom knows only the office's app
    assert zoom_api.oauth()[0].query["account_id"] == [ACCOUNT_ID]


def test_a_service_account_nested_too_deep_is_refused_not_a_crash() -> None:
    with pytest.raises(credentials.CredentialsError):
        credentials.check_service_account("[" * 19_999)


def test_rotating_re_encrypts_every_stored_secret_so_the_old_key_can_go(app: Any, settings: Any,
                                                                       world: Any) -> None:
    from app.dissemination.models import OfficeFacebookPage
    from app.secrets import rotate_all

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings(CREDENTIALS_KEY=old)
    credentials.save_zoom(world.host, credentials.ZoomInput(account_id=ACCOUNT_ID, client_id=CLIENT_ID,
                                                            client_secret=CLIENT_SECRET), actor=world.host_staff)
    db.session.add(OfficeFacebookPage(office_id=world.host.id, page_id="1", token_encrypted=encrypt_text("tok-123"),
                                      token_hint="…123"))
    db.session.commit()
    settings(CREDENTIALS_KEY=f"{new},{old}")
    result = app.test_cli_runner().invoke(args=["rotate-credentials"])
    assert result.exit_code == 0 and "2 valores" in result.output
    settings(CREDENTIALS_KEY=new)  # the old key is gone
    db.session.expire_all()
    assert credentials.office_zoom(world.host.id).client_secret == CLIENT_SECRET
    assert decrypt_text(db.session.query(OfficeFacebookPage).one().token_encrypted) == "tok-123"
    assert rotate_all() == 2  # again: harmless
