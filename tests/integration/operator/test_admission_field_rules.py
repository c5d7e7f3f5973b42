"""The webhook of `make up`'s operator, called by the real kube-apiserver, refuses every Tenant
whose fields the CRD schema let through but cannot work (a time zone on Mars, a phone number of
no country, ...), with a message naming the field; nothing of it is stored. The shipped examples
are still accepted."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
import yaml

from tests.unit.operator.test_spec_rules import INVALID

from .conftest import EXAMPLES, Kubectl, Manifest, Tenants


def _tenant(name: str, spec: dict[str, Any]) -> Manifest:
    """A Tenant with `spec`, completed with what the schema requires beside the wrong value
    (secretRefs, ids, model credentials), so that only the webhook can refuse it."""
    spec = copy.deepcopy(spec)
    channels = spec.get("channels") or {}
    for channel in ("whatsapp", "twilio"):
        if channel in channels:
            channels[channel]["secretRef"] = {"name": channel}
    if "whatsapp" in channels:
        channels["whatsapp"]["phoneNumberId"] = str(int(name[1:], 16))
    model = (spec.get("agent") or {}).get("model") or {}
    if model.get("provider", "local") != "local":
        spec["agent"]["credentialsSecretRef"] = {"name": "model"}
    return {"apiVersion": "simptu.io/v1alpha1", "kind": "Tenant", "metadata": {"name": name},
            "spec": {"displayName": "Zâmbet Dental Cluj", "businessType": "dental-clinic",
                     "deletionPolicy": "Delete", **spec}}


@pytest.mark.parametrize(("spec", "field"), [(spec, field) for _, spec, field in INVALID],
                         ids=[what for what, _, _ in INVALID])
def test_an_invalid_field_is_refused_by_the_webhook_with_its_name(
    tenants: Tenants, unique: str, spec: dict[str, Any], field: str
) -> None:
    refused = tenants.apply(_tenant(unique, spec), check=False)

    assert refused.returncode != 0, f"{spec} was accepted"
    assert 'admission webhook "field-values' in refused.stderr, refused.stderr
    assert field in refused.stderr
    assert "not found" in tenants.kubectl.run("get", "tenant", unique, check=False).stderr


def _renamed(example: Manifest, unique: str) -> Manifest:
    """An example under a name of its own, with identifiers no other Tenant claims."""
    tenant = copy.deepcopy(example)
    tenant["metadata"] = {"name": f"{unique}-{tenant['metadata']['name'][:20]}"}
    channels = tenant["spec"].get("channels") or {}
    digits = str(int(unique[1:], 16))
    for channel, field in (("whatsapp", "phoneNumberId"), ("messenger", "pageId"),
                           ("instagram", "accountId"), ("bookingCom", "propertyId")):
        if channel in channels:
            channels[channel][field] = digits
    if "twilio" in channels:  # a real Romanian mobile number, unique to this test
        number = f"+4074{int(digits) % 10**7:07d}"
        assert phonenumbers.is_valid_number(phonenumbers.parse(number))
        channels["twilio"]["phoneNumbers"] = [number]
    if "email" in channels:
        channels["email"]["addresses"] = [
            address.replace("@", f"@{unique}.") for address in channels["email"]["addresses"]]
    return tenant


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda path: path.stem)
def test_the_examples_are_accepted(kubectl: Kubectl, tenant_crd: str, unique: str,
                                   path: Path) -> None:
    for example in yaml.safe_load_all(path.read_text()):
        if example and example.get("kind") == "Tenant":
            tenant = _renamed(example, unique)
            # Server-side dry run: the API server validates and calls the webhook, stores nothing.
            done = kubectl.run("apply", "--dry-run=server", "-f", "-",
                               stdin=json.dumps(tenant), check=False)
            assert done.returncode == 0, done.stderr
