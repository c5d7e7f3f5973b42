"""Short-lived session records in Redis (guest chat sessions, access-code sessions), per tenant,
expiring on their own and revocable."""

from __future__ import annotations

import secrets
from typing import Generic, TypeVar

import redis.asyncio as aioredis
from pydantic import BaseModel

from simptu.runtime.core.tenancy import TenantNames

Model = TypeVar("Model", bound=BaseModel)


class SessionStore(Generic[Model]):
    """Sessions of one kind (`kind`) for one tenant, stored as JSON under an unguessable id."""

    def __init__(self, redis: aioredis.Redis, tenant: TenantNames, kind: str,
                 model: type[Model], ttl: int) -> None:
        self.redis = redis
        self.tenant = tenant
        self.kind = kind
        self.model = model
        self.ttl = ttl

    def _key(self, session_id: str) -> str:
        return f"simptu:session:{{{self.tenant.slug}}}:{self.kind}:{session_id}"

    async def create(self, value: Model) -> str:
        session_id = secrets.token_urlsafe(24)
        await self.redis.set(self._key(session_id), value.model_dump_json(), ex=self.ttl, nx=True)
        return session_id

    async def get(self, session_id: str) -> Model | None:
        raw = await self.redis.get(self._key(session_id))
        return None if raw is None else self.model.model_validate_json(raw)

    async def touch(self, session_id: str) -> bool:
        """Extend a live session by its full TTL; False if it already expired."""
        return bool(await self.redis.expire(self._key(session_id), self.ttl))

    async def revoke(self, session_id: str) -> bool:
        return bool(await self.redis.delete(self._key(session_id)))
