-- Conversations on messaging channels (WhatsApp, Messenger, Instagram, SMS, voice, e-mail).
-- A customer is found again by the blind index of their id on the channel (a phone number, a
-- page-scoped id); the id itself is kept sealed, for replying. One open conversation per
-- customer and channel; a closed one is followed by a new one.
ALTER TABLE chat_sessions ADD COLUMN contact bytea;
ALTER TABLE chat_sessions ADD COLUMN contact_index bytea;
-- When the customer last wrote on the channel: providers allow free-form replies only for a
-- while after it (Meta: 24 hours).
ALTER TABLE chat_sessions ADD COLUMN last_inbound_at timestamptz;
CREATE UNIQUE INDEX chat_sessions_open_contact ON chat_sessions (channel, contact_index)
    WHERE contact_index IS NOT NULL AND status <> 'closed';

-- The tenant's accounts on each channel: its id there and its credentials, sealed, copied
-- here by the operator from the Secret the Tenant names (runtimes have no Kubernetes access).
CREATE TABLE channel_accounts (
    channel      text PRIMARY KEY CHECK (channel IN ('whatsapp', 'messenger', 'instagram',
                                                     'sms', 'voice', 'email')),
    account_id   text NOT NULL,
    credentials  bytea NOT NULL,
    -- The Secret's resourceVersion it was copied from: a rotated Secret is copied again.
    source_version text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Each reply (or part of one) sent to a customer on a channel, and what the provider said of
-- it. A part is recorded `pending` before anything is sent and becomes `sending` (committed)
-- just before the provider is called: a sender that restarts sends what is pending and never
-- repeats a call that may have reached the provider (that part becomes `uncertain`, for staff
-- to see).
CREATE TABLE channel_deliveries (
    message_id   uuid NOT NULL,
    part         int NOT NULL CHECK (part >= 0),
    session_id   uuid NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    channel      text NOT NULL,
    status       text NOT NULL CHECK (status IN ('pending', 'sending', 'uncertain', 'sent', 'delivered',
                                                 'read', 'failed', 'refused')),
    provider_message_id text,
    error_code   text,
    error_detail text,
    attempts     int NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, part)
);
CREATE UNIQUE INDEX channel_deliveries_provider_id ON channel_deliveries (channel, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
CREATE INDEX channel_deliveries_session ON channel_deliveries (session_id, created_at);
