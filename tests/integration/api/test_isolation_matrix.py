"""Every `/v1` operation of the OpenAPI schema, called with tenant B's tokens on tenant A's
resources, answers 403 or 404 and shows nothing of A. The operations are read from the schema,
so a new endpoint is checked without anyone remembering to add it."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from tests.integration.api.conftest import ApiTenant, BookableSlots, TokenFor

# A plausible body per request schema, so a refusal is about the tenant, not the input.
BODIES: dict[str, dict[str, Any]] = {
    "MessageCreate": {"text": "hello"}, "SessionCreate": {"channel": "web"},
    "Handoff": {"note": "please call"}, "GuestRequest": {"locale": "ro"},
    "BookingCancel": {}, "ClosedDay": {"day": "2030-01-07", "reason": "training"},
    "ServiceSpec": {"name": "Check-up", "duration_minutes": 30, "price": "100.00",
                    "currency": "RON"},
    "ResourceSpec": {"name": "Dr. Ana Popescu", "kind": "staff"},
    "InvitationCreate": {"email": "someone@example.com", "role": "staff"},
    "InvitationAccept": {"password": "a long Passw0rd!", "first_name": "B", "last_name": "B"},
    "KnowledgeEntrySpec": {"locale": "en", "question": "Is there parking?", "answer": "No."},
    "KnowledgeEntryChange": {"answer": "changed by B"},
    "AccessCodeRequest": {"phone": "+40722000000"},
}
# Providers' webhooks answer to the provider's signature, never to a token: B's tokens are
# refused there like anyone's (a 4xx, nothing stored).
SIGNED_BY_PROVIDERS = "/v1/webhooks/"


def operations(app: FastAPI) -> list[tuple[str, str, str | None]]:
    """(method, path template, request schema name) of every /v1 operation."""
    found = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            if not path.startswith("/v1/"):
                continue
            ref = (operation.get("requestBody", {}).get("content", {})
                   .get("application/json", {}).get("schema", {}).get("$ref"))
            found.append((method.upper(), path, ref.rsplit("/", 1)[-1] if ref else None))
    return found


def fill(path: str, values: dict[str, str]) -> str:
    names = re.findall(r"{(\w+)}", path)
    missing = [name for name in names if name not in values]
    assert not missing, f"{path}: give the isolation matrix a value of tenant A for {missing}"
    return path.format(**values)


def shown_ids(answer: httpx.Response) -> set[str]:
    """The resource ids an answer shows (a problem may echo the id asked for; that is no leak)."""
    body = answer.json() if answer.content else {}
    if not isinstance(body, dict):
        return set()
    items = body.get("items", [])
    return {str(found) for found in [body.get("id"), body.get("session_id"),
                                     *(item.get("id") or item.get("entry_id")
                                       for item in items)] if found}


async def test_tenant_bs_tokens_reach_nothing_of_tenant_a(
        api: httpx.AsyncClient, api_app: FastAPI, tenant_a: ApiTenant, tenant_b: ApiTenant,
        token_for: TokenFor, bookable: BookableSlots) -> None:
    customer_a = {"Host": tenant_a.host,
                  "Authorization": f"Bearer {await token_for(tenant_a, 'customer')}"}
    session_a = (await api.post("/v1/chat/sessions", json={}, headers=customer_a)).json()["id"]
    await api.post(f"/v1/chat/sessions/{session_a}/messages", json={"text": "secret of A"},
                   headers=customer_a)
    values = {"slug": tenant_a.slug, "session_id": session_a,
              "service_id": str(bookable.consultation), "resource_id": str(bookable.dr_ana)}
    # Bookings of tenant A's catalogue at free slots: only the tenant can be wrong.
    bodies = BODIES | {
        "BookingCreate": {"service_id": values["service_id"],
                          "resource_id": values["resource_id"],
                          "start": bookable.take().isoformat()},
        "BookingReschedule": {"start": bookable.take().isoformat()}}
    booked = await api.post("/v1/bookings", json=bodies["BookingCreate"], headers=customer_a)
    assert booked.status_code == 201, booked.text
    booking_a = values["booking_id"] = booked.json()["id"]
    values["customer_id"] = booked.json()["customer_id"]
    admin_a = {"Host": tenant_a.host,
               "Authorization": f"Bearer {await token_for(tenant_a, 'admin')}"}
    invited = await api.post("/v1/invitations", headers=admin_a,
                             json={"email": f"{uuid.uuid4().hex}@example.com", "role": "staff"})
    assert invited.status_code == 201, invited.text
    values |= {"invitation_id": invited.json()["id"], "token": invited.json()["token"]}
    faq = await api.post("/v1/knowledge", headers=admin_a, json={
        "locale": "en", "question": "Is there parking?", "answer": "secret of A: the back yard"})
    assert faq.status_code == 201, faq.text
    values["entry_id"] = faq.json()["id"]
    bodies |= {"AccessCodeRedeem": {"code": "00000000", "customer_id": values["customer_id"]},
               "RatingCreate": {"booking_id": booking_a, "score": 5}}
    checked = 0
    for user in ("admin", "staff", "customer"):
        bearer = {"Authorization": f"Bearer {await token_for(tenant_b, user)}",
                  "Origin": tenant_b.origin}
        for method, template, schema in operations(api_app):
            path = fill(template, values)
            body = bodies.get(schema or "", {}) if schema else None
            for tenant_named in ({"Host": tenant_a.host}, {"X-Simptu-Tenant": tenant_a.slug},
                                 {"Host": tenant_b.host}):
                answer = await api.request(method, path, json=body,
                                           headers=bearer | tenant_named)
                where = f"{user} of B: {method} {path} with {tenant_named}"
                if template.startswith(SIGNED_BY_PROVIDERS):
                    assert 400 <= answer.status_code < 500, f"{where}: {answer.status_code}"
                elif tenant_named.get("Host") == tenant_b.host and "{" not in template:
                    # B's own collection: allowed, but nothing of A may show.
                    assert answer.status_code < 500, where
                else:
                    assert answer.status_code in (403, 404), f"{where}: {answer.status_code}"
                assert not {session_a, booking_a, values["invitation_id"],
                            values["entry_id"]} & shown_ids(answer), where
                assert "secret of A" not in answer.text, where
                checked += 1
    assert checked >= 3 * 3 * 8
