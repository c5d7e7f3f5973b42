"""What can go wrong with a booking, as exceptions whose message a customer or an agent can
read as it is. When one is raised, nothing was changed."""

from __future__ import annotations


class BookingError(Exception):
    """Base of every booking error; `str(error)` says what happened in plain words."""


class NotFound(BookingError):
    """A service, resource, customer or booking that does not exist in this tenant."""


class InvalidRequest(BookingError):
    """A request that can never succeed as written (wrong dates, a service the resource does
    not offer, a booking that is already cancelled)."""


class IdempotencyKeyReused(InvalidRequest):
    """An Idempotency-Key sent again with a different request."""


class OutsideSchedule(BookingError):
    """A time the resource does not work, or a start that is not one of the offered slots."""


class SlotTaken(BookingError):
    """The slot is no longer free (another booking got it first, or the class is full)."""


class StaleBooking(BookingError):
    """The booking changed since the caller read it (its version is not the expected one)."""
