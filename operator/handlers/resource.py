"""The resource the handlers react to, and how they write its status."""

from __future__ import annotations

import asyncio
from typing import Any

from kubernetes import client as k8s

GROUP, VERSION, PLURAL = "simptu.io", "v1alpha1", "tenants"


async def write_status(api: k8s.ApiClient, name: str, status: dict[str, Any]) -> None:
    """Patch the Tenant's status subresource now (also when the handler then fails)."""
    objects = k8s.CustomObjectsApi(api)
    try:
        await asyncio.to_thread(objects.patch_cluster_custom_object_status, GROUP, VERSION,
                                PLURAL, name, {"status": status})
    except k8s.ApiException as error:
        if error.status != 404:  # deleted meanwhile: nothing to report on
            raise
