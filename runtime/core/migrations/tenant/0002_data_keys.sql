-- The tenant's data keys, only ever stored wrapped by its transit key (`tenant-<slug>`).
-- purpose 'data' seals fields (a new version on each data key rotation; the newest unretired
-- one seals, every version still opens); purpose 'index' keys the blind indexes and is never
-- rotated, so indexes stay valid across data key rotations.
CREATE TABLE data_keys (
    purpose          text NOT NULL CHECK (purpose IN ('data', 'index')),
    version          integer NOT NULL CHECK (version > 0),
    wrapped_key      text NOT NULL CHECK (wrapped_key LIKE 'vault:v%:%'),
    transit_version  integer NOT NULL CHECK (transit_version > 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    rewrapped_at     timestamptz,
    retired_at       timestamptz,
    PRIMARY KEY (purpose, version)
);
-- Exactly one key of each purpose is current (not retired).
CREATE UNIQUE INDEX data_keys_one_current ON data_keys (purpose) WHERE retired_at IS NULL;

-- Re-encryption jobs after a data key rotation: one per (table, columns, target version),
-- advanced one batch per transaction together with the rows, so a killed job resumes where
-- its last committed batch ended.
CREATE TABLE reencryption_jobs (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name          text NOT NULL,
    columns             text[] NOT NULL,
    target_key_version  integer NOT NULL CHECK (target_key_version > 0),
    status              text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done')),
    last_row_id         text,
    batches             integer NOT NULL DEFAULT 0,
    rows_resealed       bigint NOT NULL DEFAULT 0,
    fields_resealed     bigint NOT NULL DEFAULT 0,
    started_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    finished_at         timestamptz,
    UNIQUE (table_name, columns, target_key_version)
);
