"""Reservations made on booking platforms becoming bookings of the hotel's rooms: one use case
for every way a reservation arrives (Booking.com's OTA API, reservation e-mails), idempotent by
the platform's reservation id, with modifications and cancellations applied and whatever cannot
be booked left with staff."""

from simptu.runtime.core.reservations.apply import apply_reservation
from simptu.runtime.core.reservations.models import Applied, Reservation, ReservationAction

__all__ = ["Applied", "Reservation", "ReservationAction", "apply_reservation"]
