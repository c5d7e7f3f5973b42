-- Customers who texted STOP (or whom the provider reports unsubscribed) on a channel: never
-- texted again until they send START. Found by the blind index of their number.
CREATE TABLE channel_opt_outs (
    channel        text NOT NULL,
    contact_index  bytea NOT NULL,
    opted_out_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, contact_index)
);
