"""The S3 backend against moto's server: real boto3 calls over HTTP on loopback."""

from __future__ import annotations

import calendar
import io
import os
import time
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

from app.extensions import db
from app.files_models import StoredFile
from app.storage import ObjectMissing, S3Backend, UnsafeKey, download_url, save_upload
from tests.storage import samples
from tests.storage.conftest import raw_s3


@pytest.fixture
def backend(s3_bucket, moto_endpoint) -> S3Backend:
    return S3Backend(s3_bucket, "subidas", endpoint_url=moto_endpoint, region="us-east-1")


def test_put_read_exists_delete_round_trip(backend, moto_endpoint, s3_bucket):
    backend.put("material/2026/03/abc", samples.PDF, content_type="application/pdf")
    assert backend.exists("material/2026/03/abc")
    assert backend.read("material/2026/03/abc") == samples.PDF
    head = raw_s3(moto_endpoint).head_object(Bucket=s3_bucket, Key="subidas/material/2026/03/abc")
    assert head["ContentType"] == "application/pdf"
    backend.delete("material/2026/03/abc")
    assert not backend.exists("material/2026/03/abc")


def test_objects_live_under_the_configured_prefix(backend, moto_endpoint, s3_bucket):
    backend.put("cv/2026/03/x", b"hola", content_type="application/pdf")
    listed = raw_s3(moto_endpoint).list_objects_v2(Bucket=s3_bucket)["Contents"]
    assert [o["Key"] for o in listed] == ["subidas/cv/2026/03/x"]


def test_open_of_a_missing_key_raises_object_missing(backend):
    with pytest.raises(ObjectMissing):
        backend.open("cv/2026/03/nada")
    assert backend.exists("cv/2026/03/nada") is False


def test_a_large_body_is_streamed_up_in_parts(backend, moto_endpoint, s3_bucket):
    data = os.urandom(9 * 1024 * 1024)  # above boto3's 8 MiB multipart threshold
    backend.put("recording/2026/03/larga", io.BytesIO(data), content_type="video/mp4")
    head = raw_s3(moto_endpoint).head_object(Bucket=s3_bucket, Key="subidas/recording/2026/03/larga")
    assert head["ContentLength"] == len(data)
    assert "-" in head["ETag"]  # a multipart upload's ETag ends in -<parts>
    assert backend.read("recording/2026/03/larga") == data


@pytest.mark.parametrize("key", ["../fuera", "/abs", "a//b", ".x", "a/../b"])
def test_odd_keys_are_refused_before_any_request(backend, key):
    with pytest.raises(UnsafeKey):
        backend.put(key, b"x", content_type="text/plain")


def test_presigned_url_downloads_the_bytes_as_an_attachment(backend):
    backend.put("cv/2026/03/cv", samples.PDF, content_type="application/pdf")
    url = backend.signed_url("cv/2026/03/cv", filename="Currículum Ñuñoa.pdf",
                             content_type="application/pdf", expires=60)
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback moto
        assert answer.read() == samples.PDF
        assert answer.headers["Content-Type"] == "application/pdf"
        disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Curr%C3%ADculum%20%C3%91u%C3%B1oa.pdf" in disposition


def test_presigned_url_is_short_lived(backend):
    """moto does not enforce presigned expiry, so check what S3 enforces: the signed lifetime."""
    backend.put("cv/2026/03/cv", samples.PDF, content_type="application/pdf")
    url = backend.signed_url("cv/2026/03/cv", filename="cv.pdf", content_type="application/pdf",
                             expires=1)
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["1"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    signed_at = calendar.timegm(time.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ"))
    assert abs(signed_at - time.time()) < 60
    assert "prueba-secreta" not in url  # the secret signs, it never travels


def test_save_upload_and_download_url_through_s3(app, s3_app):
    stored = save_upload(samples.PDF, filename="Certificado.pdf", purpose="certificate")
    db.session.commit()
    obj = raw_s3(s3_app["endpoint"]).get_object(Bucket=s3_app["bucket"],
                                                 Key=f"subidas/{stored.key}")
    assert obj["Body"].read() == samples.PDF
    url = download_url(stored)
    assert url.startswith(s3_app["endpoint"])
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["300"]
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback moto
        assert answer.read() == samples.PDF


def test_a_rolled_back_upload_leaves_no_object_in_the_bucket(app, s3_app):
    save_upload(samples.PDF, filename="cv.pdf", purpose="cv")
    db.session.rollback()
    listed = raw_s3(s3_app["endpoint"]).list_objects_v2(Bucket=s3_app["bucket"])
    assert listed.get("KeyCount", 0) == 0
    assert db.session.query(StoredFile).count() == 0


def test_the_download_view_can_also_stream_from_s3(app, client, s3_app):
    from app.storage import make_download_token

    stored = save_upload(samples.PDF, filename="Certificado Ñuble.pdf", purpose="certificate")
    db.session.commit()
    with app.test_request_context():
        token = make_download_token(stored.id)
    resp = client.get(f"/archivos/{token}")
    assert resp.status_code == 200
    assert resp.data == samples.PDF
    assert resp.headers["Content-Length"] == str(len(samples.PDF))
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert "filename*=UTF-8''Certificado%20%C3%91uble.pdf" in resp.headers["Content-Disposition"]
