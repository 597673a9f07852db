-- Recommendations (#aanbeveling, officer's task 6) and the measures management decided on
-- (#maatregel, step 10), for the annual report.

CREATE TABLE recommendations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id  BIGINT  NULL REFERENCES complaints (id),
    text          TEXT    NOT NULL,
    made_by       TEXT    NOT NULL,
    made_at       BIGINT  NOT NULL
);

CREATE TABLE measures (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id  BIGINT  NULL REFERENCES complaints (id),
    text          TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'decided',
    decided_by    TEXT    NOT NULL,
    decided_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
