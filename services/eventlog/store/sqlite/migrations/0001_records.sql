-- The event log: one row per event, outcome, dead letter, alert and erasure.
CREATE TABLE records (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,
    occurred        INTEGER NOT NULL, -- Unix milliseconds
    received        INTEGER NOT NULL,
    type            TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    event_name      TEXT    NOT NULL,
    person_id       TEXT    NOT NULL DEFAULT '',
    person_email    TEXT    NOT NULL DEFAULT '',
    person_login    TEXT    NOT NULL DEFAULT '',
    actor           TEXT    NOT NULL DEFAULT '',
    actor_id        TEXT    NOT NULL DEFAULT '',
    client_ip       TEXT    NOT NULL DEFAULT '',
    user_agent      TEXT    NOT NULL DEFAULT '',
    partition_id    TEXT    NOT NULL DEFAULT '',
    reason          TEXT    NOT NULL DEFAULT '',
    outcome         TEXT    NOT NULL DEFAULT '',
    provider        TEXT    NOT NULL DEFAULT '',
    rule_id         TEXT    NOT NULL DEFAULT '',
    source_event_id TEXT    NOT NULL DEFAULT '',
    subject         TEXT    NOT NULL DEFAULT '',
    stream          TEXT    NOT NULL DEFAULT '',
    stream_seq      INTEGER NOT NULL DEFAULT 0,
    payload         BLOB
);

-- The API's queries: by person or actor, newest first.
CREATE INDEX records_person_id    ON records (person_id, occurred DESC, seq DESC);
CREATE INDEX records_person_email ON records (person_email, occurred DESC, seq DESC) WHERE person_email <> '';
CREATE INDEX records_person_login ON records (person_login, occurred DESC, seq DESC) WHERE person_login <> '';
CREATE INDEX records_actor        ON records (actor, occurred DESC, seq DESC);
CREATE INDEX records_actor_id     ON records (actor_id, occurred DESC, seq DESC) WHERE actor_id <> '';
-- Retention purges by age.
CREATE INDEX records_occurred     ON records (occurred);
