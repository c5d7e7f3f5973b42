"""What a Tenant asks of its Keycloak realm, with and without the local stack's demo users."""

from __future__ import annotations

from simptu.operator.tenant_spec import TenantSpec

SPEC = TenantSpec.model_validate({"displayName": "Pulse Fitness", "businessType": "gym"})


def test_a_production_operator_ignores_the_demo_label() -> None:
    realm = SPEC.realm("pulse", demo=False, demo_users=True)
    assert not realm.demo_users
    assert not realm.direct_access_grants
    assert realm.password_policy == SPEC.auth.password_policy


def test_the_local_stack_gives_demo_users_only_to_labelled_tenants() -> None:
    labelled, plain = SPEC.realm("pulse", demo=True, demo_users=True), SPEC.realm("b", demo=True)
    assert labelled.demo_users
    assert labelled.password_policy == ""
    assert not plain.demo_users
    assert plain.password_policy == SPEC.auth.password_policy
    assert labelled.direct_access_grants
    assert plain.direct_access_grants
