"""The demo channels' credentials are deterministic, and `meta_webhook` signs the documented
envelope exactly as Meta does: over the bytes sent, which re-serialising would change."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simptu.devstack.demo_channels import demo_channel, demo_channel_secret, demo_channels
from simptu.devstack.meta_webhook import main
from simptu.devstack.standins.meta_graph import serve, serving
from simptu.devstack.standins.meta_payloads import (
    encode,
    instagram_echo,
    sign,
    whatsapp_interactive,
    whatsapp_status,
)


def test_demo_channel_secrets_have_each_channels_keys() -> None:
    assert demo_channel_secret("zambet-dental-cluj", "whatsapp") == {
        "accessToken": "demo-zambet-dental-cluj-whatsapp-token",
        "appSecret": "demo-zambet-dental-cluj-whatsapp-app-secret",
        "verifyToken": "demo-zambet-dental-cluj-whatsapp-verify"}
    assert set(demo_channel_secret("pulse-fitness-timisoara", "messenger")) == {
        "pageAccessToken", "appSecret", "verifyToken"}
    assert set(demo_channel_secret("pulse-fitness-timisoara", "instagram")) == {
        "accessToken", "appSecret", "verifyToken"}


def test_the_demo_channels_are_the_examples_ids() -> None:
    found = {(c.slug, c.channel): c.object_id for c in demo_channels()}
    assert found[("zambet-dental-cluj", "whatsapp")] == "104857600123456"
    assert found[("pulse-fitness-timisoara", "instagram")] == "17841400000000001"
    assert len(set(found.values())) == len(found)  # no id claimed twice


def test_meta_webhook_signs_the_bytes_it_sends_which_re_serialising_would_break() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "simptu.devstack.meta_webhook", "whatsapp", "--tenant",
         "zambet-dental-cluj", "--from", "40722123456", "--dry-run",
         "Bună ziua, aveți loc mâine? 🦷"], capture_output=True, text=True, check=True).stdout
    head, body = printed.split("\n\n", 1)
    body_bytes = body.rstrip("\n").encode()
    signature = head.split("X-Hub-Signature-256: ")[1].splitlines()[0]
    secret = demo_channel("zambet-dental-cluj", "whatsapp").app_secret

    assert signature == sign(secret, body_bytes)
    payload = json.loads(body_bytes)
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["text"]["body"] == "Bună ziua, aveți loc mâine? 🦷"
    assert message["id"].startswith("wamid.")
    assert sign(secret, json.dumps(payload).encode()) != signature
    assert sign(secret, json.dumps(payload, ensure_ascii=False,
                                   separators=(",", ":")).encode()) != signature


def test_payloads_follow_the_documented_shapes() -> None:
    status = whatsapp_status("1", "wamid.x", "failed", "40722123456",
                             errors=[{"code": 131047, "title": "Re-engagement message"}])
    tap = whatsapp_interactive("1", "40722123456", "slot-10", "Mâine 10:00")
    echo = instagram_echo("17841400000000001", "99", "Mulțumim!")

    assert status["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"][0]["code"] == \
        131047
    assert tap["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"] == {
        "type": "button_reply", "button_reply": {"id": "slot-10", "title": "Mâine 10:00"}}
    assert echo["object"] == "instagram"
    event = echo["entry"][0]["messaging"][0]
    assert event["message"]["is_echo"] is True
    assert event["sender"]["id"] == "17841400000000001"
    assert b"\\/" in encode({"url": "https://x"})


async def test_meta_webhook_posts_signed_and_tells_the_standin_the_customer_wrote(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    received: list[tuple[bytes, str]] = []

    async def webhook(request: Request) -> Response:
        received.append((await request.body(), request.headers["x-hub-signature-256"]))
        return Response("EVENT_RECEIVED")

    api = Starlette(routes=[Route("/v1/webhooks/meta", webhook, methods=["POST"])])
    async with serving(api) as api_url, serve() as graph:
        monkeypatch.setenv("SIMPTU_META_GRAPH_PORT", graph.url.rsplit(":", 1)[1])
        code = await asyncio.to_thread(main, [
            "whatsapp", "--tenant", "zambet-dental-cluj", "--from", "40722123456",
            "--url", f"{api_url}/v1/webhooks/meta", "Aveți program sâmbătă?"])

    number = demo_channel("zambet-dental-cluj", "whatsapp")
    [(body, signature)] = received
    assert code == 0
    assert "-> 200 OK" in capsys.readouterr().out
    assert signature == sign(number.app_secret, body)
    value = json.loads(body)["entry"][0]["changes"][0]["value"]
    assert value["metadata"]["phone_number_id"] == number.object_id
    assert value["messages"][0]["from"] == "40722123456"
    assert value["messages"][0]["text"]["body"] == "Aveți program sâmbătă?"
    assert (number.object_id, "40722123456") in graph.state.last_inbound
