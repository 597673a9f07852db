-- Deadlines, reminders and digests (the scheduler). Portable like 0001: BIGINT Unix seconds,
-- INTEGER 0/1 booleans, explicit columns.

-- Reminders as due items: planned from the complaint's state, sent once (sent_at and the
-- outbox row are written in one transaction), dropped when the planner no longer wants them
-- (the thing was done, the deadline moved, the complaint closed). One row per reminder
-- moment: a moved deadline gives new rows, so a reminder already sent stays on record.
CREATE TABLE reminders (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id  BIGINT  NOT NULL REFERENCES complaints (id),
    kind          TEXT    NOT NULL,
    due_at        BIGINT  NOT NULL,
    deadline      BIGINT  NOT NULL,
    created_at    BIGINT  NOT NULL,
    sent_at       BIGINT  NULL,
    dropped_at    BIGINT  NULL,
    outbox_id     BIGINT  NULL,
    UNIQUE (complaint_id, kind, due_at)
);
CREATE INDEX reminders_pending ON reminders (sent_at, dropped_at, due_at);

-- The times a complaint waited on the complainant's verdict (status awaiting_verdict), as
-- the scheduler saw them start and end. `solve_by` is the solve deadline the pause applies
-- to: a deadline moved by #termijn is taken as given and earlier pauses no longer move it.
CREATE TABLE complaint_pauses (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id  BIGINT  NOT NULL REFERENCES complaints (id),
    solve_by      BIGINT  NOT NULL,
    started_at    BIGINT  NOT NULL,
    ended_at      BIGINT  NULL
);
CREATE INDEX complaint_pauses_complaint ON complaint_pauses (complaint_id, id);

-- One row per digest period ("daily:2026-03-02", "weekly:2026-W10"), written in the
-- transaction that queues it (or records it as skipped, outbox_id NULL), so a restart or a
-- second instance never sends a period twice.
CREATE TABLE digests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL,
    period_key    TEXT    NOT NULL UNIQUE,
    sent_at       BIGINT  NOT NULL,
    items         BIGINT  NOT NULL DEFAULT 0,
    outbox_id     BIGINT  NULL
);
