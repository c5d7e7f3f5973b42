-- The web origins a tenant's website widget runs on (Tenant spec.channels.web.allowedOrigins):
-- the API answers CORS and issues guest tokens only for these.
ALTER TABLE platform.tenants ADD COLUMN web_origins text[] NOT NULL DEFAULT '{}';
-- A token names its issuer, not its tenant: requests without a host or header find the
-- tenant by the issuer.
CREATE INDEX tenants_auth_issuer ON platform.tenants (auth_issuer);
