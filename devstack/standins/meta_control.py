"""A client of the Graph API stand-in's control endpoints (`/_standin/...`), for tests on the
stack's shared stand-in (SIMPTU_META_GRAPH_URL) or on one served in-process: register a
tenant's objects, say when a customer last wrote, queue faults, read what was sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from simptu.devstack.standins.meta_payloads import Payload
from simptu.devstack.standins.standin import poll_records


class MetaGraphControl:
    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self.http, self.base_url = http, base_url.rstrip("/")

    async def _post(self, path: str, body: Any) -> Payload:
        answer = await self.http.post(f"{self.base_url}/_standin/{path}", json=body)
        answer.raise_for_status()
        result: Payload = answer.json()
        return result

    async def register(self, object_id: str, kind: str, access_token: str, app_secret: str,
                       **options: Any) -> None:
        """`kind` whatsapp, messenger or instagram; options: webhook_url, status_webhooks,
        display_phone_number, business_account_id, templates ({name: body parameters})."""
        await self._post("objects", {"object_id": object_id, "kind": kind,
                                     "access_token": access_token, "app_secret": app_secret,
                                     **options})

    async def customer_wrote(self, object_id: str, customer_id: str,
                             at: datetime | None = None) -> None:
        """The customer's last message to the object was at `at` (default now): the 24-hour
        window counts from it."""
        await self._post("inbound", {"object_id": object_id, "customer_id": customer_id,
                                     **({"at": at.isoformat()} if at else {})})

    async def fault(self, code: int, *, status: int = 400, message: str = "Injected fault",
                    object_id: str | None = None, recipient: str | None = None,
                    as_status: bool = False, error_subcode: int | None = None,
                    status_first: bool = False) -> None:
        """The next send matching `object_id`/`recipient` gets this error (or, `as_status`,
        is accepted and then reported `failed` with `code`; `status_first`: before the send
        is answered)."""
        await self._post("faults", {"code": code, "status": status, "message": message,
                                    "object_id": object_id, "recipient": recipient,
                                    "as_status": as_status, "error_subcode": error_subcode,
                                    "status_first": status_first})

    async def _list(self, path: str, object_id: str | None, recipient: str | None,
                    ) -> list[Payload]:
        params = {k: v for k, v in (("object_id", object_id), ("recipient", recipient)) if v}
        answer = await self.http.get(f"{self.base_url}/_standin/{path}", params=params)
        answer.raise_for_status()
        records: list[Payload] = next(iter(answer.json().values()))
        return records

    async def calls(self, object_id: str | None = None,
                    recipient: str | None = None) -> list[Payload]:
        """Every send received for the object and/or recipient, oldest first."""
        return await self._list("calls", object_id, recipient)

    async def wait_for_calls(self, count: int, *, object_id: str | None = None,
                             recipient: str | None = None, within: float = 60.0,
                             ) -> list[Payload]:
        """The first `count` sends to the object/recipient, once they have arrived; raises
        TimeoutError naming what did arrive if they do not within `within` seconds."""
        return await poll_records(lambda: self.calls(object_id, recipient), count,
                                  within=within,
                                  what=f"sends to {object_id or '*'}/{recipient or '*'}")

    async def status_webhooks(self, object_id: str | None = None,
                              recipient: str | None = None) -> list[Payload]:
        """The status webhooks posted (payload, signature, attempts, delivered)."""
        return await self._list("webhooks", object_id, recipient)
