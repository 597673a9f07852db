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
