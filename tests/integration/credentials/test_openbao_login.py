"""A tenant's agent pod logs in to OpenBao with its own projected ServiceAccount token and can
use its own transit key only; no OpenBao token is anywhere in its namespace; tokens for another
audience or ServiceAccount are refused; the shared runtimes' and the operator's AppRoles can do
what they need and no more; a removed tenant's role no longer logs anyone in."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import hvac
import pytest
import redis.asyncio as aioredis
import yaml
from kubernetes import client as k8s

from simptu.devstack.envfile import StackEnv
from simptu.operator import vault
from simptu.runtime.core.crypto import BaoLogin, BaoSession, KeyStoreError, OpenBaoTransit
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.credentials.redis_acl_pods import ready_agent_pod, run_in_pod

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "tenants"
DEMO = [yaml.safe_load(path.read_text())["metadata"]["name"]
        for path in sorted(EXAMPLES.glob("*.yaml"))]
PLAINTEXT = base64.b64encode(b"only mine").decode()

# Run inside the agent's pod: log in as the agent does (its settings, its token file), then
# try its own key and another tenant's; prints what OpenBao answered to each.
IN_POD = """
import asyncio, base64, json, sys
import hvac
from simptu.runtime.core.crypto import OpenBaoTransit
from simptu.runtime.core.settings import CoreSettings

other = sys.argv[1]
settings = CoreSettings()
transit = OpenBaoTransit.from_settings(settings)
client = transit.session.fresh()
own = settings.bao_role
plaintext = base64.b64encode(b"only mine").decode()
sealed = client.secrets.transit.encrypt_data(name=own, plaintext=plaintext)
opened = client.secrets.transit.decrypt_data(name=own, ciphertext=sealed["data"]["ciphertext"])
wrapped = asyncio.run(transit.generate_data_key(own))
refused = {}
for name, call in {
        "encrypt": lambda: client.secrets.transit.encrypt_data(name=other, plaintext=plaintext),
        "decrypt": lambda: client.secrets.transit.decrypt_data(
            name=other, ciphertext=sealed["data"]["ciphertext"]),
        "datakey": lambda: client.secrets.transit.generate_data_key(
            name=other, key_type="wrapped"),
        "read": lambda: client.secrets.transit.read_key(name=other),
        "policy": lambda: client.sys.read_policy(name=own),
        "login-as-other": lambda: hvac.Client(
            url=settings.bao_addr, token="").auth.kubernetes.login(
            role=other, jwt=open(settings.bao_jwt_file).read(),
            mount_point=settings.bao_auth_mount)}.items():
    try:
        call()
        refused[name] = None
    except hvac.exceptions.VaultError as error:
        refused[name] = [type(error).__name__, str(error)]
print(json.dumps({"auth": settings.bao_auth, "own_round_trip": opened["data"]["plaintext"]
                  == plaintext, "datakey": wrapped.startswith("vault:v"), "refused": refused}))
"""


@pytest.fixture
def root(stack: StackEnv) -> hvac.Client:
    """The stack's administrator (devstack's bootstrap token): the test's own look at OpenBao."""
    return hvac.Client(url=stack["BAO_ADDR"], token=stack["BAO_TOKEN"], timeout=10)


def _approle(stack: StackEnv, role_id: str, secret_id: str) -> BaoSession:
    return BaoSession(stack["BAO_ADDR"], BaoLogin(method="approle", mount="approle",
                                                  role_id=role_id, secret_id=secret_id))


def _service_account_token(kube: k8s.ApiClient, namespace: str, account: str,
                           audience: str) -> str:
    request = k8s.AuthenticationV1TokenRequest(spec=k8s.V1TokenRequestSpec(
        audiences=[audience], expiration_seconds=600))
    issued = k8s.CoreV1Api(kube).create_namespaced_service_account_token(account, namespace,
                                                                       request)
    return str(issued.status.token)


def test_an_agent_pod_uses_its_own_key_and_is_refused_another_tenant_s(
        stack: StackEnv, kube: k8s.ApiClient) -> None:
    mine, theirs = TenantNames(DEMO[0]), TenantNames(DEMO[1])
    pod = ready_agent_pod(kube, mine.slug)
    assert pod is not None
    found = run_in_pod(stack, pod, IN_POD, theirs.transit_key)
    assert found["auth"] == "kubernetes"
    assert found["own_round_trip"] is True
    assert found["datakey"] is True
    refused = found["refused"]
    for operation in ("encrypt", "decrypt", "datakey", "read", "policy"):
        assert refused[operation] is not None, operation
        assert refused[operation][0] == "Forbidden", refused[operation]
        assert "permission denied" in refused[operation][1], refused[operation]
    # Another tenant's role does not take this pod's token.
    assert refused["login-as-other"][0] == "Forbidden"
    assert "namespace not authorized" in refused["login-as-other"][1]


def test_tokens_of_another_audience_or_service_account_are_refused(
        stack: StackEnv, kube: k8s.ApiClient) -> None:
    mine = TenantNames(DEMO[0])
    login = hvac.Client(url=stack["BAO_ADDR"], token="", timeout=10).auth.kubernetes.login
    api_audience = _service_account_token(kube, mine.namespace, "agent", "https://kubernetes")
    with pytest.raises(hvac.exceptions.VaultError, match="audience"):
        login(role=mine.transit_key, jwt=api_audience)
    default_account = _service_account_token(kube, mine.namespace, "default", "openbao")
    with pytest.raises(hvac.exceptions.Forbidden, match="service account name not authorized"):
        login(role=mine.transit_key, jwt=default_account)
    # The right one, for contrast: the agent's account with OpenBao's audience.
    agent = _service_account_token(kube, mine.namespace, "agent", "openbao")
    assert login(role=mine.transit_key, jwt=agent)["auth"]["policies"] == [
        "default", mine.transit_key]


def _everything_in(kube: k8s.ApiClient, namespace: str) -> str:
    """Every Secret (decoded), ConfigMap and pod spec of the namespace, as one text."""
    core = k8s.CoreV1Api(kube)
    secrets = [{key: base64.b64decode(value).decode(errors="replace")
                for key, value in (secret.data or {}).items()}
               for secret in core.list_namespaced_secret(namespace).items]
    maps = [item.data for item in core.list_namespaced_config_map(namespace).items]
    pods = [kube.sanitize_for_serialization(pod.spec)
            for pod in core.list_namespaced_pod(namespace).items]
    return json.dumps([secrets, maps, pods])


def test_no_openbao_token_is_anywhere_in_a_tenant_s_namespace(
        stack: StackEnv, kube: k8s.ApiClient) -> None:
    for slug in DEMO:
        names = TenantNames(slug)
        text = _everything_in(kube, names.namespace)
        assert stack["BAO_TOKEN"] not in text
        assert "SIMPTU_BAO_TOKEN" not in text
        assert "SIMPTU_BAO_SECRET_ID" not in text
        pod = ready_agent_pod(kube, slug)
        assert pod is not None
        environment = run_in_pod(stack, pod, "import json, os; print(json.dumps(dict(os.environ)))")
        assert stack["BAO_TOKEN"] not in json.dumps(environment)
        assert not {"SIMPTU_BAO_TOKEN", "BAO_TOKEN", "VAULT_TOKEN"} & set(environment)
        assert environment["SIMPTU_BAO_AUTH"] == "kubernetes"


async def test_the_runtimes_approle_unwraps_every_tenant_s_keys_and_changes_none(
        stack: StackEnv) -> None:
    runtime = _approle(stack, stack["SIMPTU_BAO_ROLE_ID"], stack["SIMPTU_BAO_SECRET_ID"])
    admin = OpenBaoTransit(stack["BAO_ADDR"], stack["BAO_TOKEN"])
    keystore = OpenBaoTransit(stack["BAO_ADDR"], login=runtime.login)
    for slug in DEMO:
        key = TenantNames(slug).transit_key
        wrapped = await admin.generate_data_key(key)
        assert len(await keystore.unwrap(key, wrapped)) == 32
    key = TenantNames(DEMO[0]).transit_key
    for refused in (keystore.rotate_key(key), keystore.generate_data_key(key),
                    keystore.ensure_key("tenant-not-made-by-the-operator")):
        with pytest.raises(KeyStoreError, match="permission denied"):
            await refused
    with pytest.raises(hvac.exceptions.Forbidden):
        runtime.fresh().sys.read_policy(name=key)


def test_the_operator_s_approle_manages_tenants_policies_and_nothing_else(
        stack: StackEnv, root: hvac.Client) -> None:
    operator = _approle(stack, stack["SIMPTU_OPERATOR_BAO_ROLE_ID"],
                        stack["SIMPTU_OPERATOR_BAO_SECRET_ID"]).fresh()
    assert "simptu-operator" in operator.auth.token.lookup_self()["data"]["policies"]
    beyond_its_policy: list[Callable[[], object]] = [
        lambda: operator.sys.create_or_update_policy(name="simptu-runtime",
                                                     policy='path "*" {}'),
        lambda: operator.sys.read_policy(name="simptu-runtime"),
        lambda: operator.auth.approle.read_role_id("simptu-runtime"),
        lambda: operator.sys.enable_auth_method("userpass")]
    for forbidden in beyond_its_policy:
        with pytest.raises(hvac.exceptions.Forbidden):
            forbidden()


MakeTenant = Callable[..., Awaitable[TenantNames]]


@pytest.fixture
async def tenant_with_account(db: asyncpg.Pool, stack: StackEnv, redis_client: aioredis.Redis,
                              make_tenant: MakeTenant, kube: k8s.ApiClient,
                              ) -> AsyncIterator[tuple[TenantNames, vault.BaoAdmin]]:
    """A tenant with its namespace and agent ServiceAccount, provisioned in OpenBao by the
    operator's code logged in with the operator's own AppRole; shredded afterwards."""
    tenant = await make_tenant()
    core = k8s.CoreV1Api(kube)
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=tenant.namespace)))
    core.create_namespaced_service_account(tenant.namespace, k8s.V1ServiceAccount(
        metadata=k8s.V1ObjectMeta(name="agent")))
    session = _approle(stack, stack["SIMPTU_OPERATOR_BAO_ROLE_ID"],
                       stack["SIMPTU_OPERATOR_BAO_SECRET_ID"])
    admin = vault.BaoAdmin(session)
    keystore = OpenBaoTransit(stack["BAO_ADDR"], login=session.login)
    await vault.ensure(db, keystore, admin, tenant)
    try:
        yield tenant, admin
    finally:
        core.delete_namespace(tenant.namespace)
        await vault.remove(keystore, admin, redis_client, tenant, shred=True)


async def test_a_removed_tenant_s_role_and_policy_are_gone_and_its_agent_cannot_log_in(
        stack: StackEnv, kube: k8s.ApiClient, root: hvac.Client,
        redis_client: aioredis.Redis,
        tenant_with_account: tuple[TenantNames, vault.BaoAdmin]) -> None:
    tenant, admin = tenant_with_account
    jwt = _service_account_token(kube, tenant.namespace, "agent", "openbao")
    agent = hvac.Client(url=stack["BAO_ADDR"], token="", timeout=10)
    agent.auth.kubernetes.login(role=tenant.transit_key, jwt=jwt)
    role = root.auth.kubernetes.read_role(name=tenant.transit_key)
    assert role["token_ttl"] == 600
    assert role["audience"] == "openbao"
    keystore = OpenBaoTransit(stack["BAO_ADDR"], login=admin.session.login)

    await vault.remove(keystore, admin, redis_client, tenant, shred=False)  # Delete

    with pytest.raises(hvac.exceptions.InvalidRequest, match="invalid role name"):
        hvac.Client(url=stack["BAO_ADDR"], token="").auth.kubernetes.login(
            role=tenant.transit_key, jwt=jwt)
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.sys.read_policy(name=tenant.transit_key)
    # A token it got before holds no policy any more: its key is out of reach at once.
    with pytest.raises(hvac.exceptions.Forbidden):
        agent.secrets.transit.encrypt_data(name=tenant.transit_key, plaintext=PLAINTEXT)
