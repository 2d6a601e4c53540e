-- The event log: one row per event, outcome, dead letter, alert and erasure.
-- Same columns as the SQLite store's table. Partitioned by month on occurred
-- so that retention drops whole months; the partitions themselves are made
-- by the store (partition.go), not here: a DEFAULT partition takes any row
-- whose month has no partition yet, so an insert never fails for want of one.
-- The primary key must hold the partition key: (id, occurred), which is
-- unique per record because a record's id always comes with the same
-- occurred time.
CREATE TABLE records (
    seq             bigint      GENERATED ALWAYS AS IDENTITY,
    id              text        NOT NULL,
    kind            text        NOT NULL,
    occurred        timestamptz NOT NULL,
    received        timestamptz NOT NULL,
    type            text        NOT NULL,
    event_type      text        NOT NULL,
    event_name      text        NOT NULL,
    person_id       text        NOT NULL DEFAULT '',
    person_email    text        NOT NULL DEFAULT '',
    person_login    text        NOT NULL DEFAULT '',
    actor           text        NOT NULL DEFAULT '',
    actor_id        text        NOT NULL DEFAULT '',
    client_ip       text        NOT NULL DEFAULT '',
    user_agent      text        NOT NULL DEFAULT '',
    partition_id    text        NOT NULL DEFAULT '',
    reason          text        NOT NULL DEFAULT '',
    outcome         text        NOT NULL DEFAULT '',
    provider        text        NOT NULL DEFAULT '',
    rule_id         text        NOT NULL DEFAULT '',
    source_event_id text        NOT NULL DEFAULT '',
    subject         text        NOT NULL DEFAULT '',
    stream          text        NOT NULL DEFAULT '',
    stream_seq      bigint      NOT NULL DEFAULT 0,
    payload         bytea,
    PRIMARY KEY (id, occurred)
) PARTITION BY RANGE (occurred);

CREATE TABLE records_default PARTITION OF records DEFAULT;

-- The API's queries: by person or actor, newest first. The partial indexes
-- are used because the store's queries repeat their predicates (query.go).
CREATE INDEX records_person_id    ON records (person_id, occurred DESC, seq DESC);
CREATE INDEX records_person_email ON records (person_email, occurred DESC, seq DESC) WHERE person_email <> '';
CREATE INDEX records_person_login ON records (person_login, occurred DESC, seq DESC) WHERE person_login <> '';
CREATE INDEX records_actor        ON records (actor, occurred DESC, seq DESC);
CREATE INDEX records_actor_id     ON records (actor_id, occurred DESC, seq DESC) WHERE actor_id <> '';
-- Retention deletes by age below the cutoff inside the month it falls in.
CREATE INDEX records_occurred     ON records (occurred);
