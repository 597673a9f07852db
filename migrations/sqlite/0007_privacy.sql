-- Privacy (AVG/GDPR): when a complaint was anonymised, the audit of access requests and
-- erasures, and the once-a-day claim of the retention sweep. Portable like 0001.

-- Set once, when the complaint's personal data was removed (retention or erasure).
ALTER TABLE complaints ADD COLUMN anonymised_at BIGINT NULL;

-- Who exported or erased what, and when. `person_hash` is a salted SHA-256 of the person's
-- address (lower case), so a later question "did you erase x?" can be answered without
-- keeping x. `actor` is the OS user, or the officer's address when asked by mail.
CREATE TABLE privacy_audit (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            BIGINT  NOT NULL,
    action        TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    person_hash   TEXT    NULL,
    complaints    BIGINT  NOT NULL DEFAULT 0,
    detail        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX privacy_audit_at ON privacy_audit (at);

-- The salt of `privacy_audit.person_hash`, made once per register.
CREATE TABLE privacy_salt (
    id            BIGINT  PRIMARY KEY,
    salt          TEXT    NOT NULL
);

-- One row per day the retention sweep ran (`day` in the organisation's time zone), written
-- before it runs, so two instances or a restart never sweep the same day twice.
CREATE TABLE privacy_sweeps (
    day           TEXT    PRIMARY KEY,
    started_at    BIGINT  NOT NULL,
    complaints    BIGINT  NOT NULL DEFAULT 0
);

-- Erasures confirmed by mail (#vergeten), carried out by the scheduler outside the intake's
-- transaction (so the WAL checkpoint can follow). The address is blanked once done.
CREATE TABLE privacy_erasures (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    address       TEXT    NOT NULL,
    requested_by  TEXT    NOT NULL,
    requested_at  BIGINT  NOT NULL,
    done_at       BIGINT  NULL
);
