-- The tenant's knowledge base (runtime/core/knowledge): question-and-answer entries the agent
-- answers from. FAQ text is the business's public content (hours, prices, parking), not
-- personal data: it is stored in clear, unlike chat messages, so full-text search can index it.

-- `embedding` is the MiniLM vector of question and answer (normalised, so a dot product is the
-- cosine), computed when the entry is written; `embedding_model` names the model that made it,
-- so a change of model finds the entries to embed again.
-- `search_vector` indexes the text with the entry's language (`romanian` or `english`), once as
-- written and once without diacritics: customers often type "cat costa" for "cât costă", and
-- the Romanian stemmer stems the two spellings differently.
CREATE TABLE knowledge_entries (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    locale           text NOT NULL CHECK (locale IN ('ro', 'en')),
    question         text NOT NULL CHECK (length(question) BETWEEN 1 AND 500),
    answer           text NOT NULL CHECK (length(answer) BETWEEN 1 AND 4000),
    embedding        real[] NOT NULL CHECK (cardinality(embedding) > 0),
    embedding_model  text NOT NULL,
    search_vector    tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector(CASE locale WHEN 'ro' THEN 'romanian'::regconfig
                                          ELSE 'english'::regconfig END, question), 'A')
        || setweight(to_tsvector(CASE locale WHEN 'ro' THEN 'romanian'::regconfig
                                             ELSE 'english'::regconfig END,
                                 translate(question, 'ăâîșşțţĂÂÎȘŞȚŢ', 'aaissttAAISSTT')), 'A')
        || setweight(to_tsvector(CASE locale WHEN 'ro' THEN 'romanian'::regconfig
                                             ELSE 'english'::regconfig END, answer), 'B')
        || setweight(to_tsvector(CASE locale WHEN 'ro' THEN 'romanian'::regconfig
                                             ELSE 'english'::regconfig END,
                                 translate(answer, 'ăâîșşțţĂÂÎȘŞȚŢ', 'aaissttAAISSTT')), 'B')
    ) STORED,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- One answer per question and language: writing the same question again updates it.
    UNIQUE (locale, question)
);
CREATE INDEX knowledge_entries_search ON knowledge_entries USING gin (search_vector);
-- Lists page in creation order (the cursor is the last entry's created_at and id).
CREATE INDEX knowledge_entries_page ON knowledge_entries (created_at, id);
