-- Conversations with the tenant's customers on every channel, and their messages.
-- Message bodies and the hand-off note are sealed by the data layer (AES-256-GCM bound to
-- tenant, table, column and row); nothing personal is stored in clear.
CREATE TABLE chat_sessions (
    id              uuid PRIMARY KEY,
    channel         text NOT NULL CHECK (channel IN ('web', 'whatsapp', 'messenger', 'instagram',
                                                     'sms', 'voice', 'email')),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'handed_off', 'closed')),
    -- The customer, when known: a customers row and/or the subject of their realm's token.
    -- No foreign key: a conversation outlives the erasure of its customer's record.
    customer_id     uuid,
    owner_subject   text,
    guest           boolean NOT NULL DEFAULT false,
    locale          text NOT NULL DEFAULT 'en',
    handoff_note    bytea,
    handed_off_by   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    closed_at       timestamptz
);
-- Lists are newest first, paged by (created_at, id).
CREATE INDEX chat_sessions_created ON chat_sessions (created_at DESC, id DESC);
CREATE INDEX chat_sessions_customer ON chat_sessions (customer_id);
CREATE INDEX chat_sessions_owner ON chat_sessions (owner_subject);

CREATE TABLE chat_messages (
    id          uuid PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    -- Order of the conversation, and the cursor of its history.
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    author      text NOT NULL CHECK (author IN ('customer', 'agent', 'staff', 'system')),
    author_subject text,
    body        bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (session_id, seq)
);
