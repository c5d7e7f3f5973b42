"""charts/simptu installed with `helm install` on the stack's own node, into a fresh namespace,
pointed at the stack's Postgres, Redis, Kafka, OpenBao and Keycloak (local-values.yaml says what
differs from production and why): its Deployments become Available, its admission webhook
refuses a bad Tenant (kube-apiserver calls it through its Service), its operator makes a new
Tenant Ready, a guest chats through its Ingress (traefik, ingress.py) to its API and WS hub,
`helm upgrade` rolls its pods, and `helm uninstall` keeps the CRDs, the Tenant and the Tenant's
data.

The tests share one release (conftest's `release`) and run in file order (install, webhook,
tenant, chat, upgrade, uninstall); it is removed afterwards, whatever failed."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from simptu.devstack.envfile import StackEnv
from simptu.operator.workloads import host_port
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.ws.phoenix_driver import PhoenixDriver, node_client_dir

from .ingress import IngressController
from .release import LocalRelease, rolled_out

ORIGIN = "https://chart-install.example"
WAIT = 300.0  # seconds any one step may take on a loaded 2-core machine; a failure, not a goal


@pytest.fixture(scope="module")
def ingress(release: LocalRelease) -> Iterator[IngressController]:
    controller = IngressController(release)
    try:
        controller.start(time.monotonic() + WAIT)
        yield controller
    finally:
        controller.stop()


def _free_slug(release: LocalRelease) -> str:
    """A tenant name whose agent's node port (from its slug) no running agent holds."""
    pods = json.loads(release.kubectl("get", "pods", "--all-namespaces", "-l",
                                      "app.kubernetes.io/name=agent", "-o", "json"))["items"]
    taken = {port.get("hostPort") for pod in pods for container in pod["spec"]["containers"]
             for port in container.get("ports") or []}
    while True:
        slug = f"chart-{uuid.uuid4().hex[:8]}"
        if host_port(slug) not in taken:
            return slug


def _tenant(release: LocalRelease, slug: str) -> dict[str, Any]:
    return json.loads(release.kubectl("get", "tenant", slug, "-o", "json"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def tenant(release: LocalRelease) -> Iterator[str]:
    """A Tenant applied once the chart runs (its data is kept when the Tenant goes: the test
    checks that after `helm uninstall`); deleted with its data afterwards, by whichever operator
    then leads."""
    slug = _free_slug(release)
    release.wait_leading(time.monotonic() + WAIT)
    release.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "simptu.io/v1alpha1", "kind": "Tenant", "metadata": {"name": slug},
        "spec": {"displayName": "Chart install gym", "businessType": "gym", "locale": "ro",
                 "deletionPolicy": "Retain",
                 "channels": {"web": {"allowedOrigins": [ORIGIN]}}}}))
    try:
        yield slug
    finally:
        release.kubectl("patch", "tenant", slug, "--type=merge", "-p",
                        '{"spec": {"deletionPolicy": "Delete"}}')
        release.kubectl("delete", "tenant", slug, "--ignore-not-found", "--wait=true",
                        f"--timeout={int(WAIT)}s", timeout=WAIT + 30)


def test_helm_install_makes_every_deployment_available(release: LocalRelease) -> None:
    deployments = {d["metadata"]["name"]: d for d in release.deployments()}
    assert sorted(deployments) == sorted(f"{release.fullname}-{component}"
                                         for component in ("api", "operator", "relay", "ws"))
    assert all(rolled_out(d) for d in deployments.values()), release.pods_report()
    for pod in release.pods():
        [container] = pod["spec"]["containers"]
        assert container["image"].startswith("simptu.local/simptu:")
        assert pod["spec"]["hostNetwork"] is True


def test_a_bad_tenant_is_refused_by_the_charts_webhook_with_its_message(
        release: LocalRelease) -> None:
    # The chart's configuration calls the chart's operator, through its Service (the stack's
    # `tenants.simptu.io` calls the stack's operator, which refuses it too).
    configuration = json.loads(release.kubectl(
        "get", "validatingwebhookconfiguration", release.webhook_configuration, "-o", "json"))
    assert {w["clientConfig"]["service"]["namespace"] for w in configuration["webhooks"]} == {
        release.namespace}
    slug = f"chart-{uuid.uuid4().hex[:8]}"
    bad = {"apiVersion": "simptu.io/v1alpha1", "kind": "Tenant", "metadata": {"name": slug},
           "spec": {"displayName": "Chart install gym", "businessType": "gym",
                    "timezone": "Mars/Olympus_Mons"}}
    deadline = time.monotonic() + WAIT
    while True:
        with pytest.raises(RuntimeError) as refused:  # a dry run: the webhooks, no Tenant
            release.kubectl("apply", "--dry-run=server", "-f", "-", stdin=json.dumps(bad))
        assert 'admission webhook "field-values.tenants.simptu.io" denied' in str(refused.value)
        assert "spec.timezone" in str(refused.value)
        # Both webhooks refuse it; the chart's operator logs its own refusal of this Tenant.
        # Until the operator pod's endpoint is listed, kube-apiserver skips the chart's webhook
        # (failurePolicy Ignore): then it is asked again.
        logs = release.kubectl("logs", "-n", release.namespace, release.operator_pod())
        if any(slug in line and "field-values" in line and "spec.timezone" in line
               for line in logs.splitlines()):
            return
        assert time.monotonic() < deadline, logs[-3000:]
        time.sleep(1)


def test_a_tenant_applied_afterwards_is_made_ready_by_the_charts_operator(
        release: LocalRelease, tenant: str) -> None:
    deadline = time.monotonic() + WAIT
    outranked = set(release.outranked_by())
    while (_tenant(release, tenant).get("status") or {}).get("phase") != "Ready":
        assert time.monotonic() < deadline, (_tenant(release, tenant).get("status"),
                                             release.pods_report())
        outranked |= set(release.outranked_by())
        time.sleep(1)
    outranked |= set(release.outranked_by())
    # The agent the operator stamped: the platform image, on the node's network.
    agent = json.loads(release.kubectl("get", "deployment", "agent", "-n",
                                       TenantNames(tenant).namespace, "-o", "json"))
    assert agent["spec"]["template"]["spec"]["hostNetwork"] is True
    # No operator of another test outranked the chart's meanwhile (`make test` runs one test at
    # a time): the Tenant is the chart operator's work, which its log names.
    assert not outranked, f"peers above the chart's operator led meanwhile: {outranked}"
    logs = release.kubectl("logs", "-n", release.namespace, release.operator_pod())
    assert f'"name": "{tenant}"' in logs


async def test_a_guest_gets_a_streamed_reply_through_the_charts_ingress(
        release: LocalRelease, tenant: str, ingress: IngressController) -> None:
    # The tenant by its host alone, as a page on <slug>.<baseDomain> asks: the Ingress sends /
    # to the API and /socket to the WS hub.
    host = release.tenant_host(tenant)
    async with httpx.AsyncClient(base_url=ingress.url, timeout=30) as api:
        answer = await api.post("/v1/chat/guest", json={"locale": "ro"},
                                headers={"Host": host, "Origin": ORIGIN})
    assert answer.status_code == 201, answer.text
    guest = answer.json()
    topic = f"chat:{guest['session_id']}"
    phoenix = await PhoenixDriver.start(node_client_dir())
    try:
        await phoenix.connect("page", f"ws://127.0.0.1:{ingress.port}/socket", guest["token"],
                              host=host)
        assert (await phoenix.join("page", topic))["status"] == "ok"
        sent = await phoenix.push("page", topic, "message",
                                  {"text": "Bună ziua!", "client_msg_id": uuid.uuid4().hex})
        assert sent["status"] == "ok", sent
        try:
            reply = await _reply(phoenix, sent["response"]["message_id"])
        except AssertionError as error:
            agent = release.kubectl("logs", "-n", TenantNames(tenant).namespace,
                                    "deploy/agent", "--tail=30")
            hub = release.kubectl("logs", "-n", release.namespace,
                                  f"deploy/{release.fullname}-ws", "--tail=30")
            raise AssertionError(f"{error}\nagent:\n{agent}\nhub:\n{hub}\n"
                                 f"traefik:\n{ingress.tail()}") from None
    finally:
        await phoenix.close()
    deltas = [d["delta"] for d in phoenix.events("page", "reply_delta")
              if d["message_id"] == reply["message_id"]]
    assert len(deltas) > 1
    assert "".join(deltas) == reply["text"]


async def _reply(phoenix: PhoenixDriver, message_id: str) -> dict[str, Any]:
    """The agent's whole reply to `message_id` (a new tenant's first turn is slow on a busy
    node: up to WAIT, in the driver's 30 s looks)."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            return await phoenix.event("page", "reply",
                                       lambda reply: reply["in_reply_to"] == message_id)
        except TimeoutError:
            if time.monotonic() > deadline:
                raise AssertionError(f"no reply to {message_id}; the page saw "
                                     f"{phoenix.seen[-10:]}") from None


def test_helm_upgrade_with_a_changed_value_rolls_the_pods(release: LocalRelease) -> None:
    before = {d["metadata"]["name"]: d for d in release.deployments()}
    old_pods = {p["metadata"]["name"] for p in release.pods()}
    release.upgrade({"api": {"logLevel": "DEBUG"}}, timeout=WAIT)  # the shared ConfigMap changes
    after = {d["metadata"]["name"]: d for d in release.deployments()}
    new_pods = release.pods()
    assert all(rolled_out(d) for d in after.values()), release.pods_report()
    for name, deployment in after.items():  # a new ReplicaSet each
        revision = "deployment.kubernetes.io/revision"
        assert (int(deployment["metadata"]["annotations"][revision])
                > int(before[name]["metadata"]["annotations"][revision]))
    assert new_pods
    assert not old_pods & {p["metadata"]["name"] for p in new_pods}


async def test_helm_uninstall_keeps_the_crds_the_tenant_and_its_data(
        release: LocalRelease, tenant: str, stack: StackEnv) -> None:
    await asyncio.to_thread(release.uninstall)
    assert release.deployments() == []
    release.kubectl("get", "crd", "tenants.simptu.io")
    assert _tenant(release, tenant)["metadata"]["name"] == tenant
    conn = await asyncpg.connect(stack.database_url)
    try:
        assert await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1",
                                   TenantNames(tenant).schema) == 1
    finally:
        await conn.close()
