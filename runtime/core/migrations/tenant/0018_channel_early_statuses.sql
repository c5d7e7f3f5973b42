-- Statuses a provider reported for a send before the sender had recorded the message id the
-- provider gave it (a status webhook can overtake the sender's own commit): kept here and
-- applied when the id is recorded, so no `delivered` or `failed` is lost. Those of ids never
-- recorded (sends by other systems) are removed after a day.
CREATE TABLE channel_early_statuses (
    channel             text NOT NULL,
    provider_message_id text NOT NULL,
    status              text NOT NULL,
    error_code          text,
    error_detail        text,
    received_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, provider_message_id, status)
);
CREATE INDEX channel_early_statuses_received ON channel_early_statuses (received_at);
