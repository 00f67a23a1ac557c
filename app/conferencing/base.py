"""What every provider with an API returns and raises (Zoom, Google Meet).

A provider call says what happened by what it raises, as the outbox transports do:

- nothing: the provider did it;
- ``RetryableRoomError``: known not done (connection refused, 5xx, 429): retried with back-off;
- ``PermanentRoomError``: refused for good (bad credentials, bad request): staff must act;
- ``RoomGone``: the meeting no longer exists on the provider (deleted there by hand);
- ``UncertainRoomError`` or anything else: the call may or may not have gone through (a
  create that timed out): never retried automatically, staff decide.

Every message is Spanish and says what to do: staff read it on the session's page.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class RoomError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RetryableRoomError(RoomError):
    """Not done, known for sure; worth trying again later."""


class PermanentRoomError(RoomError):
    """Refused for good: retrying without a change (credentials, settings) is pointless."""


class UncertainRoomError(RoomError):
    """The request left but no answer came back: the provider may have done it."""


class RoomGone(RoomError):
    """The provider has no such meeting any more."""


@dataclass
class DialIn:
    """A phone number to join by: ``country`` (ISO code or name), ``number``, optional ``city``."""

    country: str
    number: str
    city: str = ""
    pin: str = ""

    def to_json(self) -> dict[str, str]:
        return {"country": self.country, "number": self.number, "city": self.city, "pin": self.pin}


@dataclass
class RoomDetails:
    """The provider's meeting as created or updated.

    ``join_url`` None with an ``external_id``: the provider is still preparing the room (Google
    creates the Meet conference asynchronously); the worker asks again shortly.
    """

    external_id: str
    join_url: str | None
    passcode: str | None = None
    phone_passcode: str | None = None
    dial_in: list[DialIn] = field(default_factory=list)
