-- The booking engine (runtime/core/bookings): what the business sells, who or what is booked,
-- when they work, and the bookings themselves. Times of day are in the tenant's timezone
-- (platform.tenants.timezone); instants are timestamptz.

-- kind 'appointment': a slot of `duration_minutes`, followed by `buffer_minutes` in which the
-- resource stays busy (cleaning a chair). kind 'night': a stay of whole nights from check-in
-- on one day to check-out on a later day (hotel rooms).
CREATE TABLE services (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name              text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    description       text NOT NULL DEFAULT '',
    kind              text NOT NULL DEFAULT 'appointment' CHECK (kind IN ('appointment', 'night')),
    duration_minutes  integer NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
    buffer_minutes    integer NOT NULL DEFAULT 0 CHECK (buffer_minutes BETWEEN 0 AND 1440),
    price             numeric(12, 2) NOT NULL CHECK (price >= 0),
    currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    check_in          time,
    check_out         time,
    active            boolean NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'night') = (check_in IS NOT NULL AND check_out IS NOT NULL))
);

-- A staff member or a room serves one customer at a time; a class takes up to `capacity`.
CREATE TABLE resources (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    kind        text NOT NULL CHECK (kind IN ('staff', 'room', 'class')),
    capacity    integer NOT NULL DEFAULT 1 CHECK (capacity BETWEEN 1 AND 10000),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'class') = (capacity > 1))
);

CREATE TABLE resource_services (
    resource_id  uuid NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    service_id   uuid NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    PRIMARY KEY (resource_id, service_id)
);
CREATE INDEX resource_services_service ON resource_services (service_id);

-- Weekly working hours; several rows for one weekday make a split shift. Weekday is ISO
-- (1 = Monday). For a class, each row is one session of the class.
CREATE TABLE schedules (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resource_id  uuid NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    weekday      smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    opens        time NOT NULL,
    closes       time NOT NULL,
    CHECK (opens < closes)
);
CREATE INDEX schedules_resource ON schedules (resource_id, weekday);

-- Days on which one resource (or, with resource_id NULL, the whole business) is closed.
CREATE TABLE schedule_exceptions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resource_id  uuid REFERENCES resources (id) ON DELETE CASCADE,
    day          date NOT NULL,
    reason       text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX schedule_exceptions_one_per_day
    ON schedule_exceptions (coalesce(resource_id, '00000000-0000-0000-0000-000000000000'), day);

-- Exclusion constraints need `=` on the resource inside a GiST index, which for uuid takes the
-- btree_gist extension. Extensions are per database and made by the platform, not by a tenant
-- role, and btree_gist is not installed; a range over uuid gives the same `=` (two one-point
-- ranges overlap exactly when their points are equal) with only what is built in.
CREATE TYPE uuid_range AS RANGE (subtype = uuid);

-- `busy_until` is `end_at` plus the service's buffer: the resource is taken until then.
-- `exclusive` is true when the resource took one customer at a time when this was booked.
CREATE TABLE bookings (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    resource_id  uuid NOT NULL REFERENCES resources (id),
    service_id   uuid NOT NULL REFERENCES services (id),
    customer_id  uuid NOT NULL REFERENCES customers (id),
    start_at     timestamptz NOT NULL,
    end_at       timestamptz NOT NULL,
    busy_until   timestamptz NOT NULL,
    exclusive    boolean NOT NULL,
    status       text NOT NULL DEFAULT 'booked'
                 CHECK (status IN ('booked', 'cancelled', 'completed')),
    version      integer NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (start_at < end_at AND end_at <= busy_until),
    -- The last line of defence against double booking a one-at-a-time resource; the booking
    -- code locks the resource row and counts first, so a conflict normally never gets here.
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
        uuid_range(resource_id, resource_id, '[]') WITH &&,
        tstzrange(start_at, busy_until) WITH &&
    ) WHERE (status = 'booked' AND exclusive)
);
CREATE INDEX bookings_resource_time ON bookings (resource_id, start_at, busy_until)
    WHERE status = 'booked';
CREATE INDEX bookings_customer ON bookings (customer_id, start_at);
-- One place per customer in one session of a class.
CREATE UNIQUE INDEX bookings_one_per_customer_and_slot
    ON bookings (resource_id, customer_id, start_at) WHERE status = 'booked';

-- Idempotency-Key records: the first request with a key claims it (a concurrent retry waits on
-- the primary key until that transaction ends), then stores its result in the same
-- transaction, so `result` is never seen empty. A retry gets that result; another request with
-- the same key gets an error.
CREATE TABLE idempotency_records (
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    operation     text NOT NULL,
    request_hash  text NOT NULL,
    result        jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key, operation)
);
CREATE INDEX idempotency_records_created_at ON idempotency_records (created_at);
