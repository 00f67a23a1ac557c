"""A property-based pass over the whole API, from its own OpenAPI document (schemathesis):
every operation, as an anonymous caller and with a staff token, must answer without a 5xx
and with a response that matches what the document says.

The CI run is short and repeatable: a fixed seed (``derandomize``) and ``FUZZ_EXAMPLES``
examples per operation (4 by default). ``make fuzz-api`` runs the same pass with many more.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings

from tests.registration.conftest import world

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
LONG_RUN = os.environ.get("FUZZ_COVERAGE") == "1"
SEEDED = LONG_RUN
CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.response_schema_conformance,
          schemathesis.checks.content_type_conformance]


def _document() -> dict[str, Any]:
    """The OpenAPI document, from an application made only to write it (no database is read)."""
    from app import create_app
    from tests.conftest import make_test_config

    folder = tempfile.mkdtemp(prefix="puente-fuzz-")
    try:
        writer = create_app(make_test_config("sqlite://", Path(folder)))
        with writer.app_context():
            return dict(writer.spec)  # type: ignore[attr-defined]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# CI: random generation only. The coverage phase (boundary values of every field, hundreds
# of cases per operation) runs in ``make fuzz-api`` (FUZZ_COVERAGE=1).
CONFIG = schemathesis.Config.from_dict({
    "seed": 20261203,
    "phases": {"coverage": {"enabled": LONG_RUN}},
    "generation": {"max-examples": EXAMPLES, "deterministic": True},
})
schema = schemathesis.openapi.from_dict(_document(), config=CONFIG)

__all__ = ["world"]  # fixture used here

FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


@pytest.fixture
def staff_token(request: pytest.FixtureRequest, factory: Any, token_for: Any) -> str:
    """A staff member of an office in a network, with a personal API token. In the long run
    (``make fuzz-api``) the host staff of a published workshop with a confirmed and a
    waitlisted registration, so lists and details have something to show (it costs about a
    second a test on PostgreSQL, too much for every CI run)."""
    if SEEDED:
        from app.registration import services
        from tests.registration.conftest import person_input

        world = request.getfixturevalue("world")
        session = world.workshop(publish=True, session={"capacity": 1}).activity.sessions[0]
        services.register(session.id, person_input(1))
        services.register(session.id, person_input(2))
        return str(token_for(world.host_staff))
    office = factory.office("13120")
    factory.network(("13",), offices=[office], coordinator=office)
    return str(token_for(factory.user(office=office)))


@schema.parametrize()
@FUZZ
def test_every_operation_answers_as_documented_to_anonymous_and_staff_callers(case: Any, app: Flask,
                                                                               staff_token: str) -> None:
    # One generated request, sent twice: without credentials, then as staff. (One test per
    # operation rather than two halves the per-test cost of emptying the tables.)
    case.call_and_validate(app=app, checks=CHECKS)
    case.call_and_validate(app=app, checks=CHECKS, headers={"Authorization": f"Bearer {staff_token}"})
