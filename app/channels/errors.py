"""What the channel clients raise: the outbox's three outcomes, carrying what the provider said.

Each is a subclass of the matching ``app.outbox.delivery`` error, so the worker treats them
exactly as it treats the SMTP transport's; the extra attributes are for whoever wants them
(``retry_after`` for a scheduler that honours the provider's requested delay).
"""

from __future__ import annotations

from app.outbox.delivery import PermanentError, TransientError, UncertainError


class ChannelTransientError(TransientError):
    """Not sent, for certain; worth trying again, after ``retry_after`` seconds if given."""

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status
        self.code = code


class ChannelPermanentError(PermanentError):
    """Refused for good; the message is a short reason a person can act on."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class ChannelUncertainError(UncertainError):
    """The request reached the provider but its answer did not reach us: it may have gone out."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
