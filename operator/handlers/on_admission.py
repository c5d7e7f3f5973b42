"""The validating admission webhook: a Tenant that breaks a rule the schema cannot express is
refused before it is stored, with the reason in kubectl's error (rules in admission.py)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import kopf

from simptu.operator import spec_rules
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
    kopf.on.validate(GROUP, VERSION, PLURAL, id="field-values", operations=["CREATE", "UPDATE"],
                     ignore_failures=True)(valid_field_values)


async def valid_field_values(name: str, spec: kopf.Spec, **kwargs: Any) -> None:
    """Refuse what the schema let through but cannot work (spec_rules). An update is refused
    only for problems it brings: a Tenant stored before a rule existed can still be changed
    (its deletionPolicy, its finalizers) and deleted."""
    found = spec_rules.problems(name, spec)
    old = kwargs.get("old")  # the stored object, on UPDATE
    if found and old is not None:
        before = spec_rules.problems(name, old.get("spec") or {})
        found = [problem for problem in found if problem not in before]
    if found:
        raise kopf.AdmissionError("; ".join(found), code=422)


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
