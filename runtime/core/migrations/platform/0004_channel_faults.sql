-- What a channel sender learnt that only people can fix (the provider refused the tenant's
-- access token): the operator reports it in the Tenant's ChannelsReady condition until the
-- tenant's channel Secret changes. Written by the senders, which have no Kubernetes access.
CREATE TABLE platform.channel_faults (
    slug     text NOT NULL REFERENCES platform.tenants (slug) ON DELETE CASCADE,
    channel  text NOT NULL,
    code     text NOT NULL,
    detail   text NOT NULL DEFAULT '',
    at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (slug, channel)
);
