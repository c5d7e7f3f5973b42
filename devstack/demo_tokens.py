"""Tokens of the local stack's demo users (`admin`, `staff`, `customer`, password `demo`), got
the way the README's one curl gets them: a password grant of the realm's public web client."""

from __future__ import annotations

from typing import Any

import httpx

from simptu.operator.keycloak import DEMO_PASSWORD, WEB_CLIENT


async def demo_token(http: httpx.AsyncClient, issuer: str, user: str) -> dict[str, Any]:
    """The token response (`access_token`, `expires_in`, ...) for demo `user` of the realm
    `issuer`; raises for an HTTP error."""
    answer = await http.post(f"{issuer}/protocol/openid-connect/token", data={
        "grant_type": "password", "client_id": WEB_CLIENT, "username": user,
        "password": DEMO_PASSWORD})
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body
