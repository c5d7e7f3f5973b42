-- A tenant's agent settings (Tenant spec.agent: model provider and name, endpoint, region,
-- the name of the Secret holding the model's credentials — never its value — and the
-- double-texting policy), so a worker serving several tenants needs no Kubernetes access.
ALTER TABLE platform.tenants ADD COLUMN agent jsonb NOT NULL DEFAULT '{}';
