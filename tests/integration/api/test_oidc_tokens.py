"""OpenID Connect token checks (runtime/core/oidc.py) against the tenants' real realms:
signature, issuer and audience, roles, and the signing-key cache with its one refetch."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
import redis.asyncio as aioredis
from cryptography.hazmat.primitives.asymmetric import rsa

from simptu.devstack.demo_tokens import demo_token
from simptu.operator import keycloak
from simptu.runtime.core.oidc import InvalidToken, OidcVerifier
from tests.integration.api.conftest import ApiTenant, TokenFor

AUDIENCE = "simptu-api"


class FetchLog:
    """The URLs a verifier fetched, to see when it went to the issuer."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    async def __call__(self, request: httpx.Request) -> None:
        self.urls.append(str(request.url))

    def jwks_fetches(self) -> int:
        return sum("/certs" in url for url in self.urls)


@pytest.fixture
def fetches() -> FetchLog:
    return FetchLog()


@pytest.fixture
async def verifier(redis_client: aioredis.Redis, fetches: FetchLog,
                   api_tenants: tuple[ApiTenant, ApiTenant]) -> AsyncIterator[OidcVerifier]:
    """A verifier whose issuers' cached keys and refetch marks are cleared first."""
    for tenant in api_tenants:
        digest = hashlib.sha256(tenant.issuer.encode()).hexdigest()[:32]
        await redis_client.delete(f"simptu:oidc:jwks:{digest}", f"simptu:oidc:refetch:{digest}")
    async with httpx.AsyncClient(timeout=30, event_hooks={"request": [fetches]}) as http:
        yield OidcVerifier(redis_client, http, audience=AUDIENCE, refetch_interval=600)


def forged_token(issuer: str, kid: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    return jwt.encode({"iss": issuer, "aud": AUDIENCE, "sub": "intruder", "iat": now,
                       "exp": now + dt.timedelta(minutes=5),
                       "realm_access": {"roles": ["tenant-admin"]}},
                      key, algorithm="RS256", headers={"kid": kid})


async def test_a_realm_token_is_verified_with_its_roles(verifier: OidcVerifier,
                                                        tenant_a: ApiTenant,
                                                        token_for: TokenFor) -> None:
    claims = await verifier.verify(await token_for(tenant_a, "admin"), tenant_a.issuer)
    assert claims.issuer == tenant_a.issuer
    assert claims.roles == {"tenant-admin"}
    assert claims.username == "admin"
    assert claims.expires_at > dt.datetime.now(dt.UTC)


async def test_keys_are_fetched_once_then_cached(verifier: OidcVerifier, fetches: FetchLog,
                                                 tenant_a: ApiTenant,
                                                 token_for: TokenFor) -> None:
    token = await token_for(tenant_a, "staff")
    for _ in range(3):
        await verifier.verify(token, tenant_a.issuer)
    assert fetches.jwks_fetches() == 1


async def test_a_token_of_another_realm_is_refused(verifier: OidcVerifier, tenant_a: ApiTenant,
                                                   tenant_b: ApiTenant,
                                                   token_for: TokenFor) -> None:
    with pytest.raises(InvalidToken):
        await verifier.verify(await token_for(tenant_b, "admin"), tenant_a.issuer)


async def test_a_token_for_another_audience_is_refused(verifier: OidcVerifier,
                                                       tenant_a: ApiTenant) -> None:
    # admin-cli has no audience mapper: its tokens are not meant for the API.
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(f"{tenant_a.issuer}/protocol/openid-connect/token", data={
            "grant_type": "password", "client_id": "admin-cli", "username": "admin",
            "password": keycloak.DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    assert AUDIENCE not in str(jwt.decode(token, options={"verify_signature": False}).get("aud"))
    with pytest.raises(InvalidToken, match='"aud"'):
        await verifier.verify(token, tenant_a.issuer)


async def test_a_token_signed_by_an_unknown_key_is_refused_after_one_refetch(
        verifier: OidcVerifier, fetches: FetchLog, tenant_a: ApiTenant,
        token_for: TokenFor) -> None:
    await verifier.verify(await token_for(tenant_a, "staff"), tenant_a.issuer)
    assert fetches.jwks_fetches() == 1
    with pytest.raises(InvalidToken, match="does not publish"):
        await verifier.verify(forged_token(tenant_a.issuer, "forged-1"), tenant_a.issuer)
    assert fetches.jwks_fetches() == 2
    # Within the refetch interval more unknown keys cost the issuer nothing.
    with pytest.raises(InvalidToken, match="does not publish"):
        await verifier.verify(forged_token(tenant_a.issuer, "forged-2"), tenant_a.issuer)
    assert fetches.jwks_fetches() == 2


async def test_a_forged_token_with_a_published_key_id_is_refused(
        verifier: OidcVerifier, tenant_a: ApiTenant, token_for: TokenFor) -> None:
    real_kid = jwt.get_unverified_header(await token_for(tenant_a, "staff"))["kid"]
    with pytest.raises(InvalidToken, match="Signature"):
        await verifier.verify(forged_token(tenant_a.issuer, real_kid), tenant_a.issuer)


async def test_a_token_of_a_rotated_realm_key_is_accepted_after_one_refetch(
        verifier: OidcVerifier, fetches: FetchLog, tenant_b: ApiTenant,
        keycloak_admin_client: keycloak.KeycloakAdmin) -> None:
    async def staff_token() -> str:
        # Fresh each time: a cached token would be signed by the old key.
        async with httpx.AsyncClient(timeout=30) as http:
            return str((await demo_token(http, tenant_b.issuer, "staff"))["access_token"])

    old = await staff_token()
    await verifier.verify(old, tenant_b.issuer)
    realm = (await keycloak_admin_client.request("GET", f"/{tenant_b.slug}")).json()
    added = await keycloak_admin_client.request("POST", f"/{tenant_b.slug}/components", json={
        "name": "rotated-rsa", "providerId": "rsa-generated", "parentId": realm["id"],
        "providerType": "org.keycloak.keys.KeyProvider",
        "config": {"priority": ["1000"], "keySize": ["2048"], "algorithm": ["RS256"]}})
    assert added.status_code == 201, added.text
    new = await staff_token()
    assert jwt.get_unverified_header(new)["kid"] != jwt.get_unverified_header(old)["kid"]
    claims = await verifier.verify(new, tenant_b.issuer)
    assert claims.roles == {"staff"}
    assert fetches.jwks_fetches() == 2


async def test_the_claimed_issuer_is_remembered_and_garbage_refused_every_time(
        verifier: OidcVerifier, tenant_a: ApiTenant) -> None:
    token = forged_token(tenant_a.issuer, "any")
    assert verifier.claimed_issuer(token) == verifier.claimed_issuer(token) == tenant_a.issuer
    for _ in range(2):
        with pytest.raises(InvalidToken):
            verifier.claimed_issuer("not.a.jwt")
