"""Cross-cutting behaviour of the API: health and readiness, metrics, problem+json for every
error, the body size limit and trace ids."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from tests.integration.api.conftest import ApiTenant

PROBLEM = "application/problem+json"


def assert_problem(answer: httpx.Response, status: int) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, object] = answer.json()
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


async def test_healthz_answers_ok(api: httpx.AsyncClient) -> None:
    answer = await api.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"


async def test_readyz_checks_postgres_redis_kafka_and_openbao(api: httpx.AsyncClient) -> None:
    answer = await api.get("/readyz")
    assert answer.status_code == 200, answer.text
    assert answer.json()["checks"] == {"postgres": "ok", "redis": "ok", "kafka": "ok",
                                      "openbao": "ok"}


async def test_metrics_count_requests_by_route_template(api: httpx.AsyncClient,
                                                        tenant_a: ApiTenant) -> None:
    await api.get("/v1/tenant", headers={"Host": tenant_a.host})
    answer = await api.get("/metrics")
    assert answer.status_code == 200
    assert 'simptu_api_requests_total{method="GET",route="/v1/tenant",status="200"}' in answer.text
    assert "simptu_api_request_seconds_bucket" in answer.text


async def test_unknown_path_is_a_problem(api: httpx.AsyncClient) -> None:
    body = assert_problem(await api.get("/v1/no-such-thing"), 404)
    assert body["instance"] == "/v1/no-such-thing"


async def test_wrong_method_is_a_problem(api: httpx.AsyncClient) -> None:
    assert_problem(await api.delete("/healthz"), 405)


async def test_invalid_body_is_a_problem_that_names_the_field(api: httpx.AsyncClient,
                                                              tenant_a: ApiTenant) -> None:
    answer = await api.post("/v1/chat/guest", json={"locale": "not a locale"},
                            headers={"Host": tenant_a.host, "Origin": tenant_a.origin})
    body = assert_problem(answer, 422)
    assert "locale" in str(body["detail"])
    errors = body["errors"]
    assert isinstance(errors, list)
    assert [error["location"] for error in errors] == [["body", "locale"]]


async def test_malformed_json_is_a_problem(api: httpx.AsyncClient, tenant_a: ApiTenant) -> None:
    answer = await api.post("/v1/chat/guest", content=b"{not json",
                            headers={"Host": tenant_a.host, "Origin": tenant_a.origin,
                                     "Content-Type": "application/json"})
    assert_problem(answer, 422)


async def test_body_over_the_limit_is_refused_by_its_declared_length(
        api: httpx.AsyncClient, tenant_a: ApiTenant) -> None:
    answer = await api.post("/v1/chat/guest", content=b"x" * 5000,
                            headers={"Host": tenant_a.host, "Origin": tenant_a.origin})
    assert_problem(answer, 413)


async def test_streamed_body_over_the_limit_is_refused(api: httpx.AsyncClient,
                                                       tenant_a: ApiTenant) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b'{"locale": "' + b"x" * 1000

    answer = await api.post("/v1/chat/guest", content=chunks(),
                            headers={"Host": tenant_a.host, "Origin": tenant_a.origin,
                                     "Content-Type": "application/json"})
    assert "content-length" not in answer.request.headers
    assert_problem(answer, 413)


async def test_trace_id_comes_from_traceparent(api: httpx.AsyncClient) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    answer = await api.get("/healthz", headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
    assert answer.headers["x-trace-id"] == trace


async def test_a_request_without_traceparent_gets_a_new_trace_id(api: httpx.AsyncClient) -> None:
    first, second = await api.get("/healthz"), await api.get("/healthz")
    assert len(first.headers["x-trace-id"]) == 32
    assert first.headers["x-trace-id"] != second.headers["x-trace-id"]


async def test_openapi_documents_problems(api: httpx.AsyncClient) -> None:
    schema = (await api.get("/openapi.json")).json()
    guest = schema["paths"]["/v1/chat/guest"]["post"]
    assert "application/problem+json" in guest["responses"]["429"]["content"]
