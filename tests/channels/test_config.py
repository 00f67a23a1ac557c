"""Choosing a transport from the settings, and the settings' defaults."""

from __future__ import annotations

import pytest

from app.channels import transport_for_channel
from app.channels.sms import SmsTransport
from app.channels.whatsapp import WhatsAppTransport
from app.config import ConfigError, load_config
from tests.channels.conftest import bare_app

CHANNEL_SETTINGS = ("WHATSAPP_TOKEN", "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_API_BASE", "WHATSAPP_API_VERSION",
                    "WHATSAPP_TEMPLATE_LANGUAGE", "WHATSAPP_RATE_PER_SECOND", "SMS_API_URL", "SMS_FROM",
                    "SMS_ACCOUNT_SID", "SMS_API_KEY", "SMS_MAX_SEGMENTS", "SMS_RATE_PER_SECOND",
                    "FACEBOOK_GRAPH_BASE", "FACEBOOK_API_VERSION", "CHANNELS_CONNECT_TIMEOUT",
                    "CHANNELS_READ_TIMEOUT")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in CHANNEL_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_configure_no_channel(clean_env: pytest.MonkeyPatch) -> None:
    cfg = load_config()
    assert cfg["WHATSAPP_TOKEN"] is None and cfg["SMS_API_URL"] is None
    assert cfg["WHATSAPP_API_BASE"] == "https://graph.facebook.com"
    assert cfg["WHATSAPP_API_VERSION"] == "v21.0"
    assert cfg["SMS_MAX_SEGMENTS"] == 3
    assert cfg["WHATSAPP_RATE_PER_SECOND"] == 20.0 and cfg["SMS_RATE_PER_SECOND"] == 5.0
    assert cfg["CHANNELS_CONNECT_TIMEOUT"] == 5.0 and cfg["CHANNELS_READ_TIMEOUT"] == 20.0
    app = bare_app(**cfg)
    with app.app_context():
        assert transport_for_channel("whatsapp") is None
        assert transport_for_channel("sms") is None


def test_settings_are_read_from_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SMS_RATE_PER_SECOND", "0.5")
    clean_env.setenv("SMS_MAX_SEGMENTS", "2")
    clean_env.setenv("WHATSAPP_API_BASE", "http://127.0.0.1:9/")
    cfg = load_config()
    assert cfg["SMS_RATE_PER_SECOND"] == 0.5 and cfg["SMS_MAX_SEGMENTS"] == 2
    assert cfg["WHATSAPP_API_BASE"] == "http://127.0.0.1:9"


def test_a_rate_that_is_not_a_number_is_a_clear_error(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("WHATSAPP_RATE_PER_SECOND", "veinte")
    with pytest.raises(ConfigError, match="WHATSAPP_RATE_PER_SECOND"):
        load_config()


def test_whatsapp_needs_both_token_and_phone_number_id() -> None:
    with bare_app(WHATSAPP_TOKEN="t").app_context():
        assert transport_for_channel("whatsapp") is None
    with bare_app(WHATSAPP_TOKEN="t", WHATSAPP_PHONE_NUMBER_ID="123",
                  WHATSAPP_API_BASE="http://127.0.0.1:9", WHATSAPP_API_VERSION="v20.0").app_context():
        transport = transport_for_channel("whatsapp")
        assert isinstance(transport, WhatsAppTransport)
        assert transport.url == "http://127.0.0.1:9/v20.0/123/messages"
        assert transport_for_channel("sms") is None
        assert transport_for_channel("email") is None


def test_sms_needs_its_api_url() -> None:
    with bare_app(SMS_API_URL="http://127.0.0.1:9/Messages.json", SMS_FROM="+15005550006",
                  SMS_MAX_SEGMENTS=2, CHANNELS_READ_TIMEOUT=7.0).app_context():
        transport = transport_for_channel("sms")
        assert isinstance(transport, SmsTransport)
        assert transport.max_segments == 2 and transport.timeouts == (5.0, 7.0)
        assert transport_for_channel("whatsapp") is None


def test_an_unusable_url_fails_when_the_transport_is_chosen() -> None:
    with bare_app(SMS_API_URL="ftp://sms.example/").app_context(), pytest.raises(ValueError, match="SMS_API_URL"):
        transport_for_channel("sms")
