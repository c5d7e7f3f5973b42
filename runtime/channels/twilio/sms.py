"""Sending SMS through Twilio's REST API with the official library's async client, pointed at
`SIMPTU_TWILIO_API_URL` (a stand-in locally). Twilio's error codes say what to do."""

from __future__ import annotations

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from simptu.runtime.channels.send_errors import Kind, SendError
from simptu.runtime.core.channels.accounts import ChannelAccount

THROTTLED = {20429, 14107, 30022}
OPTED_OUT = {21610}
BAD_TOKEN = {20003, 20005}
# GSM-7's basic set: text of only these characters travels 160 to a segment, anything else
# (Romanian ș ț ă â î, emoji) as UCS-2, 70 to a segment.
GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
           "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
# A part of a long reply: at most 10 segments, a length carriers deliver reliably.
GSM7_PART, UCS2_PART = 10 * 153, 10 * 67


def part_limit(text: str) -> int:
    return GSM7_PART if set(text) <= GSM7 else UCS2_PART


def _kind(code: int, status: int) -> Kind:
    if code in THROTTLED or status == 429:
        return "throttled"
    if code in OPTED_OUT:
        return "opted-out"
    if code in BAD_TOKEN or status == 401:
        return "bad-token"
    return "transient" if status >= 500 else "permanent"


class TwilioSms:
    """One REST client per account, kept for the process's life."""

    def __init__(self, api_url: str, status_callback: str, timeout: float) -> None:
        self.api_url = api_url
        self.status_callback = status_callback
        self.timeout = timeout
        self._clients: dict[tuple[str, str], tuple[Client, AsyncTwilioHttpClient]] = {}

    def _client(self, account: ChannelAccount) -> Client:
        key = (account.credential("accountSid") or "", account.credential("authToken") or "")
        if key not in self._clients:
            http = AsyncTwilioHttpClient(timeout=self.timeout)
            client = Client(key[0], key[1], http_client=http)
            client.api.base_url = self.api_url
            self._clients[key] = (client, http)
        return self._clients[key][0]

    async def send(self, account: ChannelAccount, to: str, text: str) -> str:
        """Send `text` to `to`; the message's sid."""
        sender = ({"messaging_service_sid": account.credential("messagingServiceSid")}
                  if account.credential("messagingServiceSid") else
                  {"from_": (account.credential("phoneNumbers") or "").split(",")[0]})
        try:
            message = await self._client(account).messages.create_async(
                to=to, body=text, status_callback=self.status_callback, **sender)
        except TwilioRestException as error:
            raise SendError(_kind(error.code or 0, error.status), str(error.code or error.status),
                            error.msg) from error
        except aiohttp.ClientConnectorError as error:
            raise SendError("transient", "connect", repr(error)) from error
        except (aiohttp.ClientError, TimeoutError) as error:  # no answer: it may have gone out
            raise SendError("uncertain", "no-answer", repr(error)) from error
        return str(message.sid)

    async def aclose(self) -> None:
        for _, http in self._clients.values():
            await http.close()
        self._clients.clear()
