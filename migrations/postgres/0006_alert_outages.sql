-- Outages of IMAP and SMTP (and bursts of failed mails) as the alerts see them (issue 12):
-- one row per failing part while it fails, so a restart neither repeats an alert nor
-- forgets the recovery mail. Timestamps are Unix seconds, like everywhere else.
CREATE TABLE alert_outages (
    part        TEXT   PRIMARY KEY,
    since       BIGINT NOT NULL,
    last_error  TEXT   NULL,
    alerted_at  BIGINT NULL
);
