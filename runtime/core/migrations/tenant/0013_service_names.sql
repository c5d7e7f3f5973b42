-- A service's name and description in the customers' languages (locale → text, e.g.
-- {"ro": "Detartraj"}): the agent says a service in the language it answers in, and falls
-- back to `name` / `description` for a language the tenant left out.
ALTER TABLE services
    ADD COLUMN names jsonb NOT NULL DEFAULT '{}'::jsonb
        CHECK (jsonb_typeof(names) = 'object'),
    ADD COLUMN descriptions jsonb NOT NULL DEFAULT '{}'::jsonb
        CHECK (jsonb_typeof(descriptions) = 'object');
