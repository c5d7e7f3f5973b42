"""The knowledge base's answers: a page of entries, search hits (its errors become problem+json
in runtime/api/problems)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from simptu.runtime.core.knowledge import KnowledgeEntry, KnowledgeHit


class KnowledgePage(BaseModel):
    items: list[KnowledgeEntry]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null on the last page")


class KnowledgeHitList(BaseModel):
    items: list[KnowledgeHit] = Field(description="best first; empty when nothing answers")
