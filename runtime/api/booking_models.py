"""What the booking endpoints accept and answer beyond the engine's own boundary models
(`Service`, `Resource`, `Slot`, `Booking`, `ServiceSpec`, `ResourceSpec`), which they reuse."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from simptu.runtime.core.bookings.models import MAX_NIGHTS, Booking, Resource, Service, Slot


class Body(BaseModel):
    # An unknown field is a typo the client should hear about, not silently ignore.
    model_config = ConfigDict(extra="forbid")


class BookingCreate(Body):
    """Book `service_id` on `resource_id` at `start` (a slot start from GET /v1/availability).
    A customer books for themself; staff and admins name the customer."""

    service_id: uuid.UUID
    resource_id: uuid.UUID
    start: AwareDatetime
    nights: int = Field(default=1, ge=1, le=MAX_NIGHTS,
                        description="for a night service, the nights of the stay")
    customer_id: uuid.UUID | None = Field(
        default=None, description="whom the booking is for; staff and admins only (a customer "
        "books for themself)")


class Versioned(Body):
    expected_version: int | None = Field(
        default=None, ge=1, description="refuse with 409 if the booking changed since this "
        "version was read")


class BookingReschedule(Versioned):
    start: AwareDatetime
    resource_id: uuid.UUID | None = Field(default=None,
                                          description="another resource; default the same")
    nights: int | None = Field(default=None, ge=1, le=MAX_NIGHTS)


class BookingCancel(Versioned):
    pass


class ClosedDay(Body):
    day: dt.date
    resource_id: uuid.UUID | None = Field(
        default=None, description="the resource that does not work that day; without one, "
        "the whole business is closed")
    reason: str = Field(default="", max_length=500)


class BookingPage(BaseModel):
    items: list[Booking]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null on the last page")


class ServiceList(BaseModel):
    items: list[Service]


class ResourceList(BaseModel):
    items: list[Resource]


class SlotList(BaseModel):
    items: list[Slot]
