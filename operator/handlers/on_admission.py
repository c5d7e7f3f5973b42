"""The validating admission webhook: a Tenant that breaks a rule the schema cannot express is
refused before it is stored, with the reason in kubectl's error (rules in admission.py)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import kopf

from simptu.operator.admission import channel_claims, clashes
from simptu.operator.handlers.resource import GROUP, PLURAL, VERSION
from simptu.operator.kube_objects import KubeObjects


def register() -> None:
    """Only an operator that serves the webhook registers its handlers: Kopf refuses to run
    with admission handlers and no server."""
    kopf.on.validate(GROUP, VERSION, PLURAL, id="channel-identifiers",
                     operations=["CREATE", "UPDATE"],
                     # While no replica answers, Tenants are still accepted (GitOps must not
                     # stall); the webhook is an early, friendly refusal.
                     ignore_failures=True)(unique_channel_identifiers)


async def unique_channel_identifiers(name: str, spec: kopf.Spec, memo: kopf.Memo,
                                     **_: Any) -> None:
    if not channel_claims(spec):
        return
    # Listed live, not from a watch: a replica paused by peering answers correctly too.
    found = clashes(name, spec, await _claim_owners(memo.platform.objects))
    if found:
        raise kopf.AdmissionError(
            "; ".join(found) + ". Each channel identifier routes messages to one tenant only.",
            code=422)


async def _claim_owners(objects: KubeObjects) -> dict[str, list[str]]:
    owners: dict[str, list[str]] = defaultdict(list)
    for tenant in await objects.list_all(f"{GROUP}/{VERSION}", "Tenant"):
        for claim in channel_claims(tenant.get("spec") or {}):
            owners[claim].append(tenant["metadata"]["name"])
    return owners
