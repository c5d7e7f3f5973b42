"""Deleting a Tenant, behind the operator's finalizer, by its deletion policy."""

from __future__ import annotations

from typing import Any

import kopf

from simptu.operator import deletion
from simptu.operator.handlers.resource import GROUP, PLURAL, VERSION, write_status
from simptu.operator.metrics import DELETIONS
from simptu.operator.reconcile import TRANSIENT
from simptu.runtime.core.tenancy import TenantNames


@kopf.on.delete(GROUP, VERSION, PLURAL, retries=None, backoff=10)
async def delete(spec: kopf.Spec, memo: kopf.Memo, name: str, **_: Any) -> None:
    policy = spec.get("deletionPolicy", "Retain")
    try:
        await deletion.delete(memo.platform, TenantNames(name), policy)
    except TRANSIENT as error:
        DELETIONS.labels(policy=policy, result="error").inc()
        message = f"deleting under {policy} failed, retrying: {type(error).__name__}: {error}"
        await write_status(memo.platform.kube, name, {"phase": "Deleting",
                                                      "lastError": message})
        raise kopf.TemporaryError(message, delay=10) from error
    memo.phases.pop(name, None)
    DELETIONS.labels(policy=policy, result="ok").inc()
