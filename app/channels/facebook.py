"""Posting to an office's Facebook page through the Graph API page feed.

Not an outbox transport (it writes to a page, not to a person), but it fails the same way:
``ChannelTransientError`` (not posted, try later), ``ChannelPermanentError`` (refused: the
message says why, in Spanish) and ``ChannelUncertainError`` (may be posted; look at the page
before trying again). The page token travels in the request body or the Authorization
header, never in a URL; storing it (encrypted) is the caller's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from flask import current_app, has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.channels.errors import ChannelPermanentError, ChannelTransientError, ChannelUncertainError
from app.channels.graph import DEFAULT_GRAPH_BASE, DEFAULT_GRAPH_VERSION, problem_reader
from app.channels.http import Timeouts, call, check_base_url, outcome

SERVICE = "Facebook"
TOKEN_INVALID = _l("El token de la página no es válido o expiró: genere uno nuevo en Meta for "
                   "Developers y vuelva a guardarlo.")

REASONS = {
    190: TOKEN_INVALID,
    10: _l("el token no tiene permiso para publicar en la página (se necesitan "
           "pages_manage_posts y pages_read_engagement)"),
    200: _l("el token no tiene permiso para publicar en la página (se necesitan "
            "pages_manage_posts y pages_read_engagement)"),
    368: _l("Facebook bloqueó temporalmente las publicaciones de la página por sus normas "
            "comunitarias"),
    506: _l("Facebook rechazó la publicación por ser igual a una reciente: puede que ya esté "
            "publicada"),
}


@dataclass(frozen=True)
class PageInfo:
    id: str
    name: str


def _token_error(exc: ChannelPermanentError) -> ChannelPermanentError:
    """Code 190 (invalid or expired token) as its own clear message, without the prefix."""
    if exc.code == "190":
        return ChannelPermanentError(str(TOKEN_INVALID), status=exc.status, code=exc.code)
    return exc


class FacebookPageClient:
    def __init__(self, *, graph_base: str = DEFAULT_GRAPH_BASE, api_version: str = DEFAULT_GRAPH_VERSION,
                 connect_timeout: float = 5.0, read_timeout: float = 20.0,
                 session: requests.Session | None = None) -> None:
        self.base = f"{check_base_url(graph_base, 'FACEBOOK_GRAPH_BASE')}/{api_version.strip('/')}"
        self.timeouts: Timeouts = (connect_timeout, read_timeout)
        self.session = session

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FacebookPageClient:
        return cls(graph_base=config.get("FACEBOOK_GRAPH_BASE") or DEFAULT_GRAPH_BASE,
                   api_version=config.get("FACEBOOK_API_VERSION") or DEFAULT_GRAPH_VERSION,
                   connect_timeout=float(config.get("CHANNELS_CONNECT_TIMEOUT") or 5.0),
                   read_timeout=float(config.get("CHANNELS_READ_TIMEOUT") or 20.0))

    def post(self, page_id: str, page_token: str, message: str, link: str | None = None) -> str:
        """Publish on the page's feed; returns the post id (``{page_id}_{post_id}``)."""
        if not page_token:
            raise ChannelPermanentError(str(TOKEN_INVALID))
        if not message.strip() and not link:
            raise ChannelPermanentError(_("La publicación de Facebook está vacía."))
        fields = {"message": message}
        if link:
            fields["link"] = link
        fields["access_token"] = page_token
        response = call("POST", f"{self.base}/{quote(str(page_id), safe='')}/feed", service=SERVICE,
                        timeouts=self.timeouts, session=self.session, data=fields)
        try:
            data = outcome(response, service=SERVICE, read_problem=problem_reader(REASONS))
        except ChannelPermanentError as exc:
            raise _token_error(exc) from exc
        post_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(post_id, str) or not post_id:
            raise ChannelUncertainError(
                _("Facebook aceptó la publicación pero no indicó su identificador: revise la página "
                  "antes de publicar de nuevo."), status=response.status_code)
        return post_id

    def check_token(self, page_id: str, page_token: str) -> PageInfo:
        """The page the token speaks for, when it is ``page_id``; PermanentError otherwise.

        ``GET /me`` with a page token answers the page itself, so this proves the token is
        alive *and* belongs to that page (``GET /{page_id}`` would answer for any token,
        the page being public).
        """
        if not page_token:
            raise ChannelPermanentError(str(TOKEN_INVALID))
        try:
            response = call("GET", f"{self.base}/me", service=SERVICE, timeouts=self.timeouts,
                            session=self.session, params={"fields": "id,name"},
                            headers={"Authorization": f"Bearer {page_token}"})
            data = outcome(response, service=SERVICE, read_problem=problem_reader(REASONS))
        except ChannelPermanentError as exc:
            raise _token_error(exc) from exc
        except ChannelUncertainError as exc:
            # A read changes nothing: no answer only means "try again".
            raise ChannelTransientError(
                _("Facebook no respondió de forma legible; intente de nuevo en unos minutos."),
                status=exc.status) from exc
        found = str(data.get("id") or "") if isinstance(data, dict) else ""
        if not found:
            raise ChannelPermanentError(_("Facebook no identificó la página de este token."))
        if found != str(page_id):
            raise ChannelPermanentError(
                _("El token corresponde a otra página o a una cuenta personal, no a la página "
                  "%(page)s.", page=str(page_id)))
        return PageInfo(id=found, name=str(data.get("name") or ""))


def _client() -> FacebookPageClient:
    if has_app_context():
        return FacebookPageClient.from_config(current_app.config)
    return FacebookPageClient()


def post_to_page(page_id: str, page_token: str, message: str, link: str | None = None, *,
                 client: FacebookPageClient | None = None) -> str:
    """Publish ``message`` (and ``link``) on the page; returns the post id."""
    return (client or _client()).post(page_id, page_token, message, link)


def check_token(page_id: str, token: str, *, client: FacebookPageClient | None = None) -> PageInfo:
    """Check a page token before storing it; PermanentError with a Spanish reason if unusable."""
    return (client or _client()).check_token(page_id, token)
