"""The booking engine shared by the HTTP API and the agent: a tenant's services, bookable
resources and schedules, free slots, and booking, rescheduling and cancelling without double
bookings. Every function works inside the caller's `TenantUnitOfWork`."""

from simptu.runtime.core.bookings.availability import availability, stay_availability
from simptu.runtime.core.bookings.booking import (
    book,
    cancel,
    complete_past_bookings,
    customer_bookings,
    get_booking,
    list_bookings,
    reschedule,
)
from simptu.runtime.core.bookings.catalogue import get_service, list_resources, list_services
from simptu.runtime.core.bookings.errors import (
    BookingError,
    IdempotencyKeyReused,
    InvalidRequest,
    NotFound,
    OutsideSchedule,
    SlotTaken,
    StaleBooking,
)
from simptu.runtime.core.bookings.models import (
    Booking,
    BookingRequest,
    CancelRequest,
    RescheduleRequest,
    Resource,
    Service,
    Slot,
)

__all__ = [
    "Booking", "BookingError", "BookingRequest", "CancelRequest", "IdempotencyKeyReused",
    "InvalidRequest", "NotFound", "OutsideSchedule", "RescheduleRequest", "Resource",
    "Service", "Slot", "SlotTaken", "StaleBooking", "availability", "book", "cancel",
    "complete_past_bookings", "customer_bookings", "get_booking", "get_service",
    "list_bookings", "list_resources", "list_services", "reschedule", "stay_availability",
]
