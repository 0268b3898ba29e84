"""Every service's OpenAPI fuzzed with schemathesis (issue 10): as each role, no 5xx and every answer as the
schema says; without valid credentials, or with a role that may not, 401/403 on every operation that needs them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from pydantic import SecretStr
from schemathesis import APIOperation, GenerationMode
from schemathesis import Case as GenericCase
from schemathesis.checks import load_all_checks
from schemathesis.core.result import Ok

from shared.auth import Role, issue_calendar_token, issue_token
from tests.integration import fuzz_stack
from tests.integration.registry_stack import MORTAGNE, SECRET

Case = GenericCase[APIOperation[Any, Any, Any, Any]]
FUZZ = settings(
    max_examples=10, derandomize=True, database=None, deadline=None, phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)  # fmt: skip

load_all_checks()
CONFORMANCE = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.negative_data_rejection,
    schemathesis.checks.missing_required_header,
]
"""Left out: ``positive_data_acceptance``, as the domain refuses schema-valid requests with 422 naming the field (an
unknown commune, a lieu outside the conseiller's territories: rules no schema states); ``ignored_auth``, as the
credentials are tested below, each way a token can be wrong; the stateful checks (``use_after_free``,
``ensure_resource_availability``), as there is no stateful run."""


@pytest.fixture(scope="module")
def stack(nats_url, template, tmp_path_factory) -> Iterator[fuzz_stack.FuzzStack]:
    running = fuzz_stack.start(nats_url, tmp_path_factory.mktemp("fuzz"), template, None)
    try:
        fuzz_stack.seed(running)
        yield running
    finally:
        fuzz_stack.stop()


def api_schema(stack: fuzz_stack.FuzzStack, service: str, *, seeded: bool) -> schemathesis.BaseSchema:
    """The service's OpenAPI as schemathesis reads it. ``seeded``: its requests now and then name the records
    seeded (not for invalid requests: a seeded value would make them valid)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", stack.apps[service])
    # The credentials are the test's; an unknown query parameter is ignored, as FastAPI does, not refused.
    schema.config.generation.update(with_security_parameters=False, allow_extra_parameters=False)
    if not seeded:
        return schema
    values = stack.seeded[service]

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        return fuzz_stack.sometimes_seeded(values, path_parameters)

    @schema.hook
    def flatmap_query(context, query):
        return fuzz_stack.sometimes_seeded(values, query)

    @schema.hook
    def map_query(context, query):
        # GET /solves/{id}?wait=…: with no solver, a request never finishes, and waiting for it only takes time.
        return query | {"wait": 0} if query and "wait" in query else query

    @schema.hook
    def flatmap_body(context, body):
        return fuzz_stack.sometimes_seeded(values, body)

    return schema


def fuzzed(
    schema: schemathesis.BaseSchema,
    call: Callable[[Case], None],
    mode: GenerationMode = GenerationMode.POSITIVE,
    examples: int = 10,
    only: Callable[[str], bool] = lambda label: True,
) -> list[str]:
    """The failures of each operation (``only`` those whose label it accepts), ``examples`` requests each: the first
    example that fails, with how to replay it."""
    failures = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # an operation schemathesis cannot read fails the test
        operation = result.ok()
        if not only(operation.label):
            continue

        @settings(FUZZ, max_examples=examples)
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Case) -> None:
            call(case)

        try:
            run()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label  # nothing to get wrong: no parameter, no body
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.label} [{mode}]: {_titles(exc)}\n{exc}")
    return failures


def _titles(exc: BaseException) -> str:
    found = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
    return " | ".join(
        f"{getattr(f, 'code', type(f).__name__)} {' '.join(str(getattr(f, 'message', f)).split())[:200]}" for f in found
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def role_token(role: Role, stack: fuzz_stack.FuzzStack) -> str:
    subject = stack.conseiller_id if role is Role.CONSEILLER else f"fuzz-{role}"
    return issue_token(SECRET, subject=subject, role=role, territories=(MORTAGNE,) if role is Role.COORDINATOR else ())


def conformance(stack: fuzz_stack.FuzzStack, service: str, token: str) -> Callable[[Case], None]:
    def call(case: Case) -> None:
        case.call_and_validate(headers=bearer(token), session=stack.clients[service], checks=CONFORMANCE)

    return call


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("service", fuzz_stack.SERVICES)
def test_every_answer_to_every_role_is_as_documented(stack, service, role):
    call = conformance(stack, service, role_token(role, stack))
    failures = fuzzed(api_schema(stack, service, seeded=True), call, examples=10 if role is Role.ADMIN else 5)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("service", fuzz_stack.SERVICES)
def test_every_invalid_request_is_refused_as_documented(stack, service):
    """As an admin: a request is validated before any role is looked at."""
    call = conformance(stack, service, role_token(Role.ADMIN, stack))
    failures = fuzzed(api_schema(stack, service, seeded=False), call, GenerationMode.NEGATIVE)
    assert not failures, "\n\n".join(failures)


PUBLIC = {
    "GET /healthz", "GET /readyz", "GET /metrics",
    "POST /auth/token",  # the login
    "POST /webhooks/twilio/inbound", "POST /webhooks/twilio/status",  # Twilio's signature instead (403 without)
}  # fmt: skip
OTHER_SECRET = SecretStr("another-deployment-secret-0123456789abcdef")
AN_HOUR_AGO = dt.datetime.now(dt.UTC) - dt.timedelta(hours=13)
WRONG_TOKENS = {
    "none": None,
    "garbage": "not-a-jwt",
    "expired": issue_token(SECRET, subject="x", role=Role.ADMIN, now=AN_HOUR_AGO),
    "other-secret": issue_token(OTHER_SECRET, subject="x", role=Role.ADMIN),
    "unknown-role": jwt.encode(
        {"iss": "tournees", "sub": "x", "role": "superadmin", "iat": dt.datetime.now(dt.UTC),
         "exp": dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)},
        SECRET.get_secret_value(), algorithm="HS256",
    ),
}  # fmt: skip


@pytest.mark.parametrize("service", fuzz_stack.SERVICES)
def test_only_the_probes_the_login_and_twilio_s_webhooks_take_no_bearer_token(stack, service):
    document = stack.apps[service].openapi()
    unsecured = {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if not operation.get("security")
    }
    assert unsecured <= PUBLIC, unsecured - PUBLIC


@pytest.mark.parametrize("wrong", [*WRONG_TOKENS, "calendar-link"])
@pytest.mark.parametrize("service", fuzz_stack.SERVICES)
def test_every_operation_refuses_a_missing_or_wrong_token(stack, service, wrong):
    """401 with ``WWW-Authenticate: Bearer``, whatever the request (the token is looked at first). A calendar link's
    token opens that conseiller's feed only."""
    if wrong == "calendar-link":
        token: str | None = issue_calendar_token(SECRET, uuid.UUID(stack.conseiller_id))[0]
        refused = lambda label: label not in PUBLIC and not label.endswith("/calendar.ics")  # noqa: E731
    else:
        token = WRONG_TOKENS[wrong]
        refused = lambda label: label not in PUBLIC  # noqa: E731

    def call(case: Case) -> None:
        headers = {} if token is None else bearer(token)
        response = case.call(headers=headers, session=stack.clients[service])
        assert response.status_code == 401, (response.status_code, response.text)
        assert response.headers["www-authenticate"] == ["Bearer"]
        case.validate_response(response, checks=CONFORMANCE, headers=headers)

    failures = fuzzed(api_schema(stack, service, seeded=True), call, examples=3, only=refused)
    assert not failures, "\n\n".join(failures)


NEVER = {
    Role.COORDINATOR: {"PUT /territories", "POST /accounts", "GET /accounts", "PATCH /accounts/{account_id}"},
    Role.CONSEILLER: {
        # registry: all but the communes, their own record and absences
        "POST /lieux/import", "GET /lieux/export", "PUT /territories", "GET /territories", "GET /territories/{code}",
        "POST /structures", "GET /structures", "GET /structures/{structure_id}", "PATCH /structures/{structure_id}",
        "DELETE /structures/{structure_id}", "POST /lieux", "GET /lieux", "POST /lieux/town-hall",
        "GET /lieux/{lieu_id}", "PATCH /lieux/{lieu_id}", "DELETE /lieux/{lieu_id}", "POST /conseillers",
        "GET /conseillers", "PATCH /conseillers/{conseiller_id}", "DELETE /conseillers/{conseiller_id}",
        "GET /demand", "PUT /demand/{commune}", "DELETE /demand/{commune}", "POST /accounts", "GET /accounts",
        "PATCH /accounts/{account_id}",
        # scheduling: all but their calendar and its link
        "POST /plans", "GET /plans", "POST /plans/solve", "POST /what-if/one-more-conseiller",
        "POST /plans/{plan_id}/replan", "GET /solves/{request_id}", "GET /solves",
        "PUT /plans/{plan_id}/permanences/{permanence_id}/pin", "DELETE /plans/{plan_id}/permanences/{permanence_id}/pin",
        "PUT /plans/{plan_id}/permanences/{permanence_id}", "GET /plans/{plan_id}/check", "GET /plans/{plan_id}/changes",
        "GET /plans/{plan_id}", "POST /plans/{plan_id}/publish", "GET /territories/{code}/map",
        "GET /territories/{code}/week",
        # notifications: the permanences and the send log
        "GET /permanences", "GET /bookings/{booking_id}/messages",
    },
}  # fmt: skip
"""What a role may never do, whatever the record (``Role.ADMIN`` does all). ``GET /conseillers`` and ``GET /lieux``
are the registry's and scheduling's both."""


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.CONSEILLER], ids=str)
@pytest.mark.parametrize("service", fuzz_stack.SERVICES)
def test_a_role_that_may_not_is_refused_whatever_the_record(stack, service, role):
    """403 to any valid request, whether the record it names exists or not: never a 404 that tells which exist.
    422 too, for a body the route itself finds invalid (a null where a change needs a value, a slot off its
    weekday): FastAPI validates the request before the route looks at who calls."""
    headers = bearer(role_token(role, stack))

    def call(case: Case) -> None:
        response = case.call(headers=headers, session=stack.clients[service])
        assert response.status_code in (403, 422), (response.status_code, response.text)
        case.validate_response(response, checks=CONFORMANCE, headers=headers)

    failures = fuzzed(api_schema(stack, service, seeded=True), call, examples=3, only=NEVER[role].__contains__)
    assert not failures, "\n\n".join(failures)
