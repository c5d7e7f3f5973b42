"""Meta's webhook deliveries read into what the platform acts on: customers' messages (text,
or a readable placeholder for the other kinds) and the statuses of what the business sent.
Echoes of the business's own sends are left out. Shapes: ../shared/CHANNELS.md."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

OBJECTS = {"whatsapp_business_account": "whatsapp", "page": "messenger",
           "instagram": "instagram"}


class MalformedDelivery(ValueError):
    """A body that is not one of Meta's webhook deliveries."""


@dataclass(frozen=True)
class Inbound:
    """A customer's message: `account_id` the business's id that received it (phone number
    id, page id, Instagram account id), `sender` the customer's id on the channel."""

    channel: str
    account_id: str
    sender: str
    message_id: str
    text: str
    at: dt.datetime


@dataclass(frozen=True)
class Status:
    channel: str
    account_id: str
    provider_message_id: str
    status: str  # sent | delivered | read | failed
    error_code: str | None = None
    error_detail: str | None = None


@dataclass
class Delivery:
    messages: list[Inbound] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    # Every (channel, business account id) the delivery speaks for, with or without anything
    # to act on (an echo of the business's own send): each must have signed it.
    accounts: set[tuple[str, str]] = field(default_factory=set)


def parse(body: Any) -> Delivery:
    if not isinstance(body, dict) or body.get("object") not in OBJECTS:
        raise MalformedDelivery("not a Meta webhook delivery: 'object' must be "
                                + ", ".join(OBJECTS))
    channel = OBJECTS[body["object"]]
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise MalformedDelivery("a Meta webhook delivery has an 'entry' list")
    delivery = Delivery()
    try:
        for entry in entries:
            if channel == "whatsapp":
                _whatsapp_entry(entry, delivery)
            else:
                _messaging_entry(channel, entry, delivery)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise MalformedDelivery(f"unexpected shape in a {body['object']} entry: {error!r}") \
            from error
    return delivery


def _when(seconds: Any) -> dt.datetime:
    value = float(seconds)
    if value > 10**11:  # Messenger and Instagram count milliseconds
        value /= 1000
    return dt.datetime.fromtimestamp(value, dt.UTC)


def _whatsapp_entry(entry: dict[str, Any], delivery: Delivery) -> None:
    for change in entry.get("changes", []):
        if change.get("field") != "messages":
            continue
        value = change["value"]
        account = str(value["metadata"]["phone_number_id"])
        delivery.accounts.add(("whatsapp", account))
        for message in value.get("messages", []):
            delivery.messages.append(Inbound(
                "whatsapp", account, str(message["from"]), str(message["id"]),
                whatsapp_text(message), _when(message["timestamp"])))
        for status in value.get("statuses", []):
            error = (status.get("errors") or [{}])[0]
            delivery.statuses.append(Status(
                "whatsapp", account, str(status["id"]), str(status["status"]),
                str(error["code"]) if "code" in error else None,
                error.get("title") or error.get("message")))


def whatsapp_text(message: dict[str, Any]) -> str:
    """What the customer sent, as text staff and the agent can read."""
    kind = message.get("type", "unknown")
    part = message.get(kind) or {}
    if kind == "text":
        return str(part["body"])
    if kind == "interactive":  # a tapped button or list row answers with its title
        reply = part.get("button_reply") or part.get("list_reply") or {}
        return str(reply.get("title") or reply.get("id") or "[interactive reply]")
    if kind == "button":
        return str(part.get("text") or part.get("payload") or "[button]")
    if kind == "location":
        where = ", ".join(str(part[k]) for k in ("name", "address") if part.get(k))
        return f"[location: {part.get('latitude')}, {part.get('longitude')}" + (
            f" — {where}]" if where else "]")
    if kind == "reaction":
        return f"[reaction {part.get('emoji') or 'removed'}]"
    if kind in ("image", "video", "document", "audio", "sticker"):
        name = part.get("filename") or part.get("caption")
        return f"[{kind}{': ' + str(name) if name else ''}]"
    return f"[{kind} message]"


def _messaging_entry(channel: str, entry: dict[str, Any], delivery: Delivery) -> None:
    account = str(entry["id"])
    delivery.accounts.add((channel, account))
    for event in entry.get("messaging", []):
        if "message" in event:
            message = event["message"]
            if message.get("is_echo"):  # the business's own send, reported back
                continue
            delivery.messages.append(Inbound(
                channel, account, str(event["sender"]["id"]), str(message["mid"]),
                messaging_text(message), _when(event["timestamp"])))
        elif "postback" in event:
            postback = event["postback"]
            delivery.messages.append(Inbound(
                channel, account, str(event["sender"]["id"]),
                str(postback.get("mid") or f"postback:{event['timestamp']}"),
                str(postback.get("title") or postback.get("payload") or "[postback]"),
                _when(event["timestamp"])))
        for mid in (event.get("delivery") or {}).get("mids", []):
            delivery.statuses.append(Status(channel, account, str(mid), "delivered"))


def messaging_text(message: dict[str, Any]) -> str:
    if message.get("text"):
        return str(message["text"])
    kinds = [str(a.get("type", "file")) for a in message.get("attachments", [])]
    return f"[{', '.join(kinds)}]" if kinds else "[message]"
