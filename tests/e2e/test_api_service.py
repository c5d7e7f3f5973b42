"""The API that `make up` runs: ready, and a demo user's token from one curl-like call works."""

from __future__ import annotations

import httpx

from simptu.devstack.demo_tokens import demo_token
from simptu.devstack.envfile import StackEnv

DEMO_TENANT = "zambet-dental-cluj"


async def test_make_up_runs_the_api_and_it_is_ready(stack: StackEnv) -> None:
    async with httpx.AsyncClient(base_url=stack["SIMPTU_API_URL"], timeout=30) as api:
        answer = await api.get("/readyz")
    assert answer.status_code == 200, answer.text
    assert answer.json()["checks"] == {"postgres": "ok", "redis": "ok", "kafka": "ok",
                                      "openbao": "ok"}


async def test_a_demo_users_token_is_accepted_by_the_api(stack: StackEnv) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        issued = await demo_token(http, f"{stack['SIMPTU_KEYCLOAK_URL']}/realms/{DEMO_TENANT}",
                                  "admin")
        token = issued["access_token"]
        me = await http.get(f"{stack['SIMPTU_API_URL']}/v1/me",
                            headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["tenant"] == DEMO_TENANT
    assert me.json()["roles"] == ["tenant-admin"]
