-- The complaint register: complaints, every message in (raw) and out (outbox), the timeline,
-- flags for the officer, and the mailbox cursors. Timestamps are Unix seconds (BIGINT) so
-- the same SQL runs on SQLite and PostgreSQL; booleans are INTEGER 0/1 (sqlx Any cannot
-- decode SQLite BOOLEAN).

CREATE TABLE reference_counters (
    year        BIGINT PRIMARY KEY,
    last_number BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE complaints (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    reference                TEXT    NOT NULL UNIQUE,
    received_at              BIGINT  NOT NULL,
    channel                  TEXT    NOT NULL,
    origin                   TEXT    NOT NULL,
    customer_type            TEXT    NULL,
    complainant_name         TEXT    NULL,
    complainant_email        TEXT    NULL,
    complainant_phone        TEXT    NULL,
    complainant_organisation TEXT    NULL,
    received_by              TEXT    NULL,
    subject                  TEXT    NOT NULL DEFAULT '',
    description              TEXT    NOT NULL DEFAULT '',
    category                 TEXT    NULL,
    department               TEXT    NULL,
    assignee                 TEXT    NULL,
    concerned                TEXT    NULL,
    classification           TEXT    NOT NULL DEFAULT 'unknown',
    root_cause               TEXT    NULL,
    advice                   TEXT    NULL,
    solution                 TEXT    NULL,
    verdict                  TEXT    NULL,
    status                   TEXT    NOT NULL,
    outcome                  TEXT    NULL,
    acknowledge_by           BIGINT  NOT NULL,
    explain_by               BIGINT  NOT NULL,
    solve_by                 BIGINT  NOT NULL,
    acknowledged_at          BIGINT  NULL,
    explained_at             BIGINT  NULL,
    solved_at                BIGINT  NULL,
    closed_at                BIGINT  NULL,
    rejections               BIGINT  NOT NULL DEFAULT 0,
    reopenings               BIGINT  NOT NULL DEFAULT 0,
    updated_at               BIGINT  NOT NULL
);
CREATE INDEX complaints_status ON complaints (status);
CREATE INDEX complaints_email ON complaints (complainant_email);

-- Every received message, stored raw before anything else happens to it.
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key    TEXT    NOT NULL UNIQUE,
    message_id    TEXT    NULL,
    sha256        TEXT    NOT NULL,
    size          BIGINT  NOT NULL,
    raw           BLOB    NOT NULL,
    source        TEXT    NOT NULL,
    received_at   BIGINT  NOT NULL,
    from_address  TEXT    NULL,
    subject       TEXT    NULL,
    kind          TEXT    NOT NULL DEFAULT 'pending',
    outcome       TEXT    NULL,
    body_text     TEXT    NULL,
    complaint_id  BIGINT  NULL REFERENCES complaints (id),
    processed_at  BIGINT  NULL
);
CREATE INDEX messages_message_id ON messages (message_id);
CREATE INDEX messages_complaint ON messages (complaint_id);

CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    message_pk    BIGINT  NOT NULL REFERENCES messages (id),
    filename      TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    size          BIGINT  NOT NULL,
    data          BLOB    NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_pk);

-- Mail we write. Rendered in full (raw) when queued, so the Message-ID and Date never change
-- between attempts; sent later by the outbox worker, outside any transaction.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id    BIGINT  NULL REFERENCES complaints (id),
    kind            TEXT    NOT NULL,
    message_id      TEXT    NOT NULL UNIQUE,
    envelope_from   TEXT    NOT NULL,
    recipients      TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    raw             BLOB    NOT NULL,
    auto_reply      BIGINT  NOT NULL DEFAULT 0,
    status          TEXT    NOT NULL DEFAULT 'pending',
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    last_error      TEXT    NULL,
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT  NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_recipients ON outbox (recipients, created_at);

-- The audit trail: every message in and out, every change and who made it.
CREATE TABLE complaint_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id  BIGINT  NOT NULL REFERENCES complaints (id),
    at            BIGINT  NOT NULL,
    actor         TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    detail        TEXT    NOT NULL DEFAULT '',
    message_pk    BIGINT  NULL,
    outbox_id     BIGINT  NULL
);
CREATE INDEX complaint_events_complaint ON complaint_events (complaint_id, id);

-- What the officer must look at, with the reason.
CREATE TABLE flags (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    message_pk    BIGINT  NULL,
    complaint_id  BIGINT  NULL,
    reason        TEXT    NOT NULL,
    detail        TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL,
    resolved_at   BIGINT  NULL
);
CREATE INDEX flags_open ON flags (resolved_at);

-- Per IMAP folder: the UIDVALIDITY seen and the next UID to fetch (RFC 3501 2.3.1.1).
CREATE TABLE mailbox_cursors (
    folder        TEXT    PRIMARY KEY,
    uidvalidity   BIGINT  NOT NULL,
    next_uid      BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

-- Health of the long-running workers, for `klachtenbot status`.
CREATE TABLE worker_status (
    worker         TEXT   PRIMARY KEY,
    last_ok_at     BIGINT NULL,
    last_error     TEXT   NULL,
    last_error_at  BIGINT NULL
);
