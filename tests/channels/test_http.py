"""The HTTP helpers every channel client shares: Retry-After, base URLs, TLS failures."""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from app.channels.errors import ChannelTransientError
from app.channels.http import call, check_base_url, parse_retry_after
from tests.channels.conftest import FakeProvider, Reply


@pytest.mark.parametrize(("header", "expected"), [
    (None, None), ("", None), ("5", 5.0), (" 2.5 ", 2.5), ("-3", 0.0), ("soon", None),
    ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0), ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
    ("99999999", 86400.0), ("nan", None),
])
def test_retry_after_accepts_seconds_and_http_dates(header: str | None, expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert parse_retry_after(header, now) == expected


def test_base_urls_must_be_http() -> None:
    assert check_base_url("https://graph.facebook.com/", "X") == "https://graph.facebook.com"
    for bad in ("", "graph.facebook.com", "file:///etc/passwd", "https://"):
        with pytest.raises(ValueError, match="X debe ser"):
            check_base_url(bad, "X")


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An HTTPS server with a self-signed certificate (which no client trusts)."""
    folder: Path = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"openssl no disponible: {exc}")
    provider = FakeProvider(Reply(200, {}))
    server: ThreadingHTTPServer = provider.server
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield provider.url.replace("http://", "https://")
    server.shutdown()
    server.server_close()


def test_a_certificate_that_fails_verification_is_transient(tls_server: str) -> None:
    with pytest.raises(ChannelTransientError, match="No se pudo conectar con Prueba"):
        call("POST", tls_server + "/x", service="Prueba", timeouts=(2.0, 2.0), data={"a": "1"})
