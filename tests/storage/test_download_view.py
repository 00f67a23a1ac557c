"""/archivos/<token>: signed, short-lived downloads from the local folder."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from itsdangerous import URLSafeTimedSerializer

from app import storage
from app.extensions import db
from app.storage import download_url, make_download_token, read_download_token, save_upload
from tests.storage import samples


@pytest.fixture
def cv(files_dir):
    stored = save_upload(samples.PDF, filename="Currículum Ñuñoa.pdf", purpose="cv")
    db.session.commit()
    return stored


def _url(app, stored, **kw) -> str:
    with app.test_request_context():
        return download_url(stored, **kw)


def test_a_valid_link_downloads_the_bytes_as_an_attachment(app, client, cv):
    url = _url(app, cv)
    assert url.startswith("/archivos/")
    resp = client.get(url)
    assert resp.status_code == 200
    assert resp.data == samples.PDF
    assert resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"] == (
        "attachment; filename=\"Curriculum Nunoa.pdf\"; "
        "filename*=UTF-8''Curr%C3%ADculum%20%C3%91u%C3%B1oa.pdf")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "private, no-store"


def test_an_ascii_name_also_gets_the_utf8_form(app, client, files_dir):
    stored = save_upload(samples.png(), filename="afiche.png", purpose="material")
    db.session.commit()
    resp = client.get(_url(app, stored))
    assert resp.headers["Content-Disposition"] == (
        "attachment; filename=\"afiche.png\"; filename*=UTF-8''afiche.png")
    assert resp.mimetype == "image/png"


def test_a_video_link_answers_range_requests(app, client, files_dir):
    stored = save_upload(samples.mp4(extra=1000), filename="grabación.mp4", purpose="recording")
    db.session.commit()
    resp = client.get(_url(app, stored), headers={"Range": "bytes=0-99"})
    assert resp.status_code == 206
    assert resp.data == samples.mp4(extra=1000)[:100]


def test_links_live_five_minutes_by_default(app, cv):
    token = _url(app, cv).rsplit("/", 1)[1]
    payload = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="file-download").loads(token)
    assert payload == [cv.id, 300]


def test_the_default_lifetime_follows_the_config(app, cv, monkeypatch):
    monkeypatch.setitem(app.config, "FILE_DOWNLOAD_MAX_AGE_SECONDS", 60)
    token = _url(app, cv).rsplit("/", 1)[1]
    assert URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="file-download").loads(
        token) == [cv.id, 60]


def test_a_tampered_link_is_forbidden_with_a_spanish_page(app, client, cv):
    url = _url(app, cv)
    resp = client.get(url[:-3] + ("aaa" if not url.endswith("aaa") else "bbb"))
    assert resp.status_code == 403
    body = resp.get_data(as_text=True)
    assert "El enlace de descarga no es válido" in body
    assert samples.PDF not in resp.data


def test_a_token_signed_for_something_else_is_forbidden(app, client, cv):
    other = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="password-reset").dumps(
        [cv.id, 300])
    assert client.get(f"/archivos/{other}").status_code == 403


def test_a_token_with_another_shape_is_forbidden(app, client, cv):
    odd = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="file-download").dumps(
        {"id": cv.id})
    assert client.get(f"/archivos/{odd}").status_code == 403


def test_an_expired_link_is_gone(app, client, cv, monkeypatch):
    with app.test_request_context():
        token = make_download_token(cv.id, expires=60)
    later = time.time() + 61
    monkeypatch.setattr(storage, "time", SimpleNamespace(time=lambda: later))
    resp = client.get(f"/archivos/{token}")
    assert resp.status_code == 410
    assert "El enlace de descarga venció" in resp.get_data(as_text=True)


def test_a_one_second_link_expires_in_real_time(app, client, cv):
    url = _url(app, cv, expires=1)
    time.sleep(2.1)
    assert client.get(url).status_code == 410


def test_a_link_to_a_deleted_file_is_gone(app, client, cv):
    url = _url(app, cv)
    storage.discard(cv)
    db.session.commit()
    resp = client.get(url)
    assert resp.status_code == 410
    assert "ya no está disponible" in resp.get_data(as_text=True)


def test_bytes_lost_from_the_folder_are_a_404_not_a_500(app, client, cv, files_dir):
    url = _url(app, cv)
    (files_dir / cv.key).unlink()
    assert client.get(url).status_code == 404


def test_the_token_carries_no_file_name_or_key(app, cv):
    token = _url(app, cv).rsplit("/", 1)[1]
    assert read_download_token(token) == cv.id
    assert cv.key.split("/")[-1] not in token and "Curr" not in token
