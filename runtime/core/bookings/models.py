"""The booking engine's boundary: what callers send and get back, as pydantic models separate
from the table rows they are read from."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

ServiceKind = Literal["appointment", "night"]
ResourceKind = Literal["staff", "room", "class"]
BookingStatus = Literal["booked", "cancelled", "completed"]

# A stay longer than this is not a hotel booking but a lease.
MAX_NIGHTS = 60
# A service's texts in the customers' languages: a two-letter locale → its name or description.
LocaleKey = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
LocalNames = dict[LocaleKey, Annotated[str, StringConstraints(min_length=1, max_length=200)]]
LocalDescriptions = dict[LocaleKey, Annotated[str, StringConstraints(max_length=2000)]]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Service(Frozen):
    """Something the business sells: an appointment of a fixed length, or a hotel night.
    `names` and `descriptions` say it in the customers' languages; `name` is its name in the
    catalogue (and in any language `names` leaves out)."""

    id: uuid.UUID
    name: str
    description: str = ""
    names: LocalNames = Field(default_factory=dict)
    descriptions: LocalDescriptions = Field(default_factory=dict)
    kind: ServiceKind = "appointment"
    duration_minutes: int
    buffer_minutes: int = 0
    price: Decimal
    currency: str
    check_in: dt.time | None = None
    check_out: dt.time | None = None

    def name_in(self, locale: str) -> str:
        """The service's name in `locale`, or its catalogue name when it has none there."""
        return self.names.get(locale, self.name)


class OpeningHours(Frozen):
    """Open on ISO `weekday` (1 = Monday) from `opens` to `closes`, tenant-local time."""

    weekday: int = Field(ge=1, le=7)
    opens: dt.time
    closes: dt.time

    @model_validator(mode="after")
    def _opens_before_it_closes(self) -> OpeningHours:
        if self.opens >= self.closes:
            raise ValueError(f"opens at {self.opens} but closes at {self.closes}")
        return self


class Resource(Frozen):
    """Who or what is booked: a staff member or room (one customer at a time) or a class,
    with the services it offers and its weekly hours (a class: its weekly sessions)."""

    id: uuid.UUID
    name: str
    kind: ResourceKind
    capacity: int
    service_ids: list[uuid.UUID] = Field(default_factory=list)
    hours: list[OpeningHours] = Field(default_factory=list)


class Slot(Frozen):
    """A free start for a service on a resource; `places_left` matters for classes."""

    service_id: uuid.UUID
    resource_id: uuid.UUID
    start: AwareDatetime
    end: AwareDatetime
    places_left: int


class Booking(Frozen):
    id: uuid.UUID
    service_id: uuid.UUID
    resource_id: uuid.UUID
    customer_id: uuid.UUID
    start: AwareDatetime
    end: AwareDatetime
    status: BookingStatus
    version: int
    created_at: AwareDatetime
    updated_at: AwareDatetime


class BookingRequest(Frozen):
    """Book `service_id` on `resource_id` for a customer, starting at `start` (a slot start;
    for a hotel night service, the check-in time of the first night) for `nights` nights."""

    service_id: uuid.UUID
    resource_id: uuid.UUID
    customer_id: uuid.UUID
    start: AwareDatetime
    nights: int = Field(default=1, ge=1, le=MAX_NIGHTS)


class RescheduleRequest(Frozen):
    """Move a booking to `start` (on `resource_id`, if given, else the same resource).
    `expected_version` makes the change optimistic: it fails if the booking changed since."""

    booking_id: uuid.UUID
    start: AwareDatetime
    resource_id: uuid.UUID | None = None
    nights: int | None = Field(default=None, ge=1, le=MAX_NIGHTS)
    expected_version: int | None = Field(default=None, ge=1)


class CancelRequest(Frozen):
    booking_id: uuid.UUID
    expected_version: int | None = Field(default=None, ge=1)


class ServiceSpec(Frozen):
    """A service to create or update, found by its name (what the demo catalogue declares)."""

    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    names: LocalNames = Field(default_factory=dict)
    descriptions: LocalDescriptions = Field(default_factory=dict)
    kind: ServiceKind = "appointment"
    duration_minutes: int = Field(ge=1, le=1440)
    buffer_minutes: int = Field(default=0, ge=0, le=1440)
    price: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    check_in: dt.time | None = None
    check_out: dt.time | None = None

    @model_validator(mode="after")
    def _nights_have_check_in_and_out(self) -> ServiceSpec:
        if (self.kind == "night") != (self.check_in is not None and self.check_out is not None):
            raise ValueError("a 'night' service needs check_in and check_out times, "
                             "and only a night service has them")
        return self


class ResourceSpec(Frozen):
    """A resource to create or update, found by its name, with the names of the services it
    offers and its weekly hours (which replace any it had)."""

    name: str = Field(min_length=1, max_length=200)
    kind: ResourceKind
    capacity: int = Field(default=1, ge=1, le=10000)
    services: list[str] = Field(default_factory=list)
    hours: list[OpeningHours] = Field(default_factory=list)

    @model_validator(mode="after")
    def _only_classes_take_several(self) -> ResourceSpec:
        if (self.kind == "class") != (self.capacity > 1):
            raise ValueError("a class takes more than one customer; staff and rooms take one")
        return self
