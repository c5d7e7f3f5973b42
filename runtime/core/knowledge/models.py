"""The knowledge base's boundary: what is written (a question and its answer in a language),
what is stored and what a search returns, as pydantic models separate from the table rows."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from simptu.runtime.core.language import Locale

# The languages the knowledge base indexes: each has its Postgres text-search configuration.
TEXT_SEARCH_CONFIGS: dict[Locale, str] = {"ro": "romanian", "en": "english"}

# Postgres text cannot hold a NUL character: refused here (422) rather than by the database.
NO_NUL = r"^[^\x00]*$"
Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=500, pattern=NO_NUL)]
Answer = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                          max_length=4000, pattern=NO_NUL)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KnowledgeEntrySpec(Frozen):
    """A question customers ask and the business's answer, in Romanian or English."""

    locale: Locale
    question: Question
    answer: Answer


class KnowledgeEntryChange(Frozen):
    """The fields of an entry to change; those left out keep their value."""

    locale: Locale | None = None
    question: Question | None = None
    answer: Answer | None = None


class KnowledgeEntry(Frozen):
    id: uuid.UUID
    locale: Locale
    question: str
    answer: str
    created_at: dt.datetime
    updated_at: dt.datetime


class KnowledgeHit(Frozen):
    """An entry that answers a query; `score` (higher is better, at most 1) blends how close
    its meaning is to the query's with how many of the query's words it contains."""

    entry_id: uuid.UUID
    locale: Locale
    question: str
    answer: str
    score: float
