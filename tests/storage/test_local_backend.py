"""The local-folder backend on its own, in a temporary folder."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from app.config import ConfigError
from app.storage import (
    LocalBackend,
    ObjectMissing,
    S3Backend,
    UnsafeKey,
    backend_from_url,
    check_key,
    new_key,
)
from tests.storage.conftest import stored_objects


@pytest.fixture
def backend(tmp_path: Path) -> LocalBackend:
    return LocalBackend(tmp_path / "archivos")


def test_put_then_read_exists_and_delete(backend):
    backend.put("material/2026/03/abc", b"hola", content_type="text/plain")
    assert backend.exists("material/2026/03/abc")
    assert backend.read("material/2026/03/abc") == b"hola"
    backend.delete("material/2026/03/abc")
    assert not backend.exists("material/2026/03/abc")


def test_put_reads_a_stream_to_its_end(backend):
    data = os.urandom(300_000)
    backend.put("cv/2026/03/grande", io.BytesIO(data), content_type="application/pdf")
    with backend.open("cv/2026/03/grande") as stream:
        assert stream.read() == data


def test_put_leaves_no_temporary_file_behind(backend):
    backend.put("cv/2026/03/x", b"1", content_type="application/pdf")
    assert [p.name for p in stored_objects(backend.root)] == ["x"]


def test_a_failed_write_leaves_nothing(backend):
    class Broken(io.RawIOBase):
        def read(self, n: int = -1) -> bytes:
            raise OSError("disco lleno")

    with pytest.raises(OSError):
        backend.put("cv/2026/03/roto", Broken(), content_type="application/pdf")
    assert stored_objects(backend.root) == []


def test_open_of_a_missing_key_raises_object_missing(backend):
    with pytest.raises(ObjectMissing):
        backend.open("cv/2026/03/nada")


def test_deleting_a_missing_key_is_not_an_error(backend):
    backend.delete("cv/2026/03/nada")


def test_local_backend_has_no_direct_links(backend):
    assert backend.signed_url("cv/2026/03/x", filename="a.pdf", content_type="application/pdf",
                              expires=60) is None


@pytest.mark.parametrize("key", [
    "../fuera", "material/../../fuera", "/etc/passwd", "material//x", "material/./x",
    ".oculto", "material/.ssh", "material\\..\\fuera", "", "material/x/", "a/b\x00c",
    "matérial/x", "x" * 301,
])
def test_path_traversal_and_odd_keys_are_refused(backend, tmp_path, key):
    for call in (lambda: backend.put(key, b"x", content_type="text/plain"),
                 lambda: backend.open(key), lambda: backend.exists(key),
                 lambda: backend.delete(key)):
        with pytest.raises(UnsafeKey):
            call()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_symlink_inside_the_folder_cannot_lead_outside(backend, tmp_path):
    outside = tmp_path / "fuera"
    outside.mkdir()
    backend.root.mkdir(parents=True)
    (backend.root / "enlace").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeKey):
        backend.put("enlace/robado", b"x", content_type="text/plain")
    assert list(outside.iterdir()) == []


def test_generated_keys_have_purpose_year_month_and_random_part():
    key = new_key("cv")
    purpose, year, month, rest = key.split("/")
    assert purpose == "cv" and len(year) == 4 and len(month) == 2 and len(rest) == 32
    assert check_key(key) == key
    assert new_key("cv") != key


def test_file_url_gives_a_local_backend(tmp_path):
    backend = backend_from_url((tmp_path / "con espacio").as_uri())
    assert isinstance(backend, LocalBackend)
    assert backend.root == tmp_path / "con espacio"


def test_s3_url_gives_bucket_and_prefix():
    backend = backend_from_url("s3://mi-bucket/puente/prod", endpoint_url="http://minio:9000",
                               region="sa-east-1")
    assert isinstance(backend, S3Backend)
    assert (backend.bucket, backend.prefix, backend.endpoint_url, backend.region) == (
        "mi-bucket", "puente/prod", "http://minio:9000", "sa-east-1")


@pytest.mark.parametrize("url", ["ftp://x/y", "file://servidor/ruta", "s3:///sin-bucket",
                                 "/ruta/sin/esquema"])
def test_unusable_storage_urls_are_a_config_error(url):
    with pytest.raises(ConfigError):
        backend_from_url(url)
