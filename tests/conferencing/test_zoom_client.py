"""Zoom's REST client against a local server that answers as Zoom does: Server-to-Server
OAuth (account credentials grant, HTTP Basic), the token reused until it expires, and each
failure classified as retryable or permanent with a Spanish reason."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from app.conferencing.base import PermanentRoomError, RetryableRoomError, RoomGone, UncertainRoomError
from app.conferencing.credentials import ZoomCredentials
from app.conferencing.zoom import ZoomClient, clear_token_cache
from tests.conferencing.conftest import ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, FakeZoom

BODY = {"topic": "Taller", "type": 2, "start_time": "2026-05-05T10:00:00", "duration": 60,
        "timezone": "America/Santiago", "settings": {"waiting_room": True}}


@pytest.fixture
def client_for(zoom_settings: FakeZoom) -> Any:
    def _make(secret: str = CLIENT_SECRET, timeout: float = 5) -> ZoomClient:
        creds = ZoomCredentials(account_id=ACCOUNT_ID, client_id=CLIENT_ID, client_secret=secret)
        return ZoomClient(creds, api_base=zoom_settings.url + "/v2", oauth_url=zoom_settings.url + "/oauth/token",
                          timeout=timeout)

    clear_token_cache()
    return _make


def test_the_token_comes_from_the_account_credentials_grant(client_for: Any, zoom_settings: FakeZoom) -> None:
    client_for().create_meeting("me", BODY)
    (token_call,) = zoom_settings.oauth()
    assert token_call.method == "POST"
    assert token_call.query == {"grant_type": ["account_credentials"], "account_id": [ACCOUNT_ID]}
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token_call.headers["authorization"] == f"Basic {expected}"
    (create,) = zoom_settings.api()
    assert create.headers["authorization"] == "Bearer tok-1"
    assert create.headers["content-type"] == "application/json"
    assert create.body == BODY


def test_the_token_is_reused_until_shortly_before_it_expires(client_for: Any, zoom_settings: FakeZoom) -> None:
    client = client_for()
    client.create_meeting("me", BODY)
    client_for().create_meeting("me", BODY)  # another client object, same app: same cache
    assert len(zoom_settings.oauth()) == 1
    assert [r.headers["authorization"] for r in zoom_settings.api()] == ["Bearer tok-1", "Bearer tok-1"]


def test_a_token_about_to_expire_is_replaced(client_for: Any, zoom_settings: FakeZoom) -> None:
    zoom_settings.expires_in = 60  # inside the one-minute margin: already too old to use
    client = client_for()
    client.create_meeting("me", BODY)
    client.create_meeting("me", BODY)
    assert len(zoom_settings.oauth()) == 2
    assert [r.headers["authorization"] for r in zoom_settings.api()] == ["Bearer tok-1", "Bearer tok-2"]


def test_tokens_are_cached_per_app(client_for: Any, zoom_settings: FakeZoom) -> None:
    client_for().create_meeting("me", BODY)
    with pytest.raises(PermanentRoomError):
        client_for(secret="another-app-secret").create_meeting("me", BODY)
    assert len(zoom_settings.oauth()) == 2


def test_a_revoked_token_is_renewed_once(client_for: Any, zoom_settings: FakeZoom) -> None:
    client = client_for()
    client.create_meeting("me", BODY)
    zoom_settings.tokens.clear()  # Zoom no longer accepts it
    client.create_meeting("me", BODY)
    assert len(zoom_settings.oauth()) == 2
    assert [r.headers["authorization"] for r in zoom_settings.api()] == ["Bearer tok-1", "Bearer tok-1",
                                                                         "Bearer tok-2"]


def test_bad_credentials_are_permanent_with_a_spanish_reason(client_for: Any) -> None:
    with pytest.raises(PermanentRoomError) as info:
        client_for(secret="nope").create_meeting("me", BODY)
    assert "Zoom rechazó las credenciales" in info.value.message
    assert "Invalid client_id or client_secret" in info.value.message
    assert "nope" not in info.value.message  # the secret never appears in a message


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_retryable(client_for: Any, zoom_settings: FakeZoom, status: int) -> None:
    zoom_settings.outage = status
    with pytest.raises(RetryableRoomError, match="Se reintentará"):
        client_for().create_meeting("me", BODY)


def test_the_oauth_server_down_is_retryable(client_for: Any, zoom_settings: FakeZoom) -> None:
    zoom_settings.token_status = 503
    with pytest.raises(RetryableRoomError, match="autenticación"):
        client_for().create_meeting("me", BODY)


@pytest.mark.parametrize("status", [400, 403])
def test_other_client_errors_are_permanent(client_for: Any, zoom_settings: FakeZoom, status: int) -> None:
    zoom_settings.outage = status
    with pytest.raises(PermanentRoomError, match="Zoom"):
        client_for().create_meeting("me", BODY)


def test_connection_refused_is_retryable() -> None:
    creds = ZoomCredentials(account_id=ACCOUNT_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    client = ZoomClient(creds, api_base="http://127.0.0.1:9/v2", oauth_url="http://127.0.0.1:9/oauth/token",
                        timeout=2)
    with pytest.raises(RetryableRoomError):
        client.create_meeting("me", BODY)


def test_no_answer_to_a_create_is_uncertain_but_to_an_update_is_retryable(client_for: Any,
                                                                          zoom_settings: FakeZoom) -> None:
    client = client_for(timeout=0.5)
    client.token()
    zoom_settings.delay = 1.0
    with pytest.raises(UncertainRoomError, match="puede que se haya creado"):
        client.create_meeting("me", BODY)
    zoom_settings.delay = 0


def test_update_and_delete(client_for: Any, zoom_settings: FakeZoom) -> None:
    client = client_for()
    meeting = client.create_meeting("me", BODY)
    meeting_id = str(meeting["id"])
    client.update_meeting(meeting_id, {**BODY, "duration": 90})
    assert zoom_settings.meetings[meeting_id]["duration"] == 90
    client.delete_meeting(meeting_id)
    client.delete_meeting(meeting_id)  # 404: already gone, fine
    assert [(r.method, r.path) for r in zoom_settings.api()] == [
        ("POST", "/v2/users/me/meetings"), ("PATCH", f"/v2/meetings/{meeting_id}"),
        ("DELETE", f"/v2/meetings/{meeting_id}"), ("DELETE", f"/v2/meetings/{meeting_id}")]
    with pytest.raises(RoomGone):
        client.update_meeting(meeting_id, BODY)


def test_the_host_user_goes_in_the_path(client_for: Any, zoom_settings: FakeZoom) -> None:
    client_for().create_meeting("facilitadora@omil.cl", BODY)
    assert zoom_settings.api()[0].path == "/v2/users/facilitadora@omil.cl/meetings"
