"""Liveness (`/healthz`), readiness (`/readyz`: Postgres, Redis and Kafka answer) and the
Prometheus metrics (`/metrics`)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from simptu.runtime.api.dependencies import PlatformDep
from simptu.runtime.api.problems import MEDIA_TYPE, Problem, problem_response
from simptu.runtime.core.readiness import dependency_checks

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    checks: dict[str, str] = {}


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health,
            responses={503: {"model": Problem, "content": {MEDIA_TYPE: {}}}})
async def readyz(platform: PlatformDep) -> Health | JSONResponse:
    # OpenBao too: every request that reads or writes a sealed field needs it unsealed.
    checks = await dependency_checks(platform.pool, platform.redis, platform.producer,
                                     platform.keystore)
    failing = {name: result for name, result in checks.items() if result != "ok"}
    if failing:
        return problem_response(503, "not ready: " + "; ".join(
            f"{name} {result}" for name, result in failing.items()), kind="not-ready",
            headers={"Retry-After": "5"})
    return Health(status="ready", checks=checks)


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
