"""The agent without the stack, for the dialogue's, the changes' and the checkpoints' unit
tests: `AgentRepository` in memory (free slots and rooms as the test sets them, bookings in a
dict, every change recorded), a dental clinic's and a hotel's catalogues, a provider that
says the dialogue's text as it is, and a turn's context over them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from simptu.runtime.agent.business import DENTAL, BusinessProfile
from simptu.runtime.agent.catalogue import Catalogue
from simptu.runtime.agent.providers.base import ProviderContext, Understanding
from simptu.runtime.agent.state import TurnContext
from simptu.runtime.core.bookings import NotFound
from simptu.runtime.core.bookings.models import (
    Booking,
    BookingRequest,
    CancelRequest,
    OpeningHours,
    RescheduleRequest,
    Resource,
    Service,
    Slot,
)
from simptu.runtime.core.knowledge.models import KnowledgeHit
from simptu.runtime.core.language import Locale
from simptu.runtime.core.registry import TenantRecord

NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)  # a Tuesday
WEDNESDAY, SATURDAY = dt.date(2026, 12, 9), dt.date(2026, 12, 12)
TZ = ZoneInfo("Europe/Bucharest")
CUSTOMER = uuid.UUID(int=99)
WORKDAYS = [OpeningHours(weekday=day, opens=dt.time(9), closes=dt.time(17)) for day in range(1, 6)]

CONSULTATION = Service(id=uuid.UUID(int=1), name="Consultation", duration_minutes=30,
                       price=Decimal("150.00"), currency="RON")
CLEANING = Service(id=uuid.UUID(int=2), name="Cleaning", duration_minutes=60,
                   price=Decimal("250"), currency="RON")
DR_ANA = Resource(id=uuid.UUID(int=11), name="Dr. Ana", kind="staff", capacity=1,
                  service_ids=[CONSULTATION.id, CLEANING.id], hours=WORKDAYS)
DR_RADU = Resource(id=uuid.UUID(int=12), name="Dr. Radu", kind="staff", capacity=1,
                   service_ids=[CONSULTATION.id],
                   hours=[OpeningHours(weekday=6, opens=dt.time(10), closes=dt.time(14))])
CLINIC = Catalogue([CONSULTATION, CLEANING], [DR_ANA, DR_RADU])

DOUBLE = Service(id=uuid.UUID(int=3), name="Double room", kind="night", duration_minutes=1440,
                 price=Decimal("400"), currency="RON", check_in=dt.time(14),
                 check_out=dt.time(11))
ROOM_101 = Resource(id=uuid.UUID(int=21), name="Room 101", kind="room", capacity=1,
                    service_ids=[DOUBLE.id])
ROOM_102 = Resource(id=uuid.UUID(int=22), name="Room 102", kind="room", capacity=1,
                    service_ids=[DOUBLE.id])
INN = Catalogue([DOUBLE], [ROOM_101, ROOM_102])


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), TZ)


def slot(service: Service, resource: Resource, start: dt.datetime,
         nights: int = 0) -> Slot:
    end = start + (dt.timedelta(days=nights) if nights
                   else dt.timedelta(minutes=service.duration_minutes))
    return Slot(service_id=service.id, resource_id=resource.id, start=start, end=end,
                places_left=1)


def booked(service: Service, resource: Resource, customer: uuid.UUID, start: dt.datetime,
           nights: int = 0) -> Booking:
    free = slot(service, resource, start, nights)
    return Booking(id=uuid.uuid4(), service_id=service.id, resource_id=resource.id,
                   customer_id=customer, start=free.start, end=free.end, status="booked",
                   version=1, created_at=NOW, updated_at=NOW)


class SaysItAsItIs:
    """A provider that is never asked to understand, and phrases the text unchanged."""

    name, slow = "as-it-is", False

    async def understand(self, text: str, locale: Locale,
                         context: ProviderContext) -> Understanding:
        raise AssertionError(f"not asked to understand {text!r}")

    async def phrase(self, text: str, locale: Locale,
                     context: ProviderContext) -> AsyncIterator[str]:
        yield text


def turn_context(repository: MemoryRepository, business: BusinessProfile = DENTAL,
                 event_id: str = "event-1") -> TurnContext:
    tenant = TenantRecord.model_validate({
        "slug": "zambet", "status": "Ready", "business_type": business.business_type,
        "display_name": "Zâmbet", "schema_name": "tenant_zambet",
        "transit_key": "tenant-zambet", "timezone": str(TZ)})
    return TurnContext(tenant=tenant, session_locale="ro", event_id=event_id,
                       provider=SaysItAsItIs(), business=business,
                       catalogue=repository.catalogue, tz=TZ, now=NOW, repository=repository)



@dataclass
class MemoryRepository:
    catalogue: Catalogue
    slots: list[Slot] = field(default_factory=list)  # free starts, appointments and rooms
    bookings: dict[uuid.UUID, Booking] = field(default_factory=dict)
    customer_id: uuid.UUID | None = None
    customer_names: dict[uuid.UUID, tuple[str, Locale]] = field(default_factory=dict)
    # the customer's text → the answer, or the entry found (its question, its answer)
    faq: dict[str, str | tuple[str, str]] = field(default_factory=dict)
    handed_off: bool = False
    keys: list[str] = field(default_factory=list)  # the idempotency keys of every change
    searched_moving: list[uuid.UUID | None] = field(default_factory=list)

    async def free_slots(self, service: Service, day: dt.date,
                         moving: uuid.UUID | None) -> list[Slot]:
        self.searched_moving.append(moving)
        return [s for s in self.slots if s.service_id == service.id and s.start.date() == day]

    async def free_rooms(self, service: Service, check_in: dt.date, nights: int,
                         moving: uuid.UUID | None) -> list[Slot]:
        self.searched_moving.append(moving)
        return [s for s in self.slots
                if s.service_id == service.id and s.start.date() == check_in
                and (s.end.date() - s.start.date()).days >= nights]

    async def customer(self) -> uuid.UUID | None:
        return self.customer_id

    async def become_customer(self, customer_id: uuid.UUID, name: str,
                              locale: Locale) -> uuid.UUID:
        if self.customer_id is None:
            self.customer_id = customer_id
            self.customer_names[customer_id] = (name, locale)
        return self.customer_id

    async def next_booking(self) -> Booking | None:
        mine = await self.upcoming_bookings()
        return mine[0] if mine else None

    async def upcoming_bookings(self) -> list[Booking]:
        return sorted((b for b in self.bookings.values()
                       if b.customer_id == self.customer_id and b.status == "booked"),
                      key=lambda b: b.start)

    async def faq_answer(self, text: str, locale: Locale) -> KnowledgeHit | None:
        found = self.faq.get(text)
        if found is None:
            return None
        question, answer = (text, found) if isinstance(found, str) else found
        return KnowledgeHit(entry_id=uuid.uuid5(uuid.NAMESPACE_URL, question), locale=locale,
                            question=question, answer=answer, score=1.0)

    async def hand_off(self) -> None:
        self.handed_off = True

    async def book(self, request: BookingRequest, key: str) -> Booking:
        self.keys.append(key)
        service = self.catalogue.service(request.service_id)
        assert service is not None
        length = (dt.timedelta(days=request.nights) if service.kind == "night"
                  else dt.timedelta(minutes=service.duration_minutes))
        booking = Booking(id=uuid.uuid5(uuid.NAMESPACE_URL, key),
                          service_id=request.service_id, resource_id=request.resource_id,
                          customer_id=request.customer_id, start=request.start,
                          end=request.start + length, status="booked", version=1,
                          created_at=NOW, updated_at=NOW)
        self.bookings[booking.id] = booking
        return booking

    async def reschedule(self, request: RescheduleRequest, key: str) -> Booking:
        self.keys.append(key)
        old = self._booked(request.booking_id)
        nights = dt.timedelta(days=request.nights) if request.nights else old.end - old.start
        moved = old.model_copy(update={
            "start": request.start, "end": request.start + nights,
            "resource_id": request.resource_id or old.resource_id, "version": old.version + 1})
        self.bookings[moved.id] = moved
        return moved

    async def cancel(self, request: CancelRequest, key: str) -> Booking:
        self.keys.append(key)
        cancelled = self._booked(request.booking_id).model_copy(update={"status": "cancelled"})
        self.bookings[cancelled.id] = cancelled
        return cancelled

    def _booked(self, booking_id: uuid.UUID) -> Booking:
        booking = self.bookings.get(booking_id)
        if booking is None or booking.status != "booked":
            raise NotFound(f"no booking {booking_id} to change")
        return booking
