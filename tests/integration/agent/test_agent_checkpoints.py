"""Conversation checkpoints live in the tenant's own schema, owned by its role, and hold no
conversation text in clear: every blob is sealed with the tenant's data key."""

from __future__ import annotations

from typing import Any

import pytest

from simptu.runtime.agent.checkpoints import CIPHER_NAME
from simptu.runtime.core.database import TenantUnitOfWork
from tests.integration.agent.conftest import AgentTenant

pytestmark = pytest.mark.usefixtures("agent_worker")
NAME = "Ileana Cosânzeana"


async def test_checkpoints_are_in_the_tenants_schema_and_sealed(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    tenant = agent_tenants["gym"]
    conversation = await chat(tenant)
    await conversation.say(f"Vreau la yoga miercuri la 18, mă numesc {NAME}")
    proposal = await conversation.answer()
    assert NAME in proposal.text

    async with TenantUnitOfWork(conversation.pool, tenant.names) as conn:
        thread = str(conversation.session_id)
        blobs = await conn.fetch("SELECT type, blob FROM checkpoint_blobs WHERE thread_id = $1 "
                                 "AND blob IS NOT NULL", thread)
        writes = await conn.fetch("SELECT type, blob FROM checkpoint_writes "
                                  "WHERE thread_id = $1", thread)
        checkpoints = await conn.fetch("SELECT checkpoint::text AS checkpoint, metadata::text "
                                       "AS metadata FROM checkpoints WHERE thread_id = $1",
                                       thread)
        owner = await conn.fetchval("SELECT tableowner FROM pg_tables WHERE schemaname = $1 "
                                    "AND tablename = 'checkpoints'", tenant.names.schema)

    assert owner == tenant.names.role
    assert blobs
    assert writes
    assert checkpoints
    assert all(row["type"].endswith(f"+{CIPHER_NAME}") for row in [*blobs, *writes])
    stored = b"".join(row["blob"] for row in [*blobs, *writes]) + "".join(
        row["checkpoint"] + row["metadata"] for row in checkpoints).encode()
    for clear in (NAME.encode(), "Cosânzeana".encode(), b"yoga", b"miercuri"):
        assert clear not in stored
