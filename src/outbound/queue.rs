//! Writing mail to the outbox inside the caller's transaction: render, compose, enqueue, and
//! note it on the complaint's timeline.

use jiff::Timestamp;
use sqlx::AnyConnection;

use super::compose::{Draft, FileAttachment, compose, new_message_id};
use crate::app::Bot;
use crate::domain::{EmailAddress, EventKind, MessageId, Reference};
use crate::store::{events, outbox};

/// The actor name the bot uses on timelines.
pub const BOT: &str = "klachtenbot";

/// One mail to queue.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    /// The complaint: row id and reference.
    pub complaint: Option<(i64, Reference)>,
    /// Template name and outbox kind.
    pub kind: &'a str,
    /// Template variables.
    pub context: tera::Context,
    /// Recipients.
    pub to: Vec<EmailAddress>,
    /// The mail we answer.
    pub in_reply_to: Option<&'a MessageId>,
    /// The thread.
    pub references: Vec<MessageId>,
    /// Counts as an automatic reply (acknowledgement) for the per-sender limit.
    pub auto_reply: bool,
    /// Send with the null envelope sender (`MAIL FROM:<>`), so that a bounce of it is
    /// dropped instead of coming back to our mailbox: used for notices to staff, which must
    /// never start a loop.
    pub null_sender: bool,
}

/// Renders and queues a mail; returns the outbox row id and the Message-ID.
pub async fn enqueue(
    bot: &Bot,
    conn: &mut AnyConnection,
    mail: Outgoing<'_>,
    now: Timestamp,
) -> anyhow::Result<(i64, MessageId)> {
    enqueue_with_attachments(bot, conn, mail, &[], now).await
}

/// Like [`enqueue`], with files attached (the report).
pub async fn enqueue_with_attachments(
    bot: &Bot,
    conn: &mut AnyConnection,
    mail: Outgoing<'_>,
    attachments: &[FileAttachment],
    now: Timestamp,
) -> anyhow::Result<(i64, MessageId)> {
    let settings = &bot.settings;
    let mut context = mail.context;
    context.insert("organisation", &settings.organisation.name);
    if let Some((_, r)) = mail.complaint {
        context.insert("reference", &r.to_string());
    }
    let text = bot.renderer.render(mail.kind, &context)?;
    let message_id = new_message_id(
        mail.complaint.map(|(_, r)| r),
        match mail.to.as_slice() {
            [only] => Some(only),
            _ => None,
        },
        &settings.organisation.mail_domain,
        settings
            .auth
            .token_secret
            .as_ref()
            .map(|s| s.expose().as_bytes()),
    );
    let from_name = settings.organisation.name.as_str();
    let draft = Draft {
        from: (from_name, &settings.address),
        to: &mail.to,
        subject: &text.subject,
        body: &text.body,
        in_reply_to: mail.in_reply_to,
        references: &mail.references,
        auto_reply: mail.auto_reply,
        attachments,
    };
    let raw = compose(&draft, &message_id)?;
    let recipients = mail
        .to
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let envelope_from = if mail.null_sender {
        String::new()
    } else {
        settings.address.to_string()
    };
    let id = outbox::enqueue(
        conn,
        &outbox::NewOutgoing {
            complaint_id: mail.complaint.map(|(id, _)| id),
            kind: mail.kind,
            message_id: message_id.as_ref(),
            envelope_from: &envelope_from,
            recipients: &recipients,
            subject: &text.subject,
            body: &text.body,
            raw: &raw,
            auto_reply: mail.auto_reply,
        },
        now,
    )
    .await?;
    if let Some((complaint_id, _)) = mail.complaint {
        let detail = format!("{} to {recipients}: {}", mail.kind, text.subject);
        events::append(
            conn,
            &events::NewEvent {
                complaint_id,
                at: now,
                actor: BOT,
                kind: EventKind::MailOut,
                detail: &detail,
                message_pk: None,
                outbox_id: Some(id),
            },
        )
        .await?;
    }
    Ok((id, message_id))
}

/// What a notice to the officers is about; its title in the mail's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// A message needs a person (unreadable, no sender, processing failed).
    NeedsAttention,
    /// A message was moved to the quarantine folder.
    Quarantined,
    /// A mail of ours could not be delivered.
    NotDelivered,
    /// A mail of ours to a complainant bounced.
    Bounced,
    /// A command from an officer's or staff address was refused (no proof).
    CommandRefused,
    /// Someone who is not a party wrote about a complaint.
    UnknownSender,
    /// Someone wrote on a closed complaint.
    ClosedComplaint,
    /// The acknowledgement must go by post or phone.
    AcknowledgeByPost,
    /// The register's disk is below `[database] min_free`: no mail is taken.
    LowDisk,
}

impl Notice {
    /// The title, Dutch or English.
    pub fn title(self, language: crate::config::Language) -> &'static str {
        let (nl, en) = match self {
            Notice::NeedsAttention => ("Bericht vraagt aandacht", "Message needs attention"),
            Notice::Quarantined => ("Bericht in quarantaine", "Message quarantined"),
            Notice::NotDelivered => ("Mail niet afgeleverd", "Mail not delivered"),
            Notice::Bounced => ("Mail onbestelbaar", "Mail bounced"),
            Notice::CommandRefused => ("Opdracht geweigerd", "Command refused"),
            Notice::UnknownSender => ("Onbekende afzender", "Unknown sender"),
            Notice::ClosedComplaint => {
                ("Reactie op gesloten klacht", "Reply on a closed complaint")
            }
            Notice::AcknowledgeByPost => (
                "Ontvangstbevestiging per post of telefoon",
                "Acknowledge by post or phone",
            ),
            Notice::LowDisk => (
                "Schijf van het register bijna vol: geen mail aangenomen",
                "Register disk nearly full: no mail taken",
            ),
        };
        match language {
            crate::config::Language::Nl => nl,
            crate::config::Language::En => en,
        }
    }
}

/// Tells the officers something (a flag, a quarantined mail, a failed send). Does nothing
/// when no officer is configured: the flag stays visible in `klachtenbot list --flagged`.
pub async fn notify_officers(
    bot: &Bot,
    conn: &mut AnyConnection,
    complaint: Option<(i64, Reference)>,
    notice: Notice,
    text: &str,
    now: Timestamp,
) -> anyhow::Result<()> {
    let officers = bot.settings.people.officers.clone();
    if officers.is_empty() {
        return Ok(());
    }
    let mut context = tera::Context::new();
    context.insert("title", notice.title(bot.settings.organisation.language));
    context.insert("text", text);
    let mail = Outgoing {
        complaint,
        kind: "officer_notice",
        context,
        to: officers,
        in_reply_to: None,
        references: Vec::new(),
        auto_reply: false,
        null_sender: true,
    };
    enqueue(bot, conn, mail, now).await?;
    Ok(())
}
