"""A rotated channel Secret takes effect at once: when a Secret a Tenant names changes in its
namespace, the tenant is converged again (its credentials copied, its identifiers checked)."""

from __future__ import annotations

from typing import Any

import kopf

from simptu.operator.handlers.on_change import converge_named
from simptu.operator.handlers.resource import GROUP, VERSION
from simptu.operator.tenant_spec import TenantSpec

NAMESPACE_PREFIX = "tenant-"


def _in_tenant_namespace(namespace: str | None, **_: Any) -> bool:
    return bool(namespace and namespace.startswith(NAMESPACE_PREFIX))


@kopf.on.event("", "v1", "secrets", when=_in_tenant_namespace)
async def secret_changed(type: str | None, name: str, namespace: str | None,
                         memo: kopf.Memo, **_: Any) -> None:
    # The first listing (type None) is what the operator saw before: the resume handler
    # converges every tenant then.
    if type not in ("ADDED", "MODIFIED") or namespace is None:
        return
    slug = namespace.removeprefix(NAMESPACE_PREFIX)
    tenant = await memo.platform.objects.get({"apiVersion": f"{GROUP}/{VERSION}",
                                              "kind": "Tenant", "metadata": {"name": slug}})
    if tenant is not None and name in TenantSpec.model_validate(tenant["spec"]).secret_names():
        await converge_named(memo, slug)
