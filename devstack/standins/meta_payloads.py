"""Meta's webhook payloads, built as Meta sends them, and their signature.

One home for what the Graph API stand-in posts (WhatsApp statuses), what `meta_webhook` posts
for a newcomer and what tests post to the API: WhatsApp Cloud API `messages` changes (text,
image, location, interactive replies, reactions, statuses) and Messenger / Instagram
`messaging` events (messages and echoes). Contracts: ../shared/CHANNELS.md (Meta section).

`encode` writes a payload the way Meta's servers do (compact JSON, non-ASCII as `\\uXXXX`,
`/` as `\\/`), so a receiver that re-serialises the JSON before checking the signature fails
as it would in production; `sign` is `X-Hub-Signature-256` over those exact bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

Payload = dict[str, Any]

SIGNATURE_HEADER = "X-Hub-Signature-256"


def encode(payload: Payload) -> bytes:
    """The body bytes as Meta sends them: compact, ASCII-only, slashes escaped."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace(
        "/", "\\/").encode()


def sign(app_secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value: `sha256=` + hex HMAC-SHA256(app secret, raw body)."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_request(app_secret: str, payload: Payload) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one webhook delivery, as Meta posts it."""
    body = encode(payload)
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(app_secret, body)}


def new_wamid() -> str:
    """A fresh WhatsApp message id (`wamid.` + opaque base64, as Meta's look)."""
    return "wamid.HBgL" + secrets.token_urlsafe(30)


def new_mid() -> str:
    """A fresh Messenger / Instagram message id (`m_` + opaque)."""
    return "m_" + secrets.token_urlsafe(40)


def _unix(at: float | None) -> int:
    return int(time.time() if at is None else at)


# WhatsApp Cloud API -----------------------------------------------------------------------


def whatsapp_change(phone_number_id: str, value: Payload, *, waba_id: str | None = None,
                    display_phone_number: str = "40740100200") -> Payload:
    """The envelope of every WhatsApp webhook: one entry (the business account), one
    `messages` change whose value carries `messages`, `statuses` or `errors`."""
    metadata = {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id}
    return {"object": "whatsapp_business_account", "entry": [{
        "id": waba_id or phone_number_id,
        "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": metadata, **value}}]}]}


def whatsapp_message(phone_number_id: str, sender: str, kind: str, content: Payload, *,
                     name: str = "Client", message_id: str | None = None,
                     at: float | None = None, context: Payload | None = None,
                     **envelope: Any) -> Payload:
    """A customer's message of type `kind` (`text`, `image`, ...), `content` being the object
    under that type's key. `sender` is the customer's wa_id (digits, country code first)."""
    message: Payload = {"from": sender, "id": message_id or new_wamid(),
                        "timestamp": str(_unix(at)), "type": kind}
    if context:
        message["context"] = context
    if content:
        message[kind] = content
    return whatsapp_change(phone_number_id, {
        "contacts": [{"profile": {"name": name}, "wa_id": sender}], "messages": [message]},
        **envelope)


def whatsapp_text(phone_number_id: str, sender: str, text: str, **options: Any) -> Payload:
    return whatsapp_message(phone_number_id, sender, "text", {"body": text}, **options)


def whatsapp_image(phone_number_id: str, sender: str, *, caption: str | None = None,
                   media_id: str = "1023456789012345", mime_type: str = "image/jpeg",
                   **options: Any) -> Payload:
    image: Payload = {"mime_type": mime_type, "sha256": hashlib.sha256(media_id.encode())
                      .hexdigest(), "id": media_id}
    if caption is not None:
        image["caption"] = caption
    return whatsapp_message(phone_number_id, sender, "image", image, **options)


def whatsapp_location(phone_number_id: str, sender: str, latitude: float, longitude: float,
                      *, name: str | None = None, address: str | None = None,
                      **options: Any) -> Payload:
    location: Payload = {"latitude": latitude, "longitude": longitude}
    location |= {key: value for key, value in (("name", name), ("address", address)) if value}
    return whatsapp_message(phone_number_id, sender, "location", location, **options)


def whatsapp_interactive(phone_number_id: str, sender: str, reply_id: str, title: str, *,
                         list_reply: bool = False, description: str | None = None,
                         **options: Any) -> Payload:
    """The customer's tap on a reply button (`button_reply`) or a list row (`list_reply`)."""
    kind = "list_reply" if list_reply else "button_reply"
    reply: Payload = {"id": reply_id, "title": title}
    if list_reply and description:
        reply["description"] = description
    return whatsapp_message(phone_number_id, sender, "interactive",
                            {"type": kind, kind: reply}, **options)


def whatsapp_reaction(phone_number_id: str, sender: str, message_id: str, emoji: str,
                      **options: Any) -> Payload:
    """A reaction to `message_id` (an empty emoji removes it)."""
    return whatsapp_message(phone_number_id, sender, "reaction",
                            {"message_id": message_id, "emoji": emoji}, **options)


def whatsapp_status(phone_number_id: str, wamid: str, status: str, recipient_id: str, *,
                    at: float | None = None, errors: list[Payload] | None = None,
                    **envelope: Any) -> Payload:
    """A status of one of the business's sends: sent, delivered, read or failed (with
    `errors` [{code, title}])."""
    entry: Payload = {"id": wamid, "status": status, "timestamp": str(_unix(at)),
                      "recipient_id": recipient_id}
    if status in ("sent", "delivered"):
        entry["conversation"] = {"id": hashlib.sha256(recipient_id.encode()).hexdigest()[:32],
                                 "origin": {"type": "service"}}
        entry["pricing"] = {"billable": False, "pricing_model": "PMP", "category": "service"}
    if errors:
        entry["errors"] = [{**error, "error_data": {"details": error.get("title", "")}}
                           for error in errors]
    return whatsapp_change(phone_number_id, {"statuses": [entry]}, **envelope)


# Messenger and Instagram ------------------------------------------------------------------


def messaging_event(kind: str, object_id: str, user_id: str, text: str, *, echo: bool = False,
                    mid: str | None = None, at: float | None = None,
                    app_id: str | None = None) -> Payload:
    """One `messaging` event of a Page (`kind` messenger) or an Instagram account (`kind`
    instagram). A customer's message goes user → object; an echo (the business's own send,
    `is_echo`) goes object → user."""
    millis = int((time.time() if at is None else at) * 1000)
    message: Payload = {"mid": mid or new_mid(), "text": text}
    sender, recipient = (object_id, user_id) if echo else (user_id, object_id)
    if echo:
        message = {"is_echo": True, **({"app_id": int(app_id)} if app_id else {}), **message}
    event = {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": millis,
             "message": message}
    envelope_object = "page" if kind == "messenger" else "instagram"
    return {"object": envelope_object,
            "entry": [{"id": object_id, "time": millis, "messaging": [event]}]}


def messenger_message(page_id: str, psid: str, text: str, **options: Any) -> Payload:
    return messaging_event("messenger", page_id, psid, text, **options)


def messenger_echo(page_id: str, psid: str, text: str, **options: Any) -> Payload:
    return messaging_event("messenger", page_id, psid, text, echo=True, **options)


def instagram_message(account_id: str, igsid: str, text: str, **options: Any) -> Payload:
    return messaging_event("instagram", account_id, igsid, text, **options)


def instagram_echo(account_id: str, igsid: str, text: str, **options: Any) -> Payload:
    return messaging_event("instagram", account_id, igsid, text, echo=True, **options)
