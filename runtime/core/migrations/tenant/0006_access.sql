-- Invitations, customer access codes and ratings. Secrets are never stored: an invitation
-- keeps the SHA-256 of its token, an access code the tenant-keyed HMAC of (customer, code).
-- The invited e-mail and a rating's comment are sealed by the data layer.
CREATE TABLE invitations (
    id                uuid PRIMARY KEY,
    token_hash        bytea NOT NULL UNIQUE,
    email             bytea NOT NULL,
    email_index       bytea NOT NULL,
    role              text NOT NULL CHECK (role IN ('staff', 'customer')),
    invited_by        text NOT NULL,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'accepted', 'revoked')),
    expires_at        timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    accepted_at       timestamptz,
    accepted_subject  text,
    revoked_at        timestamptz
);
CREATE INDEX invitations_created ON invitations (created_at DESC, id DESC);
CREATE INDEX invitations_email_index ON invitations (email_index);

-- A one-time code staff give a customer without an account; `attempts` counts wrong guesses
-- while the code is live, and a code with `max_attempts` of them is dead.
CREATE TABLE access_codes (
    id            uuid PRIMARY KEY,
    customer_id   uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    code_hash     bytea NOT NULL UNIQUE,
    issued_by     text NOT NULL,
    expires_at    timestamptz NOT NULL,
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts  integer NOT NULL CHECK (max_attempts > 0),
    redeemed_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX access_codes_customer ON access_codes (customer_id, expires_at);

-- One rating per completed booking or closed conversation (the unique keys say "once").
-- service_id and resource_id are copied from the booking so the aggregates need no join.
CREATE TABLE ratings (
    id                uuid PRIMARY KEY,
    booking_id        uuid UNIQUE REFERENCES bookings (id) ON DELETE CASCADE,
    session_id        uuid UNIQUE REFERENCES chat_sessions (id) ON DELETE CASCADE,
    service_id        uuid REFERENCES services (id) ON DELETE SET NULL,
    resource_id       uuid REFERENCES resources (id) ON DELETE SET NULL,
    customer_subject  text NOT NULL,
    score             smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment           bytea,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((booking_id IS NULL) <> (session_id IS NULL))
);
CREATE INDEX ratings_service ON ratings (service_id) WHERE service_id IS NOT NULL;
CREATE INDEX ratings_resource ON ratings (resource_id) WHERE resource_id IS NOT NULL;
