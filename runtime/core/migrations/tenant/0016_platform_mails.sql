-- The platform's own mails (invitations, access codes, booking confirmations and
-- cancellations, rating requests). One row per mail, keyed by the event that asked for it and
-- recorded before the relay is called: `sending` is committed just before the hand-over, so a
-- mailer that restarts sends what is pending and never repeats a hand-over that may have
-- happened (that mail becomes `uncertain`). No address, subject or body is kept here.
CREATE TABLE platform_mails (
    event_id     text PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('invitation', 'access-code', 'booking-confirmed',
                                               'booking-cancelled', 'rating-request')),
    status       text NOT NULL CHECK (status IN ('pending', 'sending', 'uncertain', 'sent',
                                                 'failed')),
    message_id   text NOT NULL,
    attempts     int NOT NULL DEFAULT 0,
    error_code   text,
    error_detail text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX platform_mails_created ON platform_mails (created_at);

-- The language of an invitation's mail and page (and of the customer it makes).
ALTER TABLE invitations ADD COLUMN locale text NOT NULL DEFAULT 'en'
    CHECK (locale IN ('ro', 'en'));
