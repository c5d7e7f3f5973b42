"""Reading a request's tenant host, trace context and list cursor; the OpenAPI schema's times."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from simptu.runtime.api.middleware import trace_id_of
from simptu.runtime.api.openapi import describe_wall_clock_times
from simptu.runtime.api.pagination import decode_cursor, encode_cursor
from simptu.runtime.api.problems import ApiProblem
from simptu.runtime.api.routing import host_tenant


@pytest.mark.parametrize(("host", "slug"), [
    ("zambet-dental-cluj.simptu.localhost", "zambet-dental-cluj"),
    ("zambet-dental-cluj.simptu.localhost:3003", "zambet-dental-cluj"),
    ("Zambet-Dental-Cluj.SIMPTU.localhost.", "zambet-dental-cluj"),
    ("simptu.localhost", None),
    ("a.b.simptu.localhost", None),
    ("zambet.simptu.localhost.evil.example", None),
    ("127.0.0.1:3003", None),
    (None, None),
])
def test_the_tenant_is_the_one_label_before_the_base_domain(host: str | None,
                                                            slug: str | None) -> None:
    assert host_tenant(host, "simptu.localhost") == slug


def test_the_trace_id_of_a_w3c_traceparent_is_kept() -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace_id_of(f"00-{trace}-00f067aa0ba902b7-01") == trace


@pytest.mark.parametrize("traceparent", [
    None, "", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"])
def test_a_missing_or_invalid_traceparent_gets_a_new_trace_id(traceparent: str | None) -> None:
    trace_id = trace_id_of(traceparent)
    assert len(trace_id) == 32
    assert trace_id != "0" * 32
    assert trace_id != trace_id_of(traceparent)


def test_a_cursor_holds_its_position() -> None:
    position = {"t": "2026-11-23T16:00:00+00:00", "id": "5d0f2b1c-0000-4000-8000-000000000001"}
    assert decode_cursor(encode_cursor(position)) == position
    assert decode_cursor(None) is None


@pytest.mark.parametrize("cursor", ["not base64!", "bm90IGpzb24", "WzEsIDJd"])
def test_a_cursor_the_api_did_not_make_is_a_bad_request(cursor: str) -> None:
    with pytest.raises(ApiProblem) as raised:
        decode_cursor(cursor)
    assert raised.value.status == 400


class Hours(BaseModel):
    opens: dt.time
    at: dt.datetime


def test_times_of_day_are_described_as_partial_times() -> None:
    app = FastAPI()

    @app.get("/hours")
    async def hours() -> Hours:
        return Hours(opens=dt.time(9), at=dt.datetime.now(dt.UTC))

    describe_wall_clock_times(app)
    properties = app.openapi()["components"]["schemas"]["Hours"]["properties"]
    assert properties["opens"]["format"] == "partial-time"
    assert properties["at"]["format"] == "date-time"
    assert app.openapi()["components"]["schemas"]["Hours"]["properties"] == properties
