"""The hub `make up` runs, as a page meets it: a guest token from the running API's
`POST /v1/chat/guest`, then phoenix.js joins the new conversation on port 4000 and sends."""

from __future__ import annotations

import asyncio

import httpx

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.registry import TenantRecord

from .conftest import CLINIC
from .phoenix_driver import PhoenixDriver


async def test_a_visitor_with_a_guest_token_from_the_api_chats_on_the_running_hub(
        phoenix: PhoenixDriver, stack: StackEnv, tenants: dict[str, TenantRecord]) -> None:
    async with httpx.AsyncClient(base_url=stack["SIMPTU_API_URL"], timeout=30) as api:
        answer = await api.post("/v1/chat/guest", json={"locale": "ro"}, headers={
            "X-Simptu-Tenant": CLINIC, "Origin": tenants[CLINIC].web_origins[0]})
        assert answer.status_code == 201, answer.text
        guest = answer.json()
        history = f"/v1/chat/sessions/{guest['session_id']}/messages"
        as_guest = {"X-Simptu-Tenant": CLINIC, "Authorization": f"Bearer {guest['token']}"}
        assert (await api.get(history, headers=as_guest)).json()["items"] == []  # now cached

        await phoenix.connect("page", stack["SIMPTU_WS_URL"], guest["token"])
        joined = await phoenix.join("page", f"chat:{guest['session_id']}")
        sent = await phoenix.push("page", f"chat:{guest['session_id']}", "message",
                                  {"text": "Bună ziua", "client_msg_id": "first"})

        assert joined["status"] == "ok"
        assert sent["status"] == "ok"
        assert sent["response"]["duplicate"] is False
        # The hub forgot the cached page when it stored the message; the API's own copy goes
        # when that announcement reaches it, a moment later.
        for _ in range(500):
            items = (await api.get(history, headers=as_guest)).json()["items"]
            if items:
                break
            await asyncio.sleep(0.01)
        assert items[0]["text"] == "Bună ziua"
