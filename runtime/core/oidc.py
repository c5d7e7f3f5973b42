"""Checking OpenID Connect bearer tokens of the tenants' realms: discovery and signing keys
(JWKS) fetched over HTTP and cached in Redis; signature, issuer, audience, expiry and
not-before checked; the platform's roles read from `realm_access.roles`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import httpx
import jwt
import redis.asyncio as aioredis
from pydantic import BaseModel

from simptu.runtime.core.crypto.key_cache import ExpiringLRU

ROLES = ("platform-admin", "tenant-admin", "staff", "customer")
# Asymmetric algorithms only: a realm never shares a secret with the API.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
              "EdDSA")
KEY_PREFIX = "simptu:oidc"


class InvalidToken(Exception):
    """A bearer token that is not accepted; the message says why (safe to show the caller)."""


class OidcUnavailable(RuntimeError):
    """The issuer's discovery document or keys could not be fetched."""


class TokenClaims(BaseModel):
    """What the API needs of a verified access token."""

    subject: str
    issuer: str
    roles: frozenset[str]
    expires_at: dt.datetime
    username: str | None = None
    email: str | None = None

    def has_any(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)


def unverified_issuer(token: str) -> str:
    """The `iss` a token claims, read without checking it: only to find whose keys check it."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise InvalidToken(f"not a JWT: {error}") from None
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise InvalidToken("the token names no issuer")
    return issuer


def _issuer_key(kind: str, issuer: str) -> str:
    return f"{KEY_PREFIX}:{kind}:{hashlib.sha256(issuer.encode()).hexdigest()[:32]}"


class OidcVerifier:
    """Verifies access tokens of many issuers for one audience.

    Keys are cached in Redis for `cache_ttl` seconds, shared by every replica. A token signed
    by a key the cache does not know (the realm rotated its keys) refetches the keys once;
    refetches of one issuer are at most one per `refetch_interval` seconds across replicas,
    so tokens with made-up key ids cannot turn the API into a load on the issuer.
    """

    def __init__(self, redis: aioredis.Redis, http: httpx.AsyncClient, *, audience: str,
                 cache_ttl: int = 3600, refetch_interval: int = 30, leeway: int = 5,
                 verified_ttl: float = 30.0) -> None:
        self.redis = redis
        self.http = http
        self.audience = audience
        self.cache_ttl = cache_ttl
        self.refetch_interval = refetch_interval
        self.leeway = leeway
        self._parsed: dict[str, dict[str, jwt.PyJWK]] = {}  # raw JWKS text -> keys by kid
        # A client sends the same token with every request: a token verified in the last
        # `verified_ttl` seconds (and not expired since) is not checked again.
        self._verified: ExpiringLRU[tuple[str, bytes], TokenClaims] = ExpiringLRU(
            10_000, verified_ttl)
        self._issuers: ExpiringLRU[bytes, str] = ExpiringLRU(10_000, verified_ttl)

    def claimed_issuer(self, token: str) -> str:
        """`unverified_issuer`, remembered by the token's hash (never the token itself): parsing
        the JWT again for every request of a client cost as much as the rest of the routing."""
        seen = hashlib.sha256(token.encode()).digest()
        issuer = self._issuers.get(seen)
        if issuer is None:
            issuer = unverified_issuer(token)
            self._issuers.put(seen, issuer)
        return issuer

    async def verify(self, token: str, issuer: str) -> TokenClaims:
        """The token's claims if `issuer` signed it for our audience and it is valid now."""
        seen = (issuer, hashlib.sha256(token.encode()).digest())
        claims = self._verified.get(seen)
        if claims is not None and claims.expires_at > dt.datetime.now(dt.UTC):
            return claims
        claims = await self._verify(token, issuer)
        self._verified.put(seen, claims)
        return claims

    async def _verify(self, token: str, issuer: str) -> TokenClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidToken(f"not a JWT: {error}") from None
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ALGORITHMS:
            raise InvalidToken(f"algorithm {algorithm!r} is not accepted")
        key = (await self._keys(issuer)).get(str(kid))
        if key is None and await self._may_refetch(issuer):
            key = (await self._keys(issuer, refresh=True)).get(str(kid))
        if key is None:
            raise InvalidToken("the token is signed by a key its issuer does not publish")
        try:
            payload = jwt.decode(token, key, algorithms=[algorithm], audience=self.audience,
                                 issuer=issuer, leeway=self.leeway,
                                 options={"require": ["aud", "iss", "exp", "iat", "sub"]})
        except jwt.PyJWTError as error:
            raise InvalidToken(f"token refused: {error}") from None
        return _claims(payload)

    async def _may_refetch(self, issuer: str) -> bool:
        return bool(await self.redis.set(_issuer_key("refetch", issuer), "1",
                                         ex=self.refetch_interval, nx=True))

    async def _keys(self, issuer: str, *, refresh: bool = False) -> dict[str, jwt.PyJWK]:
        cache_key = _issuer_key("jwks", issuer)
        raw = None if refresh else await self.redis.get(cache_key)
        if raw is None:
            raw = await self._fetch_jwks(issuer)
            await self.redis.set(cache_key, raw, ex=self.cache_ttl)
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        if text not in self._parsed:
            self._parsed = {text: _parse_jwks(text)}  # one key set per issuer is hot at a time
        return self._parsed[text]

    async def _fetch_jwks(self, issuer: str) -> str:
        discovery = await self._get_json(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
        if discovery.get("issuer") != issuer:
            raise OidcUnavailable(f"{issuer} publishes a discovery document of another issuer")
        jwks = await self._get_json(str(discovery["jwks_uri"]))
        return json.dumps(jwks)

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            answer = await self.http.get(url)
            answer.raise_for_status()
            body = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            raise OidcUnavailable(f"could not fetch {url}: {error}") from error
        if not isinstance(body, dict):
            raise OidcUnavailable(f"{url} did not answer a JSON object")
        return body


def _parse_jwks(text: str) -> dict[str, jwt.PyJWK]:
    keys: dict[str, jwt.PyJWK] = {}
    for entry in json.loads(text).get("keys", []):
        if entry.get("use", "sig") != "sig" or "kid" not in entry:
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            continue  # a key type we cannot use (e.g. an encryption-only key): skip it
    return keys


def _claims(claims: dict[str, Any]) -> TokenClaims:
    realm_roles = (claims.get("realm_access") or {}).get("roles") or []
    return TokenClaims(
        subject=claims["sub"], issuer=claims["iss"],
        roles=frozenset(role for role in realm_roles if role in ROLES),
        expires_at=dt.datetime.fromtimestamp(claims["exp"], dt.UTC),
        username=claims.get("preferred_username"), email=claims.get("email"))
