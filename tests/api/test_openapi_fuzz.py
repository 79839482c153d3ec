"""Every operation of the OpenAPI document, fuzzed by schemathesis against a live server.

Signed in as the administrator (session cookie and CSRF header) and as a widget visitor (bearer
token), and calling the public API (/api/v1) with an API token, so that generated requests get
past authentication. Generated input may be refused with
any 4xx, but the server must never fail (5xx) and every answer must match the schema it
documents. The examples are derandomised: a run repeats the previous one, so a failure here
reproduces.
"""

from __future__ import annotations

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.harness import LiveServer
from tests.widget import visit

EXAMPLES_PER_OPERATION = 15
# Ending the session would leave every later example unauthenticated.
SKIPPED = {("POST", "/api/auth/logout")}


def signed_in(server: LiveServer) -> requests.Session:
    admin = server.login("admin")
    visitor = visit(server)
    session = requests.Session()
    session.cookies.update(dict(admin.http.cookies))
    session.headers["X-CSRF-Token"] = admin.http.cookies["imp_csrf"]
    session.headers["Authorization"] = f"Bearer {visitor.token}"
    return session


def with_api_token(server: LiveServer) -> requests.Session:
    """The public API's caller: an integration's token with both scopes, no session."""
    made = server.login("admin").http.post(
        "/api/admin/api-tokens", json={"name": "Fuzz", "scopes": ["read", "write"]}
    )
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {made.json()['secret']}"
    return session


def test_no_operation_fails_or_breaks_its_schema(server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    session = signed_in(server)
    integration = with_api_token(server)
    operations = [result.ok() for result in schema.get_all_operations()]
    # The public API first: the run revokes API tokens by generated ids later, its own among them.
    operations.sort(key=lambda operation: not operation.path.startswith("/api/v1/"))
    assert len(operations) > 40
    failures: list[str] = []
    answered: set[str] = set()
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=cases)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: schemathesis.Case) -> None:
            caller = integration if case.operation.path.startswith("/api/v1/") else session
            response = case.call(base_url=server.base_url, session=caller, timeout=15)
            if response.status_code < 300:
                answered.add(case.operation.label)
            case.validate_response(response, checks=checks)

        try:
            exercise()
        except (Exception, BaseExceptionGroup) as failure:
            # A flaky failure's own message names only its kind: what failed is inside.
            inner = "".join(f"\n  {e!r}" for e in getattr(failure, "exceptions", ()))
            failures.append(f"{operation.method.upper()} {operation.path}:\n{failure}{inner}")
    assert not failures, "\n\n".join(failures)
    # Signed in, the generated requests got past authentication to real answers.
    assert len(answered) > len(operations) // 4, sorted(answered)
    # With a token, the public API's calls got past it to real answers.
    assert {label for label in answered if " /api/v1/" in label}, sorted(answered)
    # Still signed in: the run exercised the API as the administrator to the end.
    assert session.get(f"{server.base_url}/api/me").status_code == 200
