"""The resource the handlers react to, and how they write its status."""

from __future__ import annotations

import asyncio
from typing import Any

import kopf
from kubernetes import client as k8s

GROUP, VERSION, PLURAL = "simptu.io", "v1alpha1", "tenants"
# Kopf's progress and diff-base annotations. Kopf leaves annotations under its storage's prefix
# out of what counts as a change, and ours (pause, rotations) must count: a prefix of its own.
KOPF_PREFIX = "kopf.simptu.io"
# What earlier operators stored under our own prefix; while the marker is on a Tenant, Kopf
# ignores every `simptu.io/` annotation, so it is taken off at the next handling.
LEGACY_KOPF_KEYS = frozenset(f"simptu.io/{key}" for key in (
    "kopf-managed", "last-handled-configuration", "touch-dummy", "converge", "delete"))


def forget_legacy_kopf_storage(body: kopf.Body, patch: kopf.Patch) -> None:
    """Adds to Kopf's patch the removal of the Tenant's legacy Kopf annotations."""
    for key in LEGACY_KOPF_KEYS.intersection(body.metadata.annotations):
        patch.metadata.annotations[key] = None


async def write_status(api: k8s.ApiClient, name: str, status: dict[str, Any]) -> None:
    """Patch the Tenant's status subresource now (also when the handler then fails)."""
    objects = k8s.CustomObjectsApi(api)
    try:
        await asyncio.to_thread(objects.patch_cluster_custom_object_status, GROUP, VERSION,
                                PLURAL, name, {"status": status})
    except k8s.ApiException as error:
        if error.status != 404:  # deleted meanwhile: nothing to report on
            raise
