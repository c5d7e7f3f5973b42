"""The claim checks of runtime/core/oidc.py, with tokens of a test issuer of our own (its
discovery and keys served by an in-process HTTP handler; the key cache is the real Redis):
expiry, not-before, issuer, algorithm and required claims."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
import redis.asyncio as aioredis
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from simptu.runtime.core.oidc import InvalidToken, OidcVerifier

AUDIENCE = "simptu-api"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = "test-key"


@pytest.fixture
def issuer() -> str:
    return f"https://issuer-{uuid.uuid4().hex[:8]}.test/realms/tenant"


@pytest.fixture
async def verifier(redis_client: aioredis.Redis, issuer: str) -> AsyncIterator[OidcVerifier]:
    jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key())) | {"kid": KID, "use": "sig",
                                                               "alg": "RS256"}

    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(200, json={"issuer": issuer, "jwks_uri": f"{issuer}/certs"})
        return httpx.Response(200, json={"keys": [jwk]})

    async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as http:
        yield OidcVerifier(redis_client, http, audience=AUDIENCE, leeway=5)


def token(issuer: str, **changes: Any) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {"iss": issuer, "aud": AUDIENCE, "sub": "user-1", "iat": now,
              "exp": now + dt.timedelta(minutes=5),
              "realm_access": {"roles": ["staff", "offline_access", "default-roles-x"]}}
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, KEY,
                      algorithm="RS256", headers={"kid": KID})


async def test_a_valid_token_keeps_only_the_platforms_roles(verifier: OidcVerifier,
                                                            issuer: str) -> None:
    claims = await verifier.verify(token(issuer), issuer)
    assert claims.roles == {"staff"}
    assert claims.subject == "user-1"


async def test_an_expired_token_is_refused(verifier: OidcVerifier, issuer: str) -> None:
    expired = token(issuer, exp=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    with pytest.raises(InvalidToken, match="expired"):
        await verifier.verify(expired, issuer)


async def test_a_token_not_valid_yet_is_refused(verifier: OidcVerifier, issuer: str) -> None:
    early = token(issuer, nbf=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    with pytest.raises(InvalidToken, match="not yet valid"):
        await verifier.verify(early, issuer)


async def test_a_token_naming_another_issuer_is_refused(verifier: OidcVerifier,
                                                        issuer: str) -> None:
    with pytest.raises(InvalidToken, match="issuer"):
        await verifier.verify(token("https://elsewhere.test/realms/x"), issuer)


@pytest.mark.parametrize("missing", ["exp", "sub", "aud"])
async def test_a_token_without_a_required_claim_is_refused(verifier: OidcVerifier, issuer: str,
                                                           missing: str) -> None:
    with pytest.raises(InvalidToken, match=missing):
        await verifier.verify(token(issuer, **{missing: None}), issuer)


async def test_unsigned_and_symmetric_tokens_are_refused(verifier: OidcVerifier,
                                                         issuer: str) -> None:
    claims = jwt.decode(token(issuer), options={"verify_signature": False})
    payload = token(issuer).split(".")[1]
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","kid":"test-key"}').rstrip(b"=")
    unsigned = f"{none_header.decode()}.{payload}."
    symmetric = jwt.encode(claims, "a-shared-secret-guessed-by-someone!", algorithm="HS256",
                           headers={"kid": KID})
    for forged in (unsigned, symmetric):
        with pytest.raises(InvalidToken, match="algorithm"):
            await verifier.verify(forged, issuer)
