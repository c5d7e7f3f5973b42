-- Customers of the tenant's business. Personal fields are sealed by the data layer
-- (bytea: format, key version, nonce, ciphertext); phone and e-mail also get blind indexes
-- for equality lookups.
CREATE TABLE customers (
    id            uuid PRIMARY KEY,
    name          bytea,
    phone         bytea,
    phone_index   bytea,
    email         bytea,
    email_index   bytea,
    notes         bytea,
    locale        text NOT NULL DEFAULT 'en',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_phone_index ON customers (phone_index);
CREATE INDEX customers_email_index ON customers (email_index);
