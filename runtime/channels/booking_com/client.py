"""The HTTP calls to Booking.com's Connectivity APIs, with the property's machine account
(HTTP Basic): the OTA reservation feeds and their acknowledgements, and the messaging API's
queue of messages and replies in a conversation. What Booking.com refuses is a `SendError`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from simptu.runtime.channels.booking_com.ota import Feed
from simptu.runtime.channels.send_errors import SendError
from simptu.runtime.core.channels.accounts import ChannelAccount

XML = {"Content-Type": "text/xml; charset=utf-8"}
# The most messages one call of messages/latest returns.
MESSAGES_PER_CALL = 100


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
    def __init__(self, http: httpx.AsyncClient, ota_url: str, messaging_url: str) -> None:
        self.http = http
        self.ota_url = ota_url.rstrip("/")
        self.messaging_url = messaging_url.rstrip("/")

    @staticmethod
    def _auth(account: ChannelAccount) -> httpx.BasicAuth:
        return httpx.BasicAuth(account.credential("username") or "",
                               account.credential("password") or "")

    async def _call(self, method: str, url: str, account: ChannelAccount,
                    **request: Any) -> httpx.Response:
        try:
            answer = await self.http.request(method, url, auth=self._auth(account), **request)
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
