-- Every mail of the tenant's e-mail conversations, in and out, found by the blind index of its
-- Message-ID: a customer's reply is threaded by the ids it names (In-Reply-To, References),
-- a mail delivered again is recognised, and a bounce finds the reply it returns. The headers
-- a reply needs (the ids, the subject, the tenant's address written to, the attachments'
-- names and sizes) are kept sealed; the text itself is the conversation's message.
CREATE TABLE email_messages (
    id            uuid PRIMARY KEY,
    message_index bytea NOT NULL UNIQUE,
    -- None: a mail that is in no conversation (an auto-reply, a bounce, one handled elsewhere).
    session_id    uuid REFERENCES chat_sessions (id) ON DELETE CASCADE,
    direction     text NOT NULL CHECK (direction IN ('in', 'out')),
    -- posted, or why not: auto-submitted, auto-reply, bulk, list, empty-return-path, bounce,
    -- own (sent from the tenant's own address), handled (by a recogniser, e.g. reservations).
    outcome       text NOT NULL,
    headers       bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_messages_session ON email_messages (session_id, created_at)
    WHERE session_id IS NOT NULL;
