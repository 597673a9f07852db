//! Anonymising one complaint in the register, inside the caller's transaction: the record,
//! its raw mails and attachments, its outbox rows, its timeline and flags, and the unlinked
//! rows (bounces, digests) that mention the person. Then, after the commit, [`make_gone`]
//! makes the old bytes unreadable on disk.

use anyhow::Context;
use jiff::Timestamp;
use sqlx::{AnyConnection, Executor, Row};

use super::plan::{self, Needles};
use crate::config::People;
use crate::store::complaints::{self, StoredComplaint};
use crate::store::events::{self, NewEvent};
use crate::store::{Backend, Store, secs};

/// Why and by whom a complaint is anonymised, as its timeline records it. Free of personal
/// data by construction: a rule name and an actor (the bot, an OS user or an officer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `retention` (the sweep) or `erasure` (a request).
    pub kind: &'static str,
    /// Who: `klachtenbot`, the OS user, or the officer's address.
    pub actor: String,
    /// The detail on the timeline, e.g. "closed longer than 2y ago".
    pub why: String,
}

/// Anonymises complaint `id` (see [`plan::anonymise`]) with `extra` needles (an erasure's
/// address, phone and name) and appends the timeline event. Returns the reference.
pub async fn anonymise(
    conn: &mut AnyConnection,
    people: &People,
    id: i64,
    extra: &Needles,
    rule: &Rule,
    now: Timestamp,
) -> anyhow::Result<String> {
    let StoredComplaint { complaint: c, .. } = complaints::load_by_id(conn, id)
        .await?
        .with_context(|| format!("Complaint {id} is not in the register"))?;
    let mut needles = Needles::of(&c.complainant, c.concerned.as_ref());
    // Rows of no complaint are emptied for the complainant (and an erasure's person) only:
    // the concerned person is mostly a colleague, whose other mail is not this complaint's.
    let mut unlinked = Needles::of(&c.complainant, None);
    for n in extra.iter() {
        needles.add(n);
        unlinked.add(n);
    }
    complaints::update(conn, id, &plan::anonymise(&c, &needles), now).await?;
    sqlx::query("UPDATE complaints SET anonymised_at = $1 WHERE id = $2")
        .bind(secs(now))
        .bind(id)
        .execute(&mut *conn)
        .await
        .context("Failed to mark the complaint anonymised")?;
    let received = ids(conn, "SELECT id FROM messages WHERE complaint_id = $1", id).await?;
    for m in received {
        blank_message(conn, m).await?;
    }
    let sent = ids(conn, "SELECT id FROM outbox WHERE complaint_id = $1", id).await?;
    for o in sent {
        blank_outbox(conn, o, &needles, people).await?;
    }
    scrub_timeline(conn, id, &needles, people).await?;
    sqlx::query("UPDATE flags SET detail = '' WHERE complaint_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .context("Failed to clear the complaint's flags")?;
    scrub_unlinked(conn, &unlinked, people).await?;
    let detail = format!("anonymised: {} ({})", rule.kind, rule.why);
    events::append(
        conn,
        &NewEvent {
            complaint_id: id,
            at: now,
            actor: &rule.actor,
            kind: crate::domain::EventKind::Anonymised,
            detail: &detail,
            message_pk: None,
            outbox_id: None,
        },
    )
    .await
    .context("Failed to record the anonymisation")?;
    Ok(c.reference.to_string())
}

async fn ids(conn: &mut AnyConnection, sql: &str, id: i64) -> anyhow::Result<Vec<i64>> {
    let rows = sqlx::query(sql).bind(id).fetch_all(&mut *conn).await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?)
}

/// Empties a received message: raw bytes, sender, subject, text; deletes its attachments
/// and clears its flags. The row stays (its Message-ID keeps threading and dedupe working,
/// so the same mail delivered again is a duplicate, not a new complaint).
pub async fn blank_message(conn: &mut AnyConnection, id: i64) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE messages SET raw = $1, size = 0, from_address = NULL, subject = NULL, \
         body_text = NULL, outcome = NULL WHERE id = $2",
    )
    .bind(Vec::<u8>::new())
    .bind(id)
    .execute(&mut *conn)
    .await
    .context("Failed to empty a received message")?;
    sqlx::query("DELETE FROM attachments WHERE message_pk = $1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .context("Failed to delete attachments")?;
    sqlx::query("UPDATE flags SET detail = '' WHERE message_pk = $1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .context("Failed to clear a message's flags")?;
    Ok(())
}

/// Empties an outgoing mail: raw and body gone, subject scrubbed, recipients other than
/// staff replaced; a mail not sent yet is given up (it would go out empty).
async fn blank_outbox(
    conn: &mut AnyConnection,
    id: i64,
    needles: &Needles,
    people: &People,
) -> anyhow::Result<()> {
    let row = sqlx::query("SELECT subject, recipients FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let subject = needles.scrub(&row.try_get::<String, _>(0)?);
    let recipients = row
        .try_get::<String, _>(1)?
        .split(',')
        .map(|r| plan::actor(r.trim(), |a| people.is_staff(a), needles))
        .collect::<Vec<_>>()
        .join(",");
    sqlx::query(
        "UPDATE outbox SET raw = $1, body = '', subject = $2, recipients = $3, \
         last_error = CASE WHEN status = 'pending' THEN 'anonymised before sending' ELSE NULL END, \
         status = CASE WHEN status = 'pending' THEN 'failed' ELSE status END WHERE id = $4",
    )
    .bind(Vec::<u8>::new())
    .bind(subject)
    .bind(recipients)
    .bind(id)
    .execute(&mut *conn)
    .await
    .context("Failed to empty an outgoing mail")?;
    Ok(())
}

/// The timeline keeps when and what kind; details go (they quote what people wrote) and
/// actors outside staff become the placeholder.
async fn scrub_timeline(
    conn: &mut AnyConnection,
    complaint_id: i64,
    needles: &Needles,
    people: &People,
) -> anyhow::Result<()> {
    let rows = sqlx::query("SELECT id, actor FROM complaint_events WHERE complaint_id = $1")
        .bind(complaint_id)
        .fetch_all(&mut *conn)
        .await?;
    for row in rows {
        let id: i64 = row.try_get(0)?;
        let actor = plan::actor(
            &row.try_get::<String, _>(1)?,
            |a| people.is_staff(a),
            needles,
        );
        sqlx::query("UPDATE complaint_events SET actor = $1, detail = '' WHERE id = $2")
            .bind(actor)
            .bind(id)
            .execute(&mut *conn)
            .await
            .context("Failed to scrub the timeline")?;
    }
    Ok(())
}

/// Rows of no complaint that mention the person (a bounce, a rejected mail, a digest that
/// listed them): emptied like the complaint's own.
pub async fn scrub_unlinked(
    conn: &mut AnyConnection,
    needles: &Needles,
    people: &People,
) -> anyhow::Result<()> {
    for needle in needles.iter() {
        let pattern = format!("%{needle}%");
        let found = sqlx::query(
            "SELECT id FROM messages WHERE complaint_id IS NULL AND (from_address LIKE $1 \
             OR subject LIKE $1 OR body_text LIKE $1)",
        )
        .bind(&pattern)
        .fetch_all(&mut *conn)
        .await?;
        for row in found {
            blank_message(conn, row.try_get(0)?).await?;
        }
        let found = sqlx::query(
            "SELECT id FROM outbox WHERE complaint_id IS NULL AND (recipients LIKE $1 \
             OR subject LIKE $1 OR body LIKE $1)",
        )
        .bind(&pattern)
        .fetch_all(&mut *conn)
        .await?;
        for row in found {
            blank_outbox(conn, row.try_get(0)?, needles, people).await?;
        }
        sqlx::query("UPDATE worker_status SET last_error = NULL WHERE last_error LIKE $1")
            .bind(&pattern)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE flags SET detail = '' WHERE detail LIKE $1")
            .bind(&pattern)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// After the erasing transaction committed: SQLite (with `secure_delete` on every
/// connection, see [`crate::store`]) has zeroed the freed cells and pages; a
/// `wal_checkpoint(TRUNCATE)` moves the clean pages into the file and empties the WAL, which
/// still held the old ones. PostgreSQL keeps old row versions until `VACUUM` marks their
/// space reusable (not zeroed: see the README's privacy section), so the touched tables are
/// vacuumed. Returns a note when the checkpoint could not finish (a reader held the WAL).
pub async fn make_gone(store: &Store) -> anyhow::Result<Option<String>> {
    let mut conn = store.pool().acquire().await?;
    match store.backend() {
        Backend::Sqlite => {
            let row = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut *conn)
                .await
                .context("Failed to checkpoint the WAL")?;
            let busy: i64 = row.try_get(0)?;
            Ok((busy != 0).then(|| {
                "the WAL checkpoint was blocked by a reader; it completes at the next \
                 checkpoint"
                    .to_string()
            }))
        }
        Backend::Postgres => {
            // A plain string runs as a simple query: VACUUM cannot be prepared.
            conn.execute(
                "VACUUM complaints, messages, attachments, outbox, complaint_events, flags, \
                 worker_status",
            )
            .await
            .context("Failed to vacuum the touched tables")?;
            Ok(None)
        }
    }
}
