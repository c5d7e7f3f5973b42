"""What the rating endpoints accept and answer."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field, model_validator


class RatingCreate(BaseModel):
    """A score for a completed booking or a closed conversation (exactly one of them)."""

    booking_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000,
                                description="stored sealed; shown to staff")

    @model_validator(mode="after")
    def one_subject(self) -> RatingCreate:
        if (self.booking_id is None) == (self.session_id is None):
            raise ValueError("rate one thing: booking_id or session_id")
        return self


class Rating(BaseModel):
    id: uuid.UUID
    booking_id: uuid.UUID | None
    session_id: uuid.UUID | None
    service_id: uuid.UUID | None
    resource_id: uuid.UUID | None
    score: int
    comment: str | None
    created_at: dt.datetime


class ScoreSummary(BaseModel):
    count: int
    average: float | None = Field(description="mean score, two decimals; null without ratings")


class ServiceScore(ScoreSummary):
    service_id: uuid.UUID
    name: str


class StaffScore(ScoreSummary):
    resource_id: uuid.UUID
    name: str


class RatingSummary(BaseModel):
    services: list[ServiceScore]
    staff: list[StaffScore]
    conversations: ScoreSummary
