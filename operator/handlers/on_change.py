"""Create, update, resume and the drift timer all converge the tenant the same way."""

from __future__ import annotations

import contextlib
from typing import Any

import kopf

from simptu.operator.handlers.resource import (
    GROUP,
    PLURAL,
    VERSION,
    forget_legacy_kopf_storage,
    write_status,
)
from simptu.operator.metrics import TENANTS_BY_PHASE
from simptu.operator.reconcile import reconcile


async def converge_tenant(body: kopf.Body, memo: kopf.Memo, name: str, drift: bool = False) -> None:
    outcome = await reconcile(memo.platform, dict(body), drift=drift)
    await write_status(memo.platform.kube, name, outcome.status)
    memo.phases[name] = outcome.status["phase"]
    for phase in {"Pending", "Provisioning", "Ready", "Suspended", "Paused", "Failed"}:
        TENANTS_BY_PHASE.labels(phase=phase).set(
            sum(1 for p in memo.phases.values() if p == phase))
    if outcome.permanent:
        raise kopf.PermanentError(outcome.status["lastError"])
    if outcome.failed:
        raise kopf.TemporaryError(outcome.status["lastError"], delay=10)


async def converge_named(memo: kopf.Memo, slug: str) -> None:
    """Converge a tenant now, outside its own handlers (a changed Secret, a channel fault);
    a failure is in its status already, and its own handlers retry."""
    tenant = await memo.platform.objects.get({"apiVersion": f"{GROUP}/{VERSION}",
                                              "kind": "Tenant", "metadata": {"name": slug}})
    if tenant is None or tenant["metadata"].get("deletionTimestamp"):
        return
    with contextlib.suppress(kopf.TemporaryError, kopf.PermanentError):
        await converge_tenant(kopf.Body(tenant), memo, slug, drift=True)


@kopf.on.resume(GROUP, VERSION, PLURAL, retries=30, backoff=10, timeout=3600)
@kopf.on.create(GROUP, VERSION, PLURAL, retries=30, backoff=10, timeout=3600)
@kopf.on.update(GROUP, VERSION, PLURAL, retries=30, backoff=10, timeout=3600)
async def converge(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, name: str,
                   **_: Any) -> None:
    forget_legacy_kopf_storage(body, patch)
    await converge_tenant(body, memo, name)


def register_drift_timer(interval: float) -> None:
    """The drift timer at the operator's interval (a setting, known once it starts)."""
    kopf.timer(GROUP, VERSION, PLURAL, id="repair_drift", interval=interval,
               initial_delay=interval)(repair_drift)


async def repair_drift(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, name: str,
                       **_: Any) -> None:
    """Level-based repair: whatever was removed or changed by hand is put back."""
    forget_legacy_kopf_storage(body, patch)
    # A failure is reported in status and Events already; the next tick tries again.
    with contextlib.suppress(kopf.TemporaryError):
        await converge_tenant(body, memo, name, drift=True)
