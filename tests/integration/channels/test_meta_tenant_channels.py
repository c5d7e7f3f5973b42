"""A tenant connected through the platform's own Meta app, as a platform operator connects one:
a Tenant naming its Page, then its Secret with only the page token. The operator copies the
credentials and registers the Page; the API takes the platform app's signatures for it and
counts what no tenant owns; an id another tenant registered is named in ChannelsReady."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest

from simptu.devstack.demo_channels import PLATFORM_APP_SECRET, PLATFORM_VERIFY_TOKEN
from simptu.devstack.envfile import StackEnv
from simptu.devstack.standins.meta_payloads import messenger_message
from simptu.operator.channels import Identifier, clashes
from simptu.runtime.core.channels.routing import RegistryIndex
from simptu.runtime.core.crypto import OpenBaoTransit
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.channels.conftest import CLINIC, Meta, new_customer, until

WAIT = 120.0


def kubectl(stack: StackEnv, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([stack["SIMPTU_KUBECTL"], "--kubeconfig", stack["KUBECONFIG"], *args],
                          input=stdin, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def page_tenant(stack: StackEnv, unique: str) -> Iterator[tuple[str, str]]:
    """A gym whose Messenger Page is connected through the platform's app: (slug, page id)."""
    slug, page = f"{unique}-meta", str(int(unique[1:], 16))
    manifest = {"apiVersion": "simptu.io/v1alpha1", "kind": "Tenant", "metadata": {"name": slug},
                "spec": {"displayName": "Pagina Test", "businessType": "gym",
                         "deletionPolicy": "Delete", "channels": {"messenger": {
                             "pageId": page, "secretRef": {"name": "messenger"}}}}}
    kubectl(stack, "apply", "-f", "-", stdin=json.dumps(manifest))
    try:
        yield slug, page
    finally:
        kubectl(stack, "delete", "tenant", slug, "--wait=false")


async def tenant_status(stack: StackEnv, slug: str) -> dict[str, Any]:
    found = await asyncio.to_thread(kubectl, stack, "get", "tenant", slug, "-o", "json")
    status: dict[str, Any] = json.loads(found).get("status") or {}
    return status


async def test_a_page_connected_through_the_platform_app_gets_its_messages(
        meta: Meta, stack: StackEnv, page_tenant: tuple[str, str]) -> None:
    slug, page = page_tenant
    namespace = TenantNames(slug).namespace
    async def namespace_made() -> bool:
        names = await asyncio.to_thread(kubectl, stack, "get", "ns", "-o", "name")
        return f"namespace/{namespace}" in names.split()

    await until(namespace_made, WAIT)  # the operator makes it; then the Secret comes
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {
        "name": "messenger", "namespace": namespace}, "stringData": {
        "pageAccessToken": "page-token-of-the-test"}}
    kubectl(stack, "apply", "-f", "-", stdin=json.dumps(secret))
    async def ready() -> bool:
        return (await tenant_status(stack, slug)).get("phase") == "Ready"

    await until(ready, WAIT)  # the Secret's arrival converges the tenant at once
    channels = next(c for c in (await tenant_status(stack, slug))["conditions"]
                    if c["type"] == "ChannelsReady")
    assert (channels["status"], channels["message"]) == ("True", "messenger connected")

    psid = new_customer()
    answer = await meta.post(messenger_message(page, psid, "Salut! Ce clase aveți?"),
                             PLATFORM_APP_SECRET)
    assert answer.json() == {"messages": 1, "duplicates": 0, "statuses": 0, "unrouted": 0}
    assert await meta.session(slug, "messenger", psid) is not None
    stranger = await meta.post(messenger_message("900800700600500", psid, "Salut"),
                               PLATFORM_APP_SECRET)
    assert stranger.json()["unrouted"] == 1  # counted (simptu_channel_unrouted_total), kept out
    forged = await meta.post(messenger_message(page, psid, "Salut"), "not-the-platform-app")
    assert forged.status_code == 403
    handshake = await meta.api.get("/v1/webhooks/meta", params={
        "hub.mode": "subscribe", "hub.verify_token": PLATFORM_VERIFY_TOKEN,
        "hub.challenge": "42"})
    assert handshake.text == "42"


async def test_an_id_another_tenant_registered_is_named_as_a_clash(
        db: asyncpg.Pool, core_settings: CoreSettings, meta: Meta) -> None:
    whatsapp = meta.channel(CLINIC, "whatsapp")
    index = RegistryIndex(OpenBaoTransit.from_settings(core_settings))
    claimed = Identifier("whatsapp", whatsapp.object_id,
                         await index.of("whatsapp", whatsapp.object_id))
    found = await clashes(db, TenantNames("pulse-fitness-timisoara"), [claimed])
    assert found == [f"WhatsApp phone number id {whatsapp.object_id} is already used by "
                     f"tenant {CLINIC}"]
    assert await clashes(db, TenantNames(CLINIC), [claimed]) == []
