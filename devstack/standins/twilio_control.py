"""A client of the Twilio stand-in's control endpoints (`/_standin/...`), for tests on the
stack's shared stand-in (SIMPTU_TWILIO_API_URL) or on one served in-process: register an
account, opt a number out, queue faults, read what was sent and the status callbacks posted."""

from __future__ import annotations

from typing import Any

import httpx

from simptu.devstack.standins.standin import poll_records

Record = dict[str, Any]


class TwilioControl:
    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self.http, self.base_url = http, base_url.rstrip("/")

    async def _post(self, path: str, body: Any) -> Record:
        answer = await self.http.post(f"{self.base_url}/_standin/{path}", json=body)
        answer.raise_for_status()
        result: Record = answer.json()
        return result

    async def register(self, account_sid: str, auth_token: str, numbers: list[str], *,
                       messaging_service_sids: list[str] | None = None) -> None:
        """The account (AC + 32 hex) may send from `numbers` (E.164) and its Messaging
        Services (MG + 32 hex); registering it again replaces them."""
        await self._post("accounts", {"account_sid": account_sid, "auth_token": auth_token,
                                      "numbers": numbers,
                                      "messaging_service_sids": messaging_service_sids or []})

    async def opt_out(self, account_sid: str, number: str, *, opted_out: bool = True) -> None:
        """`number` texted STOP to the account: sends to it are refused with 21610 (until
        `opted_out=False`, its START)."""
        await self._post("opt_out", {"account_sid": account_sid, "number": number,
                                     "opted_out": opted_out})

    async def fault(self, code: int, *, status: int = 400, message: str = "Injected fault",
                    account_sid: str | None = None, to: str | None = None,
                    as_status: str | None = None) -> None:
        """The next message matching `account_sid`/`to` gets this error (e.g. 20429 with
        status 429), or, `as_status` undelivered/failed, is accepted and its status callbacks
        end in that status with ErrorCode `code`."""
        await self._post("faults", {"code": code, "status": status, "message": message,
                                    "account_sid": account_sid, "to": to,
                                    "as_status": as_status})

    async def _list(self, path: str, **wanted: str | None) -> list[Record]:
        params = {key: value for key, value in wanted.items() if value}
        answer = await self.http.get(f"{self.base_url}/_standin/{path}", params=params)
        answer.raise_for_status()
        records: list[Record] = next(iter(answer.json().values()))
        return records

    async def calls(self, account_sid: str | None = None, to: str | None = None,
                    ) -> list[Record]:
        """Every REST request received for the account and/or `To`, oldest first: `form`,
        `auth_ok`, `status`, `answer`."""
        return await self._list("calls", account_sid=account_sid, to=to)

    async def wait_for_calls(self, count: int, *, account_sid: str | None = None,
                             to: str | None = None, within: float = 60.0) -> list[Record]:
        """The first `count` requests for the account/`To`, once they have arrived; raises
        TimeoutError naming what did arrive if they do not within `within` seconds."""
        return await poll_records(lambda: self.calls(account_sid, to), count, within=within,
                                  what=f"requests to {account_sid or '*'}/{to or '*'}")

    async def callbacks(self, account_sid: str | None = None, to: str | None = None,
                        message_sid: str | None = None) -> list[Record]:
        """The status callbacks posted (status, params, signature, attempts, delivered)."""
        return await self._list("callbacks", account_sid=account_sid, to=to,
                                message_sid=message_sid)
