//! What a stored message means for the register, decided inside the processing transaction.

use jiff::Timestamp;
use sqlx::AnyConnection;

use super::classify::{self, Automated};
use super::command::{self, Role};
use super::effects;
use super::outcome::Outcome;
use super::parse::{InboundMail, Mailbox};
use super::record::{excerpt, flag, keep_attachments, record, timeline};
use super::register::register;
use super::{person, quoted, staff, strip};
use crate::app::Bot;
use crate::commands;
use crate::domain::{Complaint, EmailAddress, Reference};
use crate::outbound::queue::{self, Notice, Outgoing, notify_officers};
use crate::procedure::{self, Event};
use crate::store::complaints::{self, StoredComplaint};
use crate::store::{flags, messages};

/// Decides and writes what the message means. Runs inside the claimed transaction.
pub(super) async fn interpret(
    bot: &Bot,
    conn: &mut AnyConnection,
    id: i64,
    mail: Option<&InboundMail>,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    let Some(mail) = mail else {
        return flag(
            bot,
            conn,
            id,
            None,
            None,
            "unreadable",
            "no e-mail message could be read from the bytes",
            now,
        )
        .await;
    };
    let own = [&bot.settings.address];
    if classify::is_own(mail, &own) {
        record(
            conn,
            id,
            mail,
            "loop",
            "suppressed: loop (from our own address)",
            None,
            None,
        )
        .await?;
        return Ok(Outcome::Suppressed {
            reason: "loop (from our own address)".into(),
            reference: None,
        });
    }
    let mut existing = find_complaint(bot, conn, mail).await?;
    let machine = classify::automated(mail);
    // A bounce quoting our mail belongs to that complaint, whoever the MTA is.
    if existing.is_none() && machine == Some(Automated::Bounce) {
        existing = quoted_complaint(bot, conn, mail, None).await?;
    }
    if let Some(kind) = machine {
        return automated(bot, conn, id, mail, kind, existing, now).await;
    }
    let Some(from) = mail.from.clone() else {
        let shown = mail.from_raw.clone().unwrap_or_else(|| "(none)".into());
        let reason = format!("no usable sender address (From: {shown})");
        return flag(
            bot,
            conn,
            id,
            Some(mail),
            existing.as_ref(),
            "no_sender",
            &reason,
            now,
        )
        .await;
    };
    // Commands, notes and forwards come only from people who may give them; anyone else's
    // `#words` are plain text of their mail.
    let role = Role::of(bot, &from.address, existing.as_ref().map(|c| &c.complaint));
    if role.may_command() {
        let parsed = commands::parse_subject(&mail.subject);
        let forward = role.staff && existing.is_none() && staff::looks_forwarded(mail);
        // An officer is told about a mistyped command; for anyone else a `#word` that is no
        // command at all ("#urgent") is just part of their subject.
        let commanded = !parsed.commands.is_empty() || (role.officer && parsed.any());
        if commanded || forward {
            return command::handle(bot, conn, id, mail, &from, parsed, existing, now).await;
        }
    }
    let speaker = person::speaker(mail, &from, &own);
    let author = speaker.mailbox();
    // An autoresponder without our headers still quotes our mail: from a party to the
    // complaint it quotes, it is a follow-up of it, not a new complaint.
    if existing.is_none() {
        existing = quoted_complaint(bot, conn, mail, Some(&author.address)).await?;
    }
    match existing {
        Some(found) => follow_up(bot, conn, id, mail, &author, found, now).await,
        None => register(bot, conn, id, mail, &speaker, now).await,
    }
}

/// The complaint whose reference appears in the quoted part of the mail or in an attached
/// copy of our mail; with `party`, only one that address is a party to.
async fn quoted_complaint(
    bot: &Bot,
    conn: &mut AnyConnection,
    mail: &InboundMail,
    party: Option<&EmailAddress>,
) -> anyhow::Result<Option<StoredComplaint>> {
    for reference in quoted::quoted_references(mail) {
        if let Some(found) = complaints::load(conn, reference).await?
            && party.is_none_or(|p| is_party(bot, &found.complaint, p))
        {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// The complaint a mail belongs to: a reference in the subject, or any of its In-Reply-To /
/// References ids naming a mail of the complaint (ours or theirs).
async fn find_complaint(
    bot: &Bot,
    conn: &mut AnyConnection,
    mail: &InboundMail,
) -> anyhow::Result<Option<StoredComplaint>> {
    for reference in Reference::find_all(&mail.subject) {
        if let Some(found) = complaints::load(conn, reference).await? {
            return Ok(Some(found));
        }
    }
    let ids: Vec<String> = mail
        .in_reply_to
        .iter()
        .chain(&mail.references)
        .map(|m| m.to_string())
        .collect();
    if let Some(cid) = messages::complaint_of_message_ids(conn, &ids).await? {
        return complaints::load_by_id(conn, cid).await;
    }
    // Our own Message-IDs carry the reference (kb.KL-2026-0042.x@our.domain), so a reply
    // still finds its complaint when the referenced outbox row is gone.
    let domain = format!("@{}", bot.settings.organisation.mail_domain);
    for id in mail.in_reply_to.iter().chain(&mail.references) {
        if id.as_ref().ends_with(&domain)
            && let Some(r) = Reference::find(id.as_ref())
            && let Some(found) = complaints::load(conn, r).await?
        {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

async fn automated(
    bot: &Bot,
    conn: &mut AnyConnection,
    id: i64,
    mail: &InboundMail,
    kind: Automated,
    existing: Option<StoredComplaint>,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    let reference = existing.as_ref().map(|c| c.complaint.reference);
    let outcome = format!("suppressed: {kind}");
    record(
        conn,
        id,
        mail,
        &format!("automated:{kind}"),
        &outcome,
        existing.as_ref().map(|c| c.id),
        None,
    )
    .await?;
    if let Some(found) = &existing {
        let detail = format!(
            "automated mail ({kind}) received, not answered: {}",
            mail.subject
        );
        timeline(
            conn,
            found.id,
            now,
            &sender(mail),
            "mail_in",
            &detail,
            Some(id),
        )
        .await?;
        // A bounce on a complaint means the complainant may not have our mail.
        if kind == Automated::Bounce {
            let reason = format!(
                "a mail of {} bounced: {}",
                found.complaint.reference, mail.subject
            );
            flags::raise(conn, Some(id), Some(found.id), "bounce", &reason, now).await?;
            notify_officers(
                bot,
                conn,
                Some((found.id, found.complaint.reference)),
                Notice::Bounced,
                &reason,
                now,
            )
            .await?;
        }
    }
    Ok(Outcome::Suppressed {
        reason: kind.to_string(),
        reference,
    })
}

fn sender(mail: &InboundMail) -> String {
    mail.from
        .as_ref()
        .map(|f| f.address.to_string())
        .or_else(|| mail.from_raw.clone())
        .unwrap_or_else(|| "(unknown)".into())
}

/// Whether `who` may add to this complaint: its complainant, the staff on it (assignee,
/// concerned person, who received it), the officers. Other staff are not parties:
/// PROCEDURE.md lets staff add only to complaints assigned to them.
fn is_party(bot: &Bot, c: &Complaint, who: &EmailAddress) -> bool {
    [
        &c.complainant.email,
        &c.assignee,
        &c.concerned,
        &c.received_by,
    ]
    .into_iter()
    .any(|a| a.as_ref() == Some(who))
        || bot.settings.people.is_officer(who)
}

async fn follow_up(
    bot: &Bot,
    conn: &mut AnyConnection,
    id: i64,
    mail: &InboundMail,
    from: &Mailbox,
    found: StoredComplaint,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    let c = &found.complaint;
    let text = strip::new_text(&mail.text).text;
    let scope = Some((found.id, c.reference));
    if !is_party(bot, c, &from.address) {
        let reason = format!(
            "{} is not a party to {}; the mail was not added to it",
            from.address, c.reference
        );
        record(
            conn,
            id,
            mail,
            "unverified_follow_up",
            &format!("flagged: {reason}"),
            Some(found.id),
            Some(&text),
        )
        .await?;
        timeline(
            conn,
            found.id,
            now,
            from.address.as_ref(),
            "mail_in_unverified",
            &reason,
            Some(id),
        )
        .await?;
        flags::raise(conn, Some(id), Some(found.id), "not_a_party", &reason, now).await?;
        notify_officers(bot, conn, scope, Notice::UnknownSender, &reason, now).await?;
        return Ok(Outcome::Flagged {
            reason,
            reference: Some(c.reference),
        });
    }
    let (updated, _) = procedure::apply(c, &Event::FollowUpReceived, now)?;
    complaints::update(conn, found.id, &updated, now).await?;
    record(
        conn,
        id,
        mail,
        "follow_up",
        &format!("follow-up {}", c.reference),
        Some(found.id),
        Some(&text),
    )
    .await?;
    keep_attachments(conn, id, mail).await?;
    timeline(
        conn,
        found.id,
        now,
        from.address.as_ref(),
        "mail_in",
        &excerpt(&text),
        Some(id),
    )
    .await?;
    // The officer decides what a mail on a closed complaint means (reopen or not).
    if c.status == crate::domain::Status::Closed {
        let reason = format!("{} wrote on closed complaint {}", from.address, c.reference);
        flags::raise(
            conn,
            Some(id),
            Some(found.id),
            "needs_officer",
            &reason,
            now,
        )
        .await?;
        let text = format!("{reason}.\n\nTheir words:\n\n{text}");
        notify_officers(bot, conn, scope, Notice::ClosedComplaint, &text, now).await?;
    }
    // Step 8: the complainant's answer to a proposed solution goes to the officer and the
    // assignee, with the commands that record the verdict.
    if c.status == crate::domain::Status::AwaitingVerdict
        && c.complainant.email.as_ref() == Some(&from.address)
    {
        let mut ctx = effects::context(bot, c);
        ctx.insert("text", &text);
        let to: Vec<EmailAddress> = bot
            .settings
            .people
            .officers
            .iter()
            .chain(&c.assignee)
            .cloned()
            .collect();
        if !to.is_empty() {
            let out = Outgoing {
                complaint: scope,
                kind: "verdict_reply",
                context: ctx,
                to,
                in_reply_to: None,
                references: Vec::new(),
                auto_reply: false,
                null_sender: true,
            };
            queue::enqueue(bot, conn, out, now).await?;
        }
    }
    Ok(Outcome::FollowUp(c.reference))
}
