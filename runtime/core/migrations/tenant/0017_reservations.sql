-- Reservations made on booking platforms (Booking.com's OTA API, reservation e-mails of
-- Booking.com and other platforms) and the booking of the hotel's rooms each became. One row
-- per platform reservation id: a notification or mail delivered again finds it and changes
-- nothing twice. No personal data here: the guest is a customers row, sealed.
CREATE TABLE reservations (
    source          text NOT NULL CHECK (source ~ '^[a-z0-9][a-z0-9.-]{0,63}$'),
    reservation_id  text NOT NULL CHECK (length(reservation_id) BETWEEN 1 AND 64),
    -- 'pending' only inside the transaction that applies the first notification.
    status          text NOT NULL CHECK (status IN ('pending', 'booked', 'cancelled',
                                                    'with_staff')),
    booking_id      uuid REFERENCES bookings (id),
    customer_id     uuid REFERENCES customers (id),
    -- Why it is with staff (no personal data: the room type, the dates, the refusal).
    detail          text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, reservation_id)
);
CREATE INDEX reservations_booking ON reservations (booking_id);

-- Booking.com is a channel: its machine account's credentials, and the conversations of its
-- messaging API (guest messages about a reservation).
ALTER TABLE channel_accounts DROP CONSTRAINT channel_accounts_channel_check;
ALTER TABLE channel_accounts ADD CONSTRAINT channel_accounts_channel_check CHECK (
    channel IN ('whatsapp', 'messenger', 'instagram', 'sms', 'voice', 'email', 'booking_com'));
ALTER TABLE chat_sessions DROP CONSTRAINT chat_sessions_channel_check;
ALTER TABLE chat_sessions ADD CONSTRAINT chat_sessions_channel_check CHECK (
    channel IN ('web', 'whatsapp', 'messenger', 'instagram', 'sms', 'voice', 'email',
                'booking_com'));
