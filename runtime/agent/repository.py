"""What the agent's dialogue and changes need from the tenant's data, as a small interface:
the turn passes the Postgres implementation (`actions.TenantRepository`, inside the turn's
unit of work); the planner's unit tests pass an in-memory one."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Protocol

from simptu.runtime.core.bookings.models import (
    Booking,
    BookingRequest,
    CancelRequest,
    RescheduleRequest,
    Service,
    Slot,
)
from simptu.runtime.core.knowledge.models import KnowledgeHit
from simptu.runtime.core.language import Locale


class AgentRepository(Protocol):
    """One conversation's view of its tenant. Changes raise `bookings.BookingError` when the
    booking engine refuses them; `key` makes each change happen once however often a turn
    is replayed."""

    async def free_slots(self, service: Service, day: dt.date,
                         moving: uuid.UUID | None) -> list[Slot]:
        """The service's free slots on `day`; the booking being `moving` blocks none."""
        ...

    async def free_rooms(self, service: Service, check_in: dt.date, nights: int,
                         moving: uuid.UUID | None) -> list[Slot]:
        """The rooms free for the whole stay; the stay being `moving` blocks none."""
        ...

    async def customer(self) -> uuid.UUID | None:
        """Who the conversation books as; None for a guest who has not booked yet."""
        ...

    async def become_customer(self, customer_id: uuid.UUID, name: str,
                              locale: Locale) -> uuid.UUID:
        """A guest's first booking makes them a customer (`customer_id`, unless the
        conversation already has one: then that one)."""
        ...

    async def next_booking(self) -> Booking | None:
        """The conversation's customer's next booking that still stands."""
        ...

    async def upcoming_bookings(self) -> list[Booking]:
        """The conversation's customer's bookings that still stand, the next first."""
        ...

    async def faq_answer(self, text: str, locale: Locale) -> KnowledgeHit | None:
        """The tenant's FAQ entry answering `text`: in `locale` first, then in any language."""
        ...

    async def hand_off(self) -> None:
        """Leave the conversation to staff; the agent stays silent in it from now on."""
        ...

    async def book(self, request: BookingRequest, key: str) -> Booking: ...

    async def reschedule(self, request: RescheduleRequest, key: str) -> Booking: ...

    async def cancel(self, request: CancelRequest, key: str) -> Booking: ...
