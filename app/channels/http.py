"""One HTTP call to a provider, and what its outcome means for the outbox.

The rule is the outbox's: *transient* only when the provider certainly did not act on the
request (the connection was never made, or it answered "try later"), *uncertain* when the
request may have been acted on and we did not hear back (a read timeout, a connection cut
after sending, a gateway timeout, an accepted answer we cannot read), *permanent* when it
said no.

- connect refused / DNS failure / connect timeout -> transient
- read timeout, connection cut after the request went out -> uncertain
- 2xx -> the JSON body (uncertain if unreadable)
- 429 -> transient, with ``retry_after`` from the Retry-After header
- 504 -> uncertain (a gateway gave up waiting: the provider may have acted)
- other 5xx -> transient (``retry_after`` when the header is present)
- 4xx -> permanent with the provider's message, or transient when the provider's own error
  code says "rate limited / temporary" (Graph answers rate limits with 400)
- anything else (a redirect: the configured URL is wrong) -> permanent

Redirects are never followed: ``requests`` would turn a redirected POST into a GET.
"""

from __future__ import annotations

import math
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from flask_babel import gettext as _
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProxyError

from app.channels.errors import ChannelPermanentError, ChannelTransientError, ChannelUncertainError

Timeouts = tuple[float, float]  # (connect, read) seconds
MAX_DETAIL = 300
MAX_RETRY_AFTER = 24 * 3600.0


@dataclass(frozen=True)
class Problem:
    """What a provider's error answer says."""

    message: str
    code: str | None = None
    transient: bool = False  # the provider's code means "rate limited" or "temporary fault"


ProblemReader = Callable[[requests.Response], Problem | None]


def check_base_url(url: str, setting: str) -> str:
    """The URL without its trailing slash; ValueError (loud, at configuration time) if unusable."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{setting} debe ser una URL http:// o https:// (recibido: {url!r})")
    return url.rstrip("/")


def short(text: str, limit: int = MAX_DETAIL) -> str:
    """One line, at most ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP date); None if absent."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _before_sending(exc: requests.ConnectionError) -> bool:
    """True when the error happened while opening the connection, before any byte was sent."""
    if isinstance(exc, requests.exceptions.ProxyError):
        return True
    reason: Any = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    if isinstance(reason, NewConnectionError | ProxyError):  # refused, unreachable, DNS
        return True
    # A certificate that fails verification is only ever seen during the handshake.
    if isinstance(exc, requests.exceptions.SSLError):
        inner = getattr(reason, "args", ())
        return any(isinstance(arg, ssl.SSLCertVerificationError) for arg in inner)
    return False


def _reason(exc: BaseException) -> str:
    """The innermost readable cause ("[Errno 111] Connection refused")."""
    text = str(exc)
    return short(text.rsplit(": ", 1)[-1].rstrip(")'\""), 120) if text else type(exc).__name__


def call(method: str, url: str, *, service: str, timeouts: Timeouts,
         session: requests.Session | None = None, **kwargs: Any) -> requests.Response:
    """Make the request; connection-level failures become the outbox's errors."""
    own = session is None
    http = session if session is not None else requests.Session()
    try:
        return http.request(method, url, timeout=timeouts, allow_redirects=False, **kwargs)
    except requests.ConnectTimeout as exc:
        raise ChannelTransientError(
            _("No se pudo conectar con %(service)s: tiempo de conexión agotado.", service=service)) from exc
    except requests.ReadTimeout as exc:
        raise ChannelUncertainError(
            _("%(service)s recibió el envío pero no respondió a tiempo: puede haber salido; "
              "revise antes de reenviar.", service=service)) from exc
    except requests.ConnectionError as exc:
        if _before_sending(exc):
            raise ChannelTransientError(
                _("No se pudo conectar con %(service)s (%(reason)s).", service=service,
                  reason=_reason(exc))) from exc
        raise ChannelUncertainError(
            _("La conexión con %(service)s se cortó durante el envío: puede haber salido; "
              "revise antes de reenviar.", service=service)) from exc
    except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
            requests.exceptions.MissingSchema, requests.exceptions.InvalidHeader) as exc:
        # Nothing was sent: the URL or a header (a token with a line break) is unusable.
        raise ChannelPermanentError(
            _("La configuración de %(service)s no es válida (%(reason)s).", service=service,
              reason=_reason(exc))) from exc
    except requests.RequestException as exc:  # e.g. a body cut while reading the answer
        raise ChannelUncertainError(
            _("La respuesta de %(service)s llegó incompleta: puede haber salido; revise antes de "
              "reenviar.", service=service)) from exc
    finally:
        if own:
            http.close()


def _problem(response: requests.Response, read_problem: ProblemReader) -> Problem:
    try:
        problem = read_problem(response)
    except ValueError:
        problem = None
    if problem is None or not problem.message:
        reason = f" {response.reason}" if response.reason else ""
        return Problem(f"HTTP {response.status_code}{reason}",
                       problem.code if problem else None, problem.transient if problem else False)
    return Problem(short(problem.message), problem.code, problem.transient)


def outcome(response: requests.Response, *, service: str, read_problem: ProblemReader) -> Any:
    """The decoded JSON of an accepted request; otherwise raises the matching outbox error."""
    status = response.status_code
    if 200 <= status < 300:
        try:
            return response.json()
        except ValueError as exc:
            raise ChannelUncertainError(
                _("%(service)s respondió %(status)s pero su respuesta no se puede leer: puede "
                  "haber salido; revise antes de reenviar.", service=service, status=status),
                status=status) from exc
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 504:
        raise ChannelUncertainError(
            _("%(service)s no alcanzó a responder (HTTP 504): puede haber salido; revise antes "
              "de reenviar.", service=service), status=status)
    if status == 429 or status >= 500:
        problem = _problem(response, read_problem)
        if status == 429:
            text = _("%(service)s pide enviar más despacio (HTTP 429): %(detail)s",
                     service=service, detail=problem.message)
        else:
            text = _("%(service)s tiene una falla temporal (HTTP %(status)s): %(detail)s",
                     service=service, status=status, detail=problem.message)
        raise ChannelTransientError(text, retry_after=retry_after, status=status, code=problem.code)
    if 400 <= status < 500:
        problem = _problem(response, read_problem)
        if problem.transient:
            raise ChannelTransientError(
                _("%(service)s pide reintentar más tarde: %(detail)s", service=service,
                  detail=problem.message), retry_after=retry_after, status=status, code=problem.code)
        raise ChannelPermanentError(
            _("%(service)s rechazó el envío: %(detail)s", service=service, detail=problem.message),
            status=status, code=problem.code)
    raise ChannelPermanentError(
        _("%(service)s respondió HTTP %(status)s, que su API no usa: revise la URL configurada.",
          service=service, status=status), status=status)


def json_object(response: requests.Response) -> dict[str, Any] | None:
    """The body as a JSON object, or None (not JSON, or not an object)."""
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
