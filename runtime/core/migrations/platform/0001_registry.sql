-- The routing registry: written only by the operator, read by every runtime.
CREATE TABLE platform.tenants (
    slug           text PRIMARY KEY CHECK (slug ~ '^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$'),
    status         text NOT NULL CHECK (status IN ('Provisioning', 'Ready', 'Suspended',
                                                   'Deleting', 'Shredded')),
    business_type  text NOT NULL CHECK (business_type IN ('dental-clinic', 'gym', 'hotel')),
    display_name   text NOT NULL DEFAULT '',
    schema_name    text NOT NULL UNIQUE,
    transit_key    text NOT NULL UNIQUE,
    auth_issuer    text,
    locale         text NOT NULL DEFAULT 'en',
    timezone       text NOT NULL DEFAULT 'UTC',
    generation     bigint NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Channel identifiers (phone numbers, page ids, e-mail addresses) as blind indexes, so a
-- webhook finds its tenant by equality without the identifier being stored in clear.
CREATE TABLE platform.tenant_channels (
    channel      text NOT NULL,
    blind_index  bytea NOT NULL,
    slug         text NOT NULL REFERENCES platform.tenants (slug) ON DELETE CASCADE,
    PRIMARY KEY (channel, blind_index)
);
CREATE INDEX tenant_channels_slug ON platform.tenant_channels (slug);
