"""The HTTP calls to Booking.com's Connectivity APIs, with the property's machine account
(HTTP Basic, or a bearer token it was exchanged for): the OTA reservation feeds and their
acknowledgements, and the messaging API's queue of messages and replies in a conversation.
What Booking.com refuses is a `SendError`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from simptu.runtime.channels.booking_com.ota import Feed
from simptu.runtime.channels.send_errors import SendError
from simptu.runtime.core.channels.accounts import ChannelAccount

XML = {"Content-Type": "text/xml; charset=utf-8"}
# The most messages one call of messages/latest returns.
MESSAGES_PER_CALL = 100
# A bearer token's life when the exchange does not say, and how long before its end a new
# one is asked for.
TOKEN_SECONDS, TOKEN_MARGIN = 3600.0, 60.0


@dataclass(frozen=True)
class LatestMessages:
    """A batch of the account's message queue, and what confirming it takes."""

    messages: list[dict[str, Any]]
    timestamp: str


def _refusal(answer: httpx.Response) -> SendError:
    detail = answer.text[:300]
    code = str(answer.status_code)
    if answer.status_code in (401, 403):
        return SendError("bad-token", code, detail)
    if answer.status_code == 429:
        return SendError("throttled", code, detail)
    if answer.status_code >= 500:
        return SendError("transient", code, detail)
    return SendError("permanent", code, detail)


class BookingComClient:
    """`auth_url` empty: HTTP Basic with the machine account on every call; else the account is
    exchanged there for a bearer token (Booking.com's token-based authentication), kept until a
    minute before it expires or until a call is refused with it."""

    def __init__(self, http: httpx.AsyncClient, ota_url: str, messaging_url: str,
                 auth_url: str = "") -> None:
        self.http = http
        self.ota_url = ota_url.rstrip("/")
        self.messaging_url = messaging_url.rstrip("/")
        self.auth_url = auth_url.rstrip("/")
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    @staticmethod
    def _machine_account(account: ChannelAccount) -> tuple[str, str]:
        return account.credential("username") or "", account.credential("password") or ""

    async def _token(self, account: ChannelAccount) -> str:
        key = self._machine_account(account)
        held = self._tokens.get(key)
        if held is not None and held[1] > time.monotonic():
            return held[0]
        answer = await self._send("POST", f"{self.auth_url}/token-based-authentication/exchange",
                                  json={"client_id": key[0], "client_secret": key[1]})
        token = answer.json()
        lifetime = float(token.get("expires_in") or TOKEN_SECONDS)
        self._tokens[key] = (str(token["jwt"]), time.monotonic() + lifetime - TOKEN_MARGIN)
        return str(token["jwt"])

    async def _call(self, method: str, url: str, account: ChannelAccount,
                    **request: Any) -> httpx.Response:
        if not self.auth_url:
            return await self._send(method, url, auth=httpx.BasicAuth(
                *self._machine_account(account)), **request)
        try:
            return await self._send(method, url, headers={
                **request.pop("headers", {}),
                "Authorization": f"Bearer {await self._token(account)}"}, **request)
        except SendError as error:
            if error.kind != "bad-token":
                raise
            self._tokens.pop(self._machine_account(account), None)  # revoked: exchange again
            raise

    async def _send(self, method: str, url: str, **request: Any) -> httpx.Response:
        try:
            answer = await self.http.request(method, url, **request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise SendError("transient", "connect", repr(error)) from error
        except httpx.HTTPError as error:  # it may have arrived
            raise SendError("uncertain", "no-answer", repr(error)) from error
        if answer.status_code >= 300:
            raise _refusal(answer)
        return answer

    async def reservations(self, account: ChannelAccount, feed: Feed) -> bytes:
        """The feed's reservations not acknowledged yet (an `…RQ` document)."""
        answer = await self._call("GET", f"{self.ota_url}/hotels/ota/{feed}", account,
                                  params={"hotel_ids": account.account_id})
        return answer.content

    async def acknowledge(self, account: ChannelAccount, feed: Feed, document: bytes) -> None:
        await self._call("POST", f"{self.ota_url}/hotels/ota/{feed}", account,
                         content=document, headers=XML)

    async def latest_messages(self, account: ChannelAccount) -> LatestMessages:
        answer = await self._call("GET", f"{self.messaging_url}/messaging/messages/latest",
                                  account)
        data = answer.json().get("data") or {}
        return LatestMessages(list(data.get("messages") or [])[:MESSAGES_PER_CALL],
                              str(data.get("timestamp") or ""))

    async def confirm_messages(self, account: ChannelAccount, batch: LatestMessages) -> None:
        """Take the batch off the queue (the next call returns what came after it)."""
        await self._call("PUT", f"{self.messaging_url}/messaging/messages", account,
                         json={"number_of_messages": len(batch.messages),
                               "timestamp": batch.timestamp})

    async def reply(self, account: ChannelAccount, conversation_id: str, text: str) -> str:
        """Post `text` in the guest's conversation; Booking.com's id of the message."""
        answer = await self._call(
            "POST", f"{self.messaging_url}/messaging/properties/{account.account_id}"
            f"/conversations/{conversation_id}", account, json={"message": {"content": text}})
        data = answer.json().get("data") or {}
        return str(data.get("message_id") or "")
