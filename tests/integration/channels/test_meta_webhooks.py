"""Meta's webhook on the API: the subscription handshake, signatures over the raw bytes,
deliveries stored once however often and in whatever order they come, and no tenant reached
through another's account."""

from __future__ import annotations

import json

from simptu.devstack.standins.meta_payloads import (
    encode,
    instagram_message,
    messenger_echo,
    messenger_message,
    new_wamid,
    sign,
    whatsapp_image,
    whatsapp_interactive,
    whatsapp_location,
    whatsapp_text,
)
from tests.integration.channels.conftest import CLINIC, GYM, Meta, new_customer

DIACRITICS = "Bună ziua! Aveți loc mâine? Mulțumesc 🙏😀 — ăâîșț ĂÂÎȘȚ"


async def test_the_handshake_answers_a_tenants_verify_token_and_refuses_others(
        meta: Meta) -> None:
    token = meta.channel(CLINIC, "whatsapp").secret["verifyToken"]
    ok = await meta.api.get("/v1/webhooks/meta", params={
        "hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"})
    wrong = await meta.api.get("/v1/webhooks/meta", params={
        "hub.mode": "subscribe", "hub.verify_token": token + "x", "hub.challenge": "1"})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert wrong.status_code == 403
    assert wrong.json()["type"].endswith("wrong-verify-token")


async def test_a_signed_delivery_with_diacritics_and_emoji_is_stored_as_sent(meta: Meta) -> None:
    whatsapp, customer = meta.channel(CLINIC, "whatsapp"), new_customer()
    answer = await meta.post(whatsapp_text(whatsapp.object_id, customer, DIACRITICS),
                             whatsapp.app_secret)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"messages": 1, "duplicates": 0, "statuses": 0, "unrouted": 0}
    session = await meta.session(CLINIC, "whatsapp", customer)
    assert session is not None
    assert session["channel"] == "whatsapp"
    [message] = [m for m in await meta.messages(CLINIC, session["id"])
                 if m["author"] == "customer"]
    async with meta.db.acquire() as conn:
        sealed = await conn.fetchval(
            "SELECT body FROM t_zambet_dental_cluj.chat_messages WHERE id = $1", message["id"])
    assert DIACRITICS.encode() not in sealed  # sealed at rest


async def test_a_wrong_signature_refuses_the_delivery_and_stores_nothing(meta: Meta) -> None:
    whatsapp, customer = meta.channel(CLINIC, "whatsapp"), new_customer()
    payload = whatsapp_text(whatsapp.object_id, customer, DIACRITICS)
    raw = encode(payload)
    reserialised = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    assert reserialised != raw
    attempts = {
        "re-serialised body": await meta.post(payload, "", body=reserialised,
                                              signature=sign(whatsapp.app_secret, raw)),
        "another secret": await meta.post(payload, whatsapp.app_secret + "-not"),
        "tampered bytes": await meta.post(payload, "", body=raw.replace(b"Bun", b"Rea"),
                                          signature=sign(whatsapp.app_secret, raw)),
    }
    missing = await meta.api.post("/v1/webhooks/meta", content=raw,
                                  headers={"Content-Type": "application/json"})
    assert {name: a.status_code for name, a in attempts.items()} == dict.fromkeys(attempts, 403)
    assert missing.status_code == 401
    assert await meta.session(CLINIC, "whatsapp", customer) is None


async def test_one_message_delivered_three_times_is_stored_and_answered_once(meta: Meta) -> None:
    whatsapp, customer = meta.channel(CLINIC, "whatsapp"), new_customer()
    payload = whatsapp_text(whatsapp.object_id, customer, "Cât costă o consultație?",
                            message_id=new_wamid())
    answers = [await meta.post(payload, whatsapp.app_secret) for _ in range(3)]
    assert [a.json()["messages"] for a in answers] == [1, 0, 0]
    assert [a.json()["duplicates"] for a in answers] == [0, 1, 1]
    [reply] = await meta.graph.wait_for_calls(1, object_id=whatsapp.object_id,
                                              recipient=customer)
    assert "Consultație" in reply["body"]["text"]["body"]
    session = await meta.session(CLINIC, "whatsapp", customer)
    assert session is not None
    authors = [m["author"] for m in await meta.messages(CLINIC, session["id"])]
    assert authors == ["customer", "agent"]
    assert len(await meta.graph.calls(whatsapp.object_id, customer)) == 1


async def test_two_messages_out_of_order_and_again_are_each_stored_once(meta: Meta) -> None:
    whatsapp, customer = meta.channel(CLINIC, "whatsapp"), new_customer()
    first = whatsapp_text(whatsapp.object_id, customer, "Bună ziua", at=1_790_000_000)
    second = whatsapp_text(whatsapp.object_id, customer, "Unde parchez?", at=1_790_000_005)
    for payload in (second, first, second, first):
        assert (await meta.post(payload, whatsapp.app_secret)).status_code == 200
    session = await meta.session(CLINIC, "whatsapp", customer)
    assert session is not None
    ids = [m["client_msg_id"] for m in await meta.messages(CLINIC, session["id"])
           if m["author"] == "customer"]
    sent = [p["entry"][0]["changes"][0]["value"]["messages"][0]["id"] for p in (first, second)]
    assert sorted(ids) == sorted(f"whatsapp:{wamid}" for wamid in sent)


async def test_other_message_types_are_stored_as_readable_placeholders(meta: Meta) -> None:
    whatsapp, customer = meta.channel(CLINIC, "whatsapp"), new_customer()
    for payload in (whatsapp_image(whatsapp.object_id, customer, caption="radiografie"),
                    whatsapp_location(whatsapp.object_id, customer, 46.77, 23.59),
                    whatsapp_interactive(whatsapp.object_id, customer, "yes", "Da")):
        answer = await meta.post(payload, whatsapp.app_secret)
        assert answer.json()["messages"] == 1, answer.text
    session = await meta.session(CLINIC, "whatsapp", customer)
    assert session is not None
    assert len([m for m in await meta.messages(CLINIC, session["id"])
                if m["author"] == "customer"]) == 3


async def test_messenger_and_instagram_customers_each_get_one_conversation(meta: Meta) -> None:
    messenger, instagram = meta.channel(GYM, "messenger"), meta.channel(GYM, "instagram")
    psid, igsid = new_customer(), new_customer()
    for text in ("Salut", "Ce clase aveți?"):
        assert (await meta.post(messenger_message(messenger.object_id, psid, text),
                                messenger.app_secret)).json()["messages"] == 1
        assert (await meta.post(instagram_message(instagram.object_id, igsid, text),
                                instagram.app_secret)).json()["messages"] == 1
    echo = await meta.post(messenger_echo(messenger.object_id, psid, "Our own send"),
                           messenger.app_secret)
    assert echo.json()["messages"] == 0
    for kind, customer in (("messenger", psid), ("instagram", igsid)):
        session = await meta.session(GYM, kind, customer)
        assert session is not None
        customers = [m for m in await meta.messages(GYM, session["id"])
                     if m["author"] == "customer"]
        assert len(customers) == 2, kind
    replies = await meta.graph.wait_for_calls(1, object_id=instagram.object_id,
                                              recipient=igsid)
    assert replies[0]["path"].endswith("/me/messages")


async def test_a_tenants_account_signed_with_another_tenants_secret_is_refused(
        meta: Meta) -> None:
    clinic, gym = meta.channel(CLINIC, "whatsapp"), meta.channel(GYM, "messenger")
    customer = new_customer()
    forged = await meta.post(whatsapp_text(clinic.object_id, customer, "Salut"), gym.app_secret)
    assert forged.status_code == 403
    unknown = await meta.post(messenger_message("999000111222333", customer, "Salut"),
                              gym.app_secret)
    assert unknown.status_code == 403  # an unknown page, not signed by the platform's app
    assert await meta.session(CLINIC, "whatsapp", customer) is None
    assert await meta.session(GYM, "messenger", customer) is None
