"""Bootstrap of OpenBao's Kubernetes auth method: agents log in with their ServiceAccount token,
and OpenBao checks it with the cluster's TokenReview API."""

from __future__ import annotations

import hvac

MOUNT = "kubernetes"


def enable_kubernetes_auth(admin: hvac.Client, kubernetes_host: str, ca_pem: str,
                           reviewer_jwt: str | None = None) -> None:
    """Enable and configure the method; idempotent. Inside the cluster OpenBao reviews tokens
    with its own ServiceAccount (`reviewer_jwt=None`); outside it needs a reviewer's token."""
    if f"{MOUNT}/" not in admin.sys.list_auth_methods()["data"]:
        admin.sys.enable_auth_method("kubernetes", path=MOUNT)
    admin.auth.kubernetes.configure(
        kubernetes_host=kubernetes_host, kubernetes_ca_cert=ca_pem,
        token_reviewer_jwt=reviewer_jwt, disable_local_ca_jwt=reviewer_jwt is not None,
        mount_point=MOUNT)
