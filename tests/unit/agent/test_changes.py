"""Making a confirmed change through the repository: a guest becomes a customer at their
first booking, each change carries the event's idempotency key, and a refused change says
why."""

from __future__ import annotations

import datetime as dt
import uuid

from simptu.runtime.agent.business import HOTEL
from simptu.runtime.agent.changes import execute
from simptu.runtime.agent.state import ChangeAction, ConversationState, PendingChange
from tests.unit.agent import in_memory as shop


def waiting(pending: PendingChange) -> ConversationState:
    return {"locale": "ro", "pending": pending, "booking": {"action": pending["action"]}}


def change(action: ChangeAction, booking_id: str | None = None,
           service_id: str | None = str(shop.CONSULTATION.id),
           resource_id: str | None = str(shop.DR_ANA.id),
           start: str | None = shop.local(shop.WEDNESDAY, 10).isoformat(), nights: int = 1,
           name: str | None = None) -> PendingChange:
    return PendingChange(action=action, call_id="confirm-1",
                         params={"noun": "programarea", "service": "Consultation"},
                         booking_id=booking_id, service_id=service_id, resource_id=resource_id,
                         start=start, nights=nights, name=name)


async def test_a_guests_first_booking_makes_them_a_customer() -> None:
    repository = shop.MemoryRepository(shop.CLINIC)
    update = await execute(waiting(change("book", name="Ana Pop")), shop.turn_context(repository))
    assert repository.customer_id is not None
    assert repository.customer_names[repository.customer_id] == ("Ana Pop", "ro")
    [made] = repository.bookings.values()
    assert made.customer_id == repository.customer_id
    assert made.start == shop.local(shop.WEDNESDAY, 10)
    assert repository.keys == ["agent:event-1"]
    assert update["done"] == [{"id": str(made.id), "action": "booked"}]
    assert update["reply"] == {"key": "booked", "params": {
        "noun": "programarea", "service": "Consultation",
        "when": "miercuri, 9 decembrie la 10:00"}}
    assert (update["pending"], update["booking"]) == (None, {})


async def test_a_moved_stay_gets_its_new_room_and_nights() -> None:
    stay = shop.booked(shop.DOUBLE, shop.ROOM_101, shop.CUSTOMER,
                       shop.local(shop.WEDNESDAY, 14), nights=2)
    repository = shop.MemoryRepository(shop.INN, customer_id=shop.CUSTOMER,
                                       bookings={stay.id: stay})
    moved_to = shop.local(dt.date(2026, 12, 12), 14)
    pending = change("reschedule", str(stay.id), service_id=str(shop.DOUBLE.id),
                     resource_id=str(shop.ROOM_102.id), start=moved_to.isoformat(), nights=3)
    update = await execute(waiting(pending), shop.turn_context(repository, HOTEL))
    moved = repository.bookings[stay.id]
    assert (moved.start, moved.end - moved.start, moved.resource_id) == (
        moved_to, dt.timedelta(days=3), shop.ROOM_102.id)
    assert update["reply"]["key"] == "rescheduled"
    assert update["reply"]["params"]["when"] == "sâmbătă, 12 decembrie"  # a stay: the day


async def test_a_cancel_needs_only_the_booking() -> None:
    current = shop.booked(shop.CONSULTATION, shop.DR_ANA, shop.CUSTOMER,
                          shop.local(shop.WEDNESDAY, 10))
    repository = shop.MemoryRepository(shop.CLINIC, customer_id=shop.CUSTOMER,
                                  bookings={current.id: current})
    update = await execute(waiting(change("cancel", str(current.id), service_id=None,
                                          resource_id=None, start=None)),
                           shop.turn_context(repository))
    assert repository.bookings[current.id].status == "cancelled"
    assert update["done"] == [{"id": str(current.id), "action": "cancelled"}]


async def test_a_refused_change_is_dropped_and_says_why() -> None:
    gone = str(uuid.UUID(int=404))
    update = await execute(waiting(change("cancel", gone)),
                           shop.turn_context(shop.MemoryRepository(shop.CLINIC)))
    assert update["reply"] == {"key": "failed",
                               "params": {"reason": f"no booking {gone} to change"}}
    assert (update["pending"], update["booking"]) == (None, {})
    assert "done" not in update
