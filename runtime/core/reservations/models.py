"""A reservation as a platform tells it (new, modified or cancelled) and what applying it did,
as pydantic models apart from the table rows."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ReservationAction = Literal["new", "modify", "cancel"]
Outcome = Literal["booked", "moved", "cancelled", "unchanged", "with_staff"]


class Reservation(BaseModel):
    """One notification of a reservation: `source` names the platform (`booking.com`),
    `reservation_id` is its id there. A cancellation needs nothing more."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,63}$")
    reservation_id: str = Field(min_length=1, max_length=64)
    action: ReservationAction = "new"
    guest_name: str = Field(default="", max_length=200)
    guest_email: str | None = Field(default=None, max_length=320)
    check_in: dt.date | None = None
    check_out: dt.date | None = None
    # The room type as the platform names it: a night service's name (in any language).
    room_type: str = Field(default="", max_length=200)
    total: Decimal | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")

    @model_validator(mode="after")
    def _a_stay_has_dates(self) -> Reservation:
        if self.action != "cancel" and (self.check_in is None or self.check_out is None):
            raise ValueError("a new or modified reservation has check-in and check-out dates")
        return self


class Applied(BaseModel):
    """What a notification did: `outcome`, the booking it is (if any) and, when it is left
    with staff, why (`detail`, no personal data)."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    booking_id: uuid.UUID | None = None
    detail: str = ""
