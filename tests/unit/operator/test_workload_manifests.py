"""The objects a tenant's namespace gets, as the Tenant describes them."""

from __future__ import annotations

from typing import Any

from simptu.operator.tenant_spec import TenantSpec
from simptu.operator.workloads import (
    AgentPlatform,
    AgentSpec,
    SecretRef,
    manifests,
    owner_reference,
)

TENANT = {"metadata": {"name": "zambet-dental", "uid": "0b8f6a1e-5d6c-4a8e-9a43-3b5f1e2c7d90"}}


def _by_kind(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {obj["kind"]: obj for obj in objects}


def _spec(**changes: Any) -> AgentSpec:
    return AgentSpec(**{"slug": "zambet-dental", "business_type": "dental-clinic",
                        "image": "simptu/agent:test", **changes})


def test_everything_in_the_tenant_namespace_is_owned_by_the_tenant() -> None:
    objects = manifests(_spec(), owner_reference(TENANT))
    assert [o["kind"] for o in objects] == ["Namespace", "ServiceAccount", "ConfigMap",
                                            "ResourceQuota", "NetworkPolicy", "Deployment"]
    namespace, *inside = objects
    assert "ownerReferences" not in namespace["metadata"]  # Retain keeps it
    for obj in objects:
        assert obj["metadata"]["labels"]["simptu.io/tenant"] == "zambet-dental"
        assert obj["metadata"]["labels"]["simptu.io/business-type"] == "dental-clinic"
    for obj in inside:
        assert obj["metadata"]["ownerReferences"][0]["uid"] == TENANT["metadata"]["uid"]
        assert obj["metadata"]["namespace"] == "tenant-zambet-dental"


def test_the_agent_gets_its_topics_key_and_model_from_the_config_map() -> None:
    config = _by_kind(manifests(_spec(model_provider="openai", model_name="gpt-test"),
                                owner_reference(TENANT)))["ConfigMap"]["data"]
    assert config["SIMPTU_INBOUND_TOPIC"] == "simptu.zambet-dental.inbound"
    assert config["SIMPTU_TRANSIT_KEY"] == "tenant-zambet-dental"
    assert (config["SIMPTU_MODEL_PROVIDER"], config["SIMPTU_MODEL_NAME"]) == ("openai", "gpt-test")


def test_suspending_scales_the_agent_to_zero() -> None:
    running = _by_kind(manifests(_spec(replicas=3), owner_reference(TENANT)))["Deployment"]
    suspended = _by_kind(manifests(_spec(replicas=3, suspended=True),
                                   owner_reference(TENANT)))["Deployment"]
    assert running["spec"]["replicas"] == 3
    assert suspended["spec"]["replicas"] == 0


def test_model_credentials_come_from_the_named_secret_only() -> None:
    plain = _by_kind(manifests(_spec(), owner_reference(TENANT)))["Deployment"]
    assert plain["spec"]["template"]["spec"]["containers"][0]["env"] == []
    with_secret = _by_kind(manifests(_spec(credentials=SecretRef("openai-key", "token")),
                                     owner_reference(TENANT)))["Deployment"]
    env = with_secret["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "SIMPTU_MODEL_CREDENTIALS", "valueFrom": {
        "secretKeyRef": {"name": "openai-key", "key": "token"}}}]


def test_the_agent_container_runs_locked_down() -> None:
    deployment = _by_kind(manifests(_spec(), owner_reference(TENANT)))["Deployment"]
    context = deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}


def test_every_secret_a_tenant_names_is_known_to_the_operator() -> None:
    spec = TenantSpec.model_validate({
        "displayName": "Hotel", "businessType": "hotel",
        "agent": {"model": {"provider": "bedrock"}, "credentialsSecretRef": {"name": "bedrock"}},
        "channels": {"web": {"allowedOrigins": ["https://h.example"]},
                     "email": {"addresses": ["a@h.example"]},
                     "bookingCom": {"propertyId": "1", "secretRef": {"name": "booking-com"}}}})
    assert spec.secret_names() == ("bedrock", "booking-com")
    assert spec.workload("hotel", "img").secrets == ("bedrock", "booking-com")


def test_the_agent_deployment_serves_its_own_tenant_only() -> None:
    deployment = _by_kind(manifests(_spec(), owner_reference(TENANT)))["Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["simptu.runtime.agent", "--tenant", "zambet-dental"]
    config = _by_kind(manifests(_spec(), owner_reference(TENANT)))["ConfigMap"]["data"]
    assert config["SIMPTU_AGENT_PORT"] == str(container["ports"][0]["containerPort"])


def test_the_registry_learns_the_agent_settings_but_never_a_credential() -> None:
    spec = TenantSpec.model_validate({
        "displayName": "Hotel", "businessType": "hotel",
        "agent": {"model": {"provider": "bedrock", "name": "anthropic.claude",
                            "region": "eu-central-1"},
                  "credentialsSecretRef": {"name": "bedrock", "key": "apiKey"},
                  "doubleTexting": "interrupt"}})
    registered = spec.agent.registered()
    assert registered.model_dump() == {
        "provider": "bedrock", "model": "anthropic.claude", "endpoint": None,
        "region": "eu-central-1", "credentials_secret": "bedrock",
        "double_texting": "interrupt"}


def test_double_texting_is_queued_unless_the_tenant_says_otherwise() -> None:
    spec = TenantSpec.model_validate({"displayName": "Gym", "businessType": "gym"})
    assert spec.agent.registered().double_texting == "enqueue"


def test_the_agent_gets_the_platform_settings_and_its_credentials_from_a_secret() -> None:
    platform = AgentPlatform(settings={"SIMPTU_KAFKA_BOOTSTRAP": "kafka:9092"},
                             credentials={"SIMPTU_DATABASE_URL": "postgresql://u:p@db/simptu"})
    objects = _by_kind(manifests(_spec(platform=platform), owner_reference(TENANT)))
    assert objects["ConfigMap"]["data"]["SIMPTU_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert "SIMPTU_DATABASE_URL" not in objects["ConfigMap"]["data"]
    assert objects["Secret"]["stringData"] == {"SIMPTU_DATABASE_URL": "postgresql://u:p@db/simptu"}
    container = objects["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert {"secretRef": {"name": "agent-platform"}} in container["envFrom"]
    assert container["imagePullPolicy"] == "IfNotPresent"


def test_on_the_host_network_each_tenant_has_its_own_port_and_pods_are_replaced() -> None:
    platform = AgentPlatform(host_network=True)
    ports = set()
    for slug in ("zambet-dental", "forta-gym", "hotel-carpati"):
        objects = _by_kind(manifests(_spec(slug=slug, platform=platform, replicas=2),
                                     owner_reference(TENANT)))
        pod = objects["Deployment"]["spec"]["template"]["spec"]
        port = pod["containers"][0]["ports"][0]["containerPort"]
        assert pod["hostNetwork"] is True
        assert objects["ConfigMap"]["data"]["SIMPTU_AGENT_PORT"] == str(port)
        assert pod["containers"][0]["readinessProbe"]["httpGet"]["port"] == port
        assert objects["Deployment"]["spec"]["strategy"] == {"type": "Recreate"}
        assert objects["Deployment"]["spec"]["replicas"] == 1  # one port, one node
        assert pod["containers"][0]["startupProbe"]["httpGet"]["port"] == port
        ports.add(port)
    assert len(ports) == 3


def test_an_agent_gets_resource_defaults_the_namespace_quota_admits() -> None:
    asked = {"limits": {"memory": "1Gi"}, "requests": {"cpu": "250m"}}
    for spec in (_spec(), _spec(resources=asked)):
        quota, deployment = (_by_kind(manifests(spec, owner_reference(TENANT)))[kind]
                             for kind in ("ResourceQuota", "Deployment"))
        resources = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]
        for scope in ("requests", "limits"):
            for what in ("cpu", "memory"):
                assert f"{scope}.{what}" in quota["spec"]["hard"]
                assert resources[scope][what]
    assert resources["limits"]["memory"] == "1Gi"
    assert resources["requests"]["cpu"] == "250m"
