"""`make up` runs the Twilio stand-in where SIMPTU_TWILIO_API_URL says, knowing every demo
tenant's Twilio account by its demo auth token, with its numbers and Messaging Service."""

from __future__ import annotations

import httpx

from simptu.devstack.demo_channels import demo_twilio_accounts
from simptu.devstack.envfile import StackEnv


async def test_every_demo_account_is_known_by_its_demo_token(stack: StackEnv) -> None:
    # No `To`: past the credentials check it is refused as a bad request (21604), so nothing
    # is sent and no callback reaches the API; a wrong token is refused first (20003).
    accounts = demo_twilio_accounts()
    assert accounts
    async with httpx.AsyncClient(base_url=stack["SIMPTU_TWILIO_API_URL"], timeout=10) as http:
        for account in accounts:
            path = f"/2010-04-01/Accounts/{account.account_sid}/Messages.json"
            right = await http.post(path, data={"Body": "x"},
                                    auth=(account.account_sid, account.auth_token))
            wrong = await http.post(path, data={"Body": "x"},
                                    auth=(account.account_sid, account.auth_token + "-not"))
            assert (right.status_code, right.json()["code"]) == (400, 21604), account
            assert (wrong.status_code, wrong.json()["code"]) == (401, 20003), account


async def test_the_demo_accounts_send_from_their_examples_numbers(stack: StackEnv) -> None:
    async with httpx.AsyncClient(base_url=stack["SIMPTU_TWILIO_API_URL"], timeout=10) as http:
        registered = {account["account_sid"]: account for account in
                      (await http.get("/_standin/accounts")).json()["accounts"]}
    for account in demo_twilio_accounts():
        known = registered[account.account_sid]
        assert known["numbers"] == list(account.phone_numbers)
        assert known["messaging_service_sids"] == (
            [account.messaging_service_sid] if account.messaging_service_sid else [])
