"""Schemathesis over the OpenAPI schema of the API that `make up` runs (or the one at
`SIMPTU_FUZZ_API_URL`), with a real staff token of a test tenant: whatever it generates, no
answer is a 5xx and every answer matches the status codes, media types and schemas the API
documents."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from simptu.devstack.demo_tokens import demo_token
from simptu.devstack.envfile import StackEnv
from tests.integration.api.conftest import ApiTenant

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema(stack: StackEnv) -> schemathesis.BaseSchema:
    # SIMPTU_FUZZ_API_URL: an API of one's own checkout, when `make up` runs another one's.
    url = os.environ.get("SIMPTU_FUZZ_API_URL", stack["SIMPTU_API_URL"])
    return schemathesis.openapi.from_url(f"{url}/openapi.json")


@pytest.fixture(scope="module")
async def staff_headers(tenant_a: ApiTenant) -> dict[str, str]:
    """Staff of tenant A, named by header (the running API's base domain is not the tests')."""
    async with httpx.AsyncClient(timeout=30) as http:
        token = (await demo_token(http, tenant_a.issuer, "staff"))["access_token"]
    return {"Authorization": f"Bearer {token}", "X-Simptu-Tenant": tenant_a.slug,
            "Origin": tenant_a.origin}


def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(
        api_schema: schemathesis.BaseSchema, staff_headers: dict[str, str]) -> None:
    # Operations are driven by hand: schemathesis' lazy pytest fixture needs pytest < 9.
    operations = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), f"the API's schema has an invalid operation: {result}"
        operations.append(result.ok())
    assert any(operation.path == "/v1/chat/sessions" for operation in operations)
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
        def call(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(headers=staff_headers, checks=CHECKS, timeout=30)

        call()
