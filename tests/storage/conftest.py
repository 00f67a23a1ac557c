"""Storage fixtures: a local folder per test, and moto's S3 server over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import IN_CI


@pytest.fixture
def files_dir(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app's STORAGE_URL at an empty folder of this test's own."""
    root = tmp_path / "archivos"
    monkeypatch.setitem(app.config, "STORAGE_URL", root.as_uri())
    monkeypatch.setitem(app.config, "STORAGE_ENDPOINT_URL", None)
    return root


def stored_objects(root: Path) -> list[Path]:
    """Every file under ``root`` (temporary upload files included)."""
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server on a free loopback port. Missing moto fails in CI, skips elsewhere."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        msg = f"moto[server] no está instalado ({exc}); pip install -e '.[test]'"
        if IN_CI:
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials where boto3 looks for them; nothing from the developer's ~/.aws."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "prueba")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "prueba-secreta")
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL",
                 "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config-inexistente"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials-inexistente"))


@pytest.fixture
def s3_bucket(moto_endpoint: str, aws_env: None) -> str:
    """A fresh bucket on the moto server (created with real boto3 calls over HTTP)."""
    import boto3

    name = f"puente-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(
        Bucket=name)
    return name


@pytest.fixture
def s3_app(app: Flask, s3_bucket: str, moto_endpoint: str,
           monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The app configured for S3 (bucket ``s3_bucket``, prefix ``subidas``) on moto."""
    monkeypatch.setitem(app.config, "STORAGE_URL", f"s3://{s3_bucket}/subidas")
    monkeypatch.setitem(app.config, "STORAGE_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setitem(app.config, "STORAGE_REGION", "us-east-1")
    return {"bucket": s3_bucket, "endpoint": moto_endpoint}


def raw_s3(endpoint: str) -> Any:
    """A plain boto3 client to look at the bucket without going through our code."""
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
