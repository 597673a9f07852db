-- Several instances on one register (issue 11). Portable like 0001: BIGINT Unix seconds,
-- INTEGER 0/1 booleans, explicit columns.

-- One row per running (or once running) `klachtenbot run`: its identity, what it does and
-- its heartbeat. `role` is `active` (watches the mailbox) or `standby`. Rows of stopped
-- instances stay until a newer instance prunes them, so `status` can show what died.
CREATE TABLE instances (
    id          TEXT    NOT NULL PRIMARY KEY,
    host        TEXT    NOT NULL,
    pid         BIGINT  NOT NULL,
    name        TEXT    NULL,
    started_at  BIGINT  NOT NULL,
    last_seen   BIGINT  NOT NULL,
    role        TEXT    NOT NULL DEFAULT 'standby',
    stopped_at  BIGINT  NULL
);

-- The instance that claimed an outbox row for the attempt in progress; NULL when nobody
-- holds it. Claims of an instance whose heartbeat stopped are handed back.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT NULL;
CREATE INDEX outbox_claimed_by ON outbox (claimed_by);
