//! Privacy commands by mail, for the officer: `#inzage adres` (`#access`) mails the export
//! about that address back to the officer, never to the person (identity is checked by
//! people). Called from one place in the intake's command handling, inside its
//! transaction.

use jiff::Timestamp;
use sqlx::AnyConnection;

use super::Person;
use super::export;
use crate::app::Bot;
use crate::commands::{Name, Parsed, Value};
use crate::domain::{EmailAddress, MessageId};
use crate::outbound::compose::FileAttachment;
use crate::outbound::queue::{self, Outgoing};

/// Carries out the `#inzage` commands of `parsed` (the table lets only officers use it):
/// one export per address, mailed to `officer` in reply to `in_reply_to`. Returns the
/// lines for the command reply.
pub async fn access(
    bot: &Bot,
    conn: &mut AnyConnection,
    parsed: &Parsed,
    officer: &EmailAddress,
    in_reply_to: Option<&MessageId>,
    now: Timestamp,
) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    for c in &parsed.commands {
        let (Name::Access, Value::Address(address)) = (&c.name, &c.value) else {
            continue;
        };
        let person = Person {
            address: Some(address.clone()),
            ..Person::default()
        };
        let made = export::export_on(bot, conn, &person, officer.as_ref(), now).await?;
        let count = made.summary.complaints.len();
        let mut ctx = tera::Context::new();
        ctx.insert("address", address.as_ref());
        ctx.insert("complaints", &count);
        ctx.insert("other_mails", &made.summary.other_mails.len());
        let file = FileAttachment {
            filename: "inzage.zip".into(),
            content_type: "application/zip".into(),
            data: made.zip,
        };
        let out = Outgoing {
            complaint: None,
            kind: "privacy_export",
            context: ctx,
            to: vec![officer.clone()],
            in_reply_to,
            references: Vec::new(),
            auto_reply: false,
            null_sender: true,
        };
        queue::enqueue_with_attachments(bot, conn, out, &[file], now).await?;
        lines.push(format!(
            "the export about {address} ({count} complaints) is mailed to {officer}"
        ));
    }
    Ok(lines)
}

/// Carries out the `#vergeten` commands of `parsed`. Without a confirmation, the officer
/// gets a mail listing what would be erased; a reply to that mail (its Message-ID in
/// `thread`) with the same command confirms: the erasure is queued in `privacy_erasures`
/// and carried out by the scheduler ([`super::sweep::scheduled`]) once this transaction
/// has committed, outside it, so the WAL checkpoint can follow.
pub async fn erase(
    bot: &Bot,
    conn: &mut AnyConnection,
    parsed: &Parsed,
    officer: &EmailAddress,
    thread: &[MessageId],
    now: Timestamp,
) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    for c in &parsed.commands {
        let (Name::Erase, Value::Address(address)) = (&c.name, &c.value) else {
            continue;
        };
        if confirms(conn, address, thread).await? {
            sqlx::query(
                "INSERT INTO privacy_erasures (address, requested_by, requested_at) \
                 VALUES ($1, $2, $3)",
            )
            .bind(address.as_ref())
            .bind(officer.as_ref())
            .bind(crate::store::secs(now))
            .execute(&mut *conn)
            .await?;
            crate::scheduler::wake();
            lines.push(format!(
                "erasure of {address} confirmed: carried out within a minute"
            ));
            continue;
        }
        ask(bot, conn, address, officer, thread.last(), now).await?;
        lines.push(format!(
            "nothing erased yet: reply to the confirmation mail about {address} to erase"
        ));
    }
    Ok(lines)
}

/// Whether one of `thread` is our confirmation mail about `address`.
async fn confirms(
    conn: &mut AnyConnection,
    address: &EmailAddress,
    thread: &[MessageId],
) -> anyhow::Result<bool> {
    let pattern = format!("%{address}%");
    for id in thread {
        let found = sqlx::query(
            "SELECT id FROM outbox WHERE message_id = $1 AND kind = 'privacy_erase_confirm' \
             AND subject LIKE $2",
        )
        .bind(id.as_ref())
        .bind(&pattern)
        .fetch_optional(&mut *conn)
        .await?;
        if found.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The confirmation mail: what an erasure of `address` would do.
async fn ask(
    bot: &Bot,
    conn: &mut AnyConnection,
    address: &EmailAddress,
    officer: &EmailAddress,
    in_reply_to: Option<&MessageId>,
    now: Timestamp,
) -> anyhow::Result<()> {
    let person = Person {
        address: Some(address.clone()),
        ..Person::default()
    };
    let found = super::person::complaints_of(conn, &person).await?;
    let list: Vec<String> = found
        .iter()
        .map(|f| {
            let what = match (f.anonymised, f.status == "closed") {
                (true, _) => "al geanonimiseerd / already anonymised",
                (false, true) => "wordt gewist / erased",
                (false, false) => "open: blijft staan / left alone",
            };
            format!("{} ({}, {}): {what}", f.reference, f.role, f.status)
        })
        .collect();
    let mut ctx = tera::Context::new();
    ctx.insert("address", address.as_ref());
    ctx.insert("complaints", &list);
    let out = Outgoing {
        complaint: None,
        kind: "privacy_erase_confirm",
        context: ctx,
        to: vec![officer.clone()],
        in_reply_to,
        references: Vec::new(),
        auto_reply: false,
        null_sender: true,
    };
    queue::enqueue(bot, conn, out, now).await?;
    Ok(())
}
