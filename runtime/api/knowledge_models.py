"""The knowledge base's answers (a page of entries, search hits) and its errors as
problem+json: a missing entry is 404, a question another entry already answers 409."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from simptu.runtime.api.problems import problem_response
from simptu.runtime.core.knowledge import (
    DuplicateQuestion,
    EntryNotFound,
    KnowledgeEntry,
    KnowledgeError,
    KnowledgeHit,
)


class KnowledgePage(BaseModel):
    items: list[KnowledgeEntry]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null on the last page")


class KnowledgeHitList(BaseModel):
    items: list[KnowledgeHit] = Field(description="best first; empty when nothing answers")


async def _knowledge_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KnowledgeError)
    status, kind = ((404, "not-found") if isinstance(exc, EntryNotFound)
                    else (409, "duplicate-question") if isinstance(exc, DuplicateQuestion)
                    else (422, "invalid-entry"))
    return problem_response(status, str(exc), kind=kind, instance=request.url.path)


def install_knowledge_problems(app: FastAPI) -> None:
    app.add_exception_handler(KnowledgeError, _knowledge_problem)
