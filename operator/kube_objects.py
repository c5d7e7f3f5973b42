"""Kubernetes objects as plain dicts: server-side apply, read and delete through one dynamic
client, so the API server's discovery happens once, not on every reconcile."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from kubernetes import client as k8s
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError, UnprocessibleEntityError

FIELD_MANAGER = "simptu-operator"


def _strategy_type(body: dict[str, Any]) -> str | None:
    """The strategy type a Deployment's body asks for (None for other objects)."""
    if body["kind"] != "Deployment":
        return None
    strategy = (body.get("spec") or {}).get("strategy") or {}
    kind = strategy.get("type")
    return str(kind) if kind else None


class KubeObjects:
    def __init__(self, api: k8s.ApiClient) -> None:
        self.dynamic = DynamicClient(api)  # discovers the API server's resources, once

    @classmethod
    async def connect(cls, api: k8s.ApiClient) -> KubeObjects:
        return await asyncio.to_thread(cls, api)

    def _resource(self, api_version: str, kind: str) -> Any:
        return self.dynamic.resources.get(api_version=api_version, kind=kind)

    def _apply(self, body: dict[str, Any]) -> None:
        meta = body["metadata"]
        resource = self._resource(body["apiVersion"], body["kind"])
        try:
            self.dynamic.server_side_apply(
                resource, body=body, name=meta["name"], namespace=meta.get("namespace"),
                field_manager=FIELD_MANAGER, force_conflicts=True)
        except UnprocessibleEntityError as error:
            strategy = _strategy_type(body)
            if strategy is None or "spec.strategy.rollingUpdate" not in str(error.body):
                raise
            # A live Deployment's strategy type cannot change by apply: its defaulted
            # `rollingUpdate` (owned by no manager) stays and Recreate refuses it. Change the
            # type with a merge patch that drops it, then apply again. Only on refusal: no GET
            # before every apply.
            self.dynamic.patch(
                resource, body={"spec": {"strategy": {"type": strategy, "rollingUpdate": None}}},
                name=meta["name"], namespace=meta.get("namespace"),
                content_type="application/merge-patch+json")
            self.dynamic.server_side_apply(
                resource, body=body, name=meta["name"], namespace=meta.get("namespace"),
                field_manager=FIELD_MANAGER, force_conflicts=True)

    def _get(self, body: dict[str, Any]) -> dict[str, Any] | None:
        meta = body["metadata"]
        try:
            found = self.dynamic.get(self._resource(body["apiVersion"], body["kind"]),
                                     name=meta["name"], namespace=meta.get("namespace"))
        except NotFoundError:
            return None
        return dict(found.to_dict())

    def _delete(self, body: dict[str, Any]) -> None:
        meta = body["metadata"]
        with contextlib.suppress(NotFoundError):  # already gone is what deleting asks for
            self.dynamic.delete(self._resource(body["apiVersion"], body["kind"]),
                                name=meta["name"], namespace=meta.get("namespace"))

    async def apply(self, bodies: list[dict[str, Any]]) -> None:
        """Server-side apply each object in order, owning the fields we set."""
        for body in bodies:
            await asyncio.to_thread(self._apply, body)

    async def get(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The live object named by `body` (apiVersion, kind, metadata), or None."""
        return await asyncio.to_thread(self._get, body)

    async def list_all(self, api_version: str, kind: str) -> list[dict[str, Any]]:
        """Every object of a cluster-scoped kind (or of every namespace)."""
        listed = await asyncio.to_thread(self.dynamic.get, self._resource(api_version, kind))
        return [dict(item) for item in listed.to_dict()["items"]]

    async def delete(self, bodies: list[dict[str, Any]]) -> None:
        for body in bodies:
            await asyncio.to_thread(self._delete, body)
