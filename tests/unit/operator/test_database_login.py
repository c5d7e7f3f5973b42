"""The agent's Postgres login: names no other tenant's role or login can have, a URL that keeps
the platform's address but not its credentials, and retirement only after the pods rolled."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Any

import pytest

from simptu.operator.database_login import AgentLogin, login_prefix, rolled_out, scram_verifier
from simptu.runtime.core.tenancy import TenantNames

LOGIN = AgentLogin(login="agent_zambet_dental_7", password="p@ss/wörd", rotation="",
                   issued_at=dt.datetime(2026, 12, 7, tzinfo=dt.UTC))


@pytest.mark.parametrize("slugs", [("a", "a-1"), ("x", "x-agent"), ("ab-c", "ab-c-d")])
def test_login_names_never_meet_a_tenant_role_or_another_tenants_login(
        slugs: tuple[str, str]) -> None:
    first, second = (TenantNames(slug) for slug in slugs)
    logins = {f"{login_prefix(first)}{n}" for n in range(1, 30)}
    assert not {f"{login_prefix(second)}{n}" for n in range(1, 30)} & logins
    assert not {first.role, second.role} & logins
    assert all(not login.startswith("t_") for login in logins)


def test_the_url_keeps_the_platforms_address_and_puts_the_login_in_it() -> None:
    url = LOGIN.url("postgresql://simptu:platform-secret@127.0.0.1:55432/simptu?sslmode=prefer")
    assert url == ("postgresql://agent_zambet_dental_7:p%40ss%2Fw%C3%B6rd@127.0.0.1:55432/"
                   "simptu?sslmode=prefer")
    assert "platform-secret" not in str(LOGIN.secret_data(url))


def test_the_verifier_is_postgres_scram_and_proves_the_password() -> None:
    method, rest = scram_verifier("s3cret").split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored, server = (base64.b64decode(part) for part in keys.split(":"))
    salted = hashlib.pbkdf2_hmac("sha256", b"s3cret", base64.b64decode(salt), int(iterations))
    assert method == "SCRAM-SHA-256"
    assert stored == hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    assert server == hmac.digest(salted, b"Server Key", "sha256")
    assert scram_verifier("s3cret") != scram_verifier("s3cret")  # a salt of its own each time


def _deployment(digest: str, generation: int, observed: int, updated: int,
                replicas: int) -> dict[str, Any]:
    return {"metadata": {"generation": generation},
            "spec": {"replicas": 1, "template": {"metadata": {
                "annotations": {"simptu.io/credentials": digest}}}},
            "status": {"observedGeneration": observed, "updatedReplicas": updated,
                       "replicas": replicas}}


def test_replaced_logins_stay_until_every_pod_runs_the_new_template() -> None:
    desired = _deployment("new", 0, 0, 0, 0)
    assert not rolled_out(None, desired)
    assert not rolled_out(_deployment("old", 3, 3, 1, 1), desired)
    assert not rolled_out(_deployment("new", 4, 3, 1, 1), desired)  # not seen by its controller
    assert not rolled_out(_deployment("new", 4, 4, 0, 0), desired)  # old pod gone, new not yet
    assert not rolled_out(_deployment("new", 4, 4, 1, 2), desired)  # an old pod still runs
    assert rolled_out(_deployment("new", 4, 4, 1, 1), desired)
