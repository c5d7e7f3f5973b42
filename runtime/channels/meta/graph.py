"""Sending through Meta's Graph API (WhatsApp Cloud API, Messenger, Instagram), with errors
sorted by what to do about them: Meta's error codes, not HTTP statuses, say that."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from simptu.runtime.channels.send_errors import Kind, SendError

# Throughput and pair-rate limits: wait and send again.
THROTTLED = {4, 17, 32, 613, 80007, 130429, 131056}
# Outside the customer service window: never retried, recorded for staff.
WINDOW_CLOSED = {10, 131047, 2018278}
BAD_TOKEN = {190, 102, 463, 467}
TRANSIENT = {1, 2, 131000, 131016}


class GraphError(SendError):
    """Meta's answer to a send, by what to do about it."""


def _kind(code: int, http_status: int) -> Kind:
    if code in THROTTLED or http_status == 429:
        return "throttled"
    if code in WINDOW_CLOSED:
        return "window-closed"
    if code in BAD_TOKEN:
        return "bad-token"
    if code in TRANSIENT or http_status >= 500:
        return "transient"
    return "permanent"


@dataclass(frozen=True)
class GraphClient:
    http: httpx.AsyncClient
    base_url: str
    version: str

    async def _post(self, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url.rstrip('/')}/{self.version}/{path}"
        try:
            answer = await self.http.post(url, json=body,
                                          headers={"Authorization": f"Bearer {token}"})
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise GraphError("transient", "connect", repr(error)) from error
        except httpx.HTTPError as error:  # sent, and no answer: it may have been delivered
            raise GraphError("uncertain", "no-answer", repr(error)) from error
        try:
            payload: dict[str, Any] = answer.json()
        except ValueError:
            payload = {}
        if answer.is_success:
            return payload
        problem = payload.get("error") or {}
        code = int(problem.get("code") or 0)
        raise GraphError(_kind(code, answer.status_code), str(code or answer.status_code),
                         str(problem.get("message") or answer.text[:200]))

    async def send_whatsapp(self, phone_number_id: str, token: str, to: str,
                            text: str) -> str:
        answer = await self._post(f"{phone_number_id}/messages", token, {
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "text", "text": {"body": text, "preview_url": False}})
        return str(answer["messages"][0]["id"])

    async def send_whatsapp_template(self, phone_number_id: str, token: str, to: str,
                                     name: str, language: str, parameters: list[str]) -> str:
        components = [{"type": "body", "parameters": [{"type": "text", "text": value}
                                                      for value in parameters]}]
        answer = await self._post(f"{phone_number_id}/messages", token, {
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "template", "template": {"name": name, "language": {"code": language},
                                             "components": components}})
        return str(answer["messages"][0]["id"])

    async def send_messaging(self, account_id: str, token: str, recipient: str, text: str,
                             human_agent: bool = False) -> str:
        """Messenger (`account_id` the page) or Instagram (`me`, the token's account)."""
        body: dict[str, Any] = {"recipient": {"id": recipient}, "message": {"text": text},
                                "messaging_type": "RESPONSE"}
        if human_agent:  # a person answering after the 24 h window (up to 7 days)
            body.update(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
        answer = await self._post(f"{account_id}/messages", token, body)
        return str(answer["message_id"])
