"""The validating webhook of `make up`'s operator, called by the real kube-apiserver: a Tenant
claiming another Tenant's channel identifier is refused with the reason, and nothing is stored."""

from __future__ import annotations

from typing import Any

from kubernetes.client.exceptions import ApiException

from .conftest import Tenants


def _tenant(name: str, whatsapp: str, email: str) -> dict[str, Any]:
    return {"apiVersion": "simptu.io/v1alpha1", "kind": "Tenant", "metadata": {"name": name},
            "spec": {"displayName": name, "businessType": "dental-clinic",
                     "deletionPolicy": "Delete",
                     "channels": {"whatsapp": {"phoneNumberId": whatsapp,
                                               "secretRef": {"name": "whatsapp"}},
                                  "email": {"addresses": [email]}}}}


def _exists(tenants: Tenants, name: str) -> bool:
    try:
        tenants.get(name)
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    return True


def test_a_channel_identifier_of_another_tenant_is_refused_with_the_reason(
    tenants: Tenants, unique: str
) -> None:
    number = str(int(unique[1:], 16))  # digits only, unique to this test
    tenants.apply(_tenant(f"{unique}-first", number, f"desk@{unique}.example"))

    same_number = tenants.apply(_tenant(f"{unique}-second", number, f"x@{unique}.example"),
                                check=False)
    same_address = tenants.apply(
        _tenant(f"{unique}-third", number + "1", f"DESK@{unique.upper()}.example"), check=False)

    assert same_number.returncode != 0
    assert f"WhatsApp phone number id {number} is already used by Tenant {unique}-first" in (
        same_number.stderr)
    assert same_address.returncode != 0
    assert f"is already used by Tenant {unique}-first" in same_address.stderr
    assert not _exists(tenants, f"{unique}-second")
    assert not _exists(tenants, f"{unique}-third")


def test_a_tenant_may_keep_and_change_its_own_identifiers(tenants: Tenants, unique: str) -> None:
    number = str(int(unique[1:], 16))
    tenants.apply(_tenant(f"{unique}-own", number, f"desk@{unique}.example"))
    tenants.apply(_tenant(f"{unique}-own", number, f"front@{unique}.example"))
    assert tenants.get(f"{unique}-own")["spec"]["channels"]["email"]["addresses"] == [
        f"front@{unique}.example"]
