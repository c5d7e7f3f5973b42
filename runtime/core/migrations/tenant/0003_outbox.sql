-- The event bus's tables (runtime/core/events).

-- Transactional outbox: an event row is written in the same transaction as the data it
-- describes; the relay publishes rows in id order and deletes them once Kafka acknowledged.
-- `event` holds the exact bytes sent (structured-mode CloudEvent JSON), so a re-sent event is
-- byte for byte the same, id included.
CREATE TABLE outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    text NOT NULL,
    topic       text NOT NULL,
    key         bytea,
    event       bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Events a consumer has handled, written in the same transaction as the handler's effects:
-- a redelivered event finds its row and is dropped. Old rows are purged by age.
CREATE TABLE processed_events (
    consumer      text NOT NULL,
    event_id      text NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX processed_events_processed_at ON processed_events (processed_at);
