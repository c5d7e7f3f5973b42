"""`make up` runs the Graph API stand-in where SIMPTU_META_GRAPH_URL says, knowing every demo
tenant's Meta channel by its demo token, and posting status webhooks to the API."""

from __future__ import annotations

import httpx

from simptu.devstack.demo_channels import demo_channels
from simptu.devstack.envfile import StackEnv


async def test_every_demo_channel_is_known_by_its_demo_token(stack: StackEnv) -> None:
    # An empty body: past the token check it is refused as a bad payload (100), so nothing is
    # sent and no status webhook reaches the API; a wrong token is refused first (190).
    async with httpx.AsyncClient(base_url=stack["SIMPTU_META_GRAPH_URL"], timeout=10) as http:
        for channel in demo_channels():
            path = f"/v24.0/{channel.object_id}/messages"
            right = await http.post(path, json={}, headers={
                "Authorization": f"Bearer {channel.access_token}"})
            wrong = await http.post(path, json={}, headers={
                "Authorization": f"Bearer {channel.access_token}-not"})
            assert (right.status_code, right.json()["error"]["code"]) == (400, 100), channel
            assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, 190), channel


async def test_status_webhooks_go_to_the_api(stack: StackEnv) -> None:
    async with httpx.AsyncClient(base_url=stack["SIMPTU_META_GRAPH_URL"], timeout=10) as http:
        config = (await http.get("/_standin/config")).json()
    assert config["webhook_url"] == f"{stack['SIMPTU_API_URL']}/v1/webhooks/meta"
    assert config["status_webhooks"] is True
