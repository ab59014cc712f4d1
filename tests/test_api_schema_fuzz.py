"""The partner API fuzzed against its own schema (issue 12): schemathesis reads the live
`/api/schema/` from the app in-process and sends generated requests, valid and invalid,
to every operation in it, as a PPO manager's, a police force's and a treatment agency's
client, each with a real token.

It fails on any 5xx, and on any response the schema does not describe: a status code
not documented for the operation, a content type other than the documented one, a body
or a header that does not match the documented response. Every operation of the schema
is covered by itself: endpoints added later are fuzzed as soon as they are in it.

Bounded in time: a few examples per operation, mode and role (`MAX_EXAMPLES`), a
deadline per request, no shrinking and derandomized generation, so a failure repeats;
invalid input (negative mode) is sent as the manager only. Each operation's strategy is
driven by Hypothesis here rather than by `schemathesis.pytest.from_fixture`: that lazy
loader sets `request.node._nodeid`, which pytest 9.2 no longer has (schemathesis 4.32).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode, checks
from schemathesis.core.result import Ok
from schemathesis.specs.openapi import checks as openapi_checks
from werkzeug.test import Client as WerkzeugClient

from access.api_clients import ApiClientRateThrottle
from access.models import AgencyKind, Role, Scheme
from tests.api_clients import fresh_throttle_counts, make_api_client  # noqa: F401
from tests.factories import (
    AgencyFactory,
    ContactFactory,
    CustodyEpisodeFactory,
    DrugTestFactory,
    OffenceCategoryFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
)

MAX_EXAMPLES = 4
DEADLINE = dt.timedelta(seconds=5)
ROLES = [Role.PPO_MANAGER, Role.POLICE_OFFICER, Role.PARTNER_WORKER]
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
]


def _records() -> Any:
    """A few people with records of every kind, so that generated record numbers and
    filters sometimes find something: small ids are the ones a fuzzer tries first."""
    OffenceCategoryFactory()
    treatment = AgencyFactory(name="Treatment / CJIT agency", kind=AgencyKind.TREATMENT)
    for n in range(4):
        person = OffenderFactory()
        ProgrammeEpisodeFactory(offender=person)
        ReferralFactory(offender=person, agency=treatment)
        OffendingEventFactory(offender=person)
        ContactFactory(offender=person)
        DrugTestFactory(offender=person)
        CustodyEpisodeFactory(
            offender=person,
            started_on=dt.date(2024, 1, 1),
            released_on=dt.date(2024, 6, 1) if n % 2 else None,
        )
    return treatment


@pytest.fixture
def in_process_app() -> Iterator[WSGIHandler]:
    """The app as gunicorn runs it, called in this thread: it sees the test's database.
    As Django's test client does, the connection is not closed between requests, which
    would end the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _a_listed_id(operation: Any, headers: dict[str, str], app: WSGIHandler) -> int | None:
    """For `/things/{id}/`, the id of the first record `/things/` lists to this client:
    a generated number seldom names a record, so one pass is made with one that does.
    (Through the same in-process app: Django's test client would reconnect the
    connection-closing signals on its way out.)"""
    path = str(operation.path)
    if not path.endswith("/{id}/"):
        return None
    response = WerkzeugClient(app).get(path.removesuffix("{id}/"), headers=headers)
    body = response.get_json(silent=True) if response.status_code == 200 else None
    rows = body.get("results") if isinstance(body, dict) else None
    return rows[0]["id"] if rows else None


def _fuzz_operation(operation: Any, mode: Any, token: str, app: WSGIHandler) -> str | None:
    """Up to MAX_EXAMPLES generated requests to one operation in one mode; the first
    failure, described, or None."""
    headers = {"Authorization": f"Bearer {token}"}
    strategies = [operation.as_strategy(mode, headers=headers)]
    if mode is GenerationMode.POSITIVE:
        # The schema's own examples (an arrest, an arrival check) are sent too.
        strategies += operation.schema.get_strategies_from_examples(operation)
        listed = _a_listed_id(operation, headers, app)
        if listed is not None:
            strategies.append(
                operation.as_strategy(mode, headers=headers, path_parameters={"id": listed})
            )

    for strategy in strategies:

        @given(case=strategy)
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=DEADLINE,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        def send(case: Any) -> None:
            case.call_and_validate(app=app, headers=headers, checks=CHECKS)

        try:
            send()
        # Schemathesis reports what it found as an exception group (a BaseExceptionGroup,
        # not an Exception): caught here, so that the test goes on to the next operation
        # and one run reports every failing operation.
        except (Exception, BaseExceptionGroup) as error:
            return str(error)[:4000]
    return None


@pytest.mark.parametrize("role", ROLES, ids=[str(role) for role in ROLES])
def test_every_operation_answers_as_its_schema_says(
    role: str, db: None, in_process_app: WSGIHandler, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The per-client request rate and the arrival checks' per-minute limit are tested on
    # their own (test_api_foundation): here they would turn most answers into 429s.
    monkeypatch.setattr(ApiClientRateThrottle, "THROTTLE_RATES", {"api_client": "100000/minute"})
    scheme = Scheme.current()
    scheme.arrival_checks_per_minute = 10_000  # a smallint
    scheme.save()
    treatment = _records()
    _, token = make_api_client(role, treatment if role == Role.PARTNER_WORKER else None)
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", in_process_app, headers={"Authorization": f"Bearer {token}"}
    )
    failures = []
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            operations.append(result.ok())
        else:  # an operation the schema describes so badly it cannot be fuzzed
            failures.append(f"The schema of an operation is not valid: {result.err()}")
    assert len(operations) >= 12  # every endpoint of issue 12 so far, and any added since
    # Invalid input is refused before anyone's scope is consulted, so it is sent once,
    # as the manager; valid input as every role, whose scopes and field sets differ.
    modes = [GenerationMode.POSITIVE]
    if role == Role.PPO_MANAGER:
        modes.append(GenerationMode.NEGATIVE)
    for operation in operations:
        for mode in modes:
            failure = _fuzz_operation(operation, mode, token, in_process_app)
            if failure:
                failures.append(f"{operation.label} ({mode.value}):\n{failure}")
    assert not failures, f"{len(failures)} failing as {role}:\n\n" + "\n\n".join(failures)
