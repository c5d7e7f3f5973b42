"""The platform's own access to OpenBao, written once by an administrator's token: the policies
of the shared runtimes and of the operator, and how they log in with them. AppRoles where they
run outside Kubernetes (the local stack); Kubernetes auth roles bound to their ServiceAccounts
on a cluster (the Helm chart). The root token is needed for this bootstrap only."""

from __future__ import annotations

from dataclasses import dataclass

import hvac

from simptu.vault.policies import (
    OPERATOR_POLICY,
    RUNTIME_POLICY,
    operator_policy,
    runtime_policy,
)

APPROLE = "approle"
# A platform process logs in again at 2/3 of this (runtime/core/crypto/bao_login.py).
PLATFORM_TOKEN_TTL = "1h"  # noqa: S105 - a duration


@dataclass(frozen=True)
class AppRoleLogin:
    role_id: str
    secret_id: str


def write_platform_policies(admin: hvac.Client, kubernetes_mount: str = "kubernetes") -> None:
    """`simptu-runtime` and `simptu-operator` (the operator's names `kubernetes_mount`, where
    it writes tenants' roles)."""
    admin.sys.create_or_update_policy(name=RUNTIME_POLICY, policy=runtime_policy())
    admin.sys.create_or_update_policy(name=OPERATOR_POLICY,
                                      policy=operator_policy(kubernetes_mount))


def ensure_approle(admin: hvac.Client, name: str, policy: str, mount: str = APPROLE) -> str:
    """Enable AppRole if needed and write the role `name` with `policy` alone; its role id."""
    if f"{mount}/" not in admin.sys.list_auth_methods()["data"]:
        admin.sys.enable_auth_method("approle", path=mount)
    admin.auth.approle.create_or_update_approle(
        name, token_policies=[policy], token_ttl=PLATFORM_TOKEN_TTL,
        token_max_ttl=PLATFORM_TOKEN_TTL, mount_point=mount)
    role_id: str = admin.auth.approle.read_role_id(name, mount_point=mount)["data"]["role_id"]
    return role_id


def new_secret_id(admin: hvac.Client, name: str, mount: str = APPROLE) -> str:
    secret_id: str = admin.auth.approle.generate_secret_id(
        name, mount_point=mount)["data"]["secret_id"]
    return secret_id


def logs_in(address: str, login: AppRoleLogin, mount: str = APPROLE) -> bool:
    """Whether OpenBao still takes these credentials (a state folder made again forgets them)."""
    try:
        hvac.Client(url=address, token="", timeout=5).auth.approle.login(
            role_id=login.role_id, secret_id=login.secret_id, mount_point=mount)
    except hvac.exceptions.VaultError:
        return False
    return True


def ensure_kubernetes_role(admin: hvac.Client, name: str, policy: str, *, namespace: str,
                           service_accounts: list[str], audience: str = "openbao",
                           mount: str = "kubernetes") -> None:
    """A Kubernetes auth role giving `policy` to these ServiceAccounts of `namespace` (the
    chart's runtimes or its operator), for tokens made for `audience`."""
    admin.auth.kubernetes.create_role(
        name=name, mount_point=mount, bound_service_account_names=service_accounts,
        bound_service_account_namespaces=[namespace], policies=[policy],
        ttl=PLATFORM_TOKEN_TTL, max_ttl=PLATFORM_TOKEN_TTL, audience=audience)
