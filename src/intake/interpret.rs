//! What a stored message means for the register, decided inside the processing transaction.

use jiff::Timestamp;
use sqlx::AnyConnection;

use super::classify::{self, Automated};
use super::command::{self, Role};
use super::effects::{self, Thread};
use super::parse::{InboundMail, Mailbox};
use super::process::Outcome;
use super::record::{excerpt, flag, keep_attachments, record, timeline};
use super::staff;
use super::strip;
use crate::app::Bot;
use crate::commands;
use crate::domain::{
    Channel, Complainant, Complaint, CustomerType, EmailAddress, MessageId, Origin, Reference,
};
use crate::outbound::queue::{self, Notice, Outgoing, notify_officers};
use crate::procedure::{self, DeadlineTimes, Effect, Event, NewComplaint};
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
    let existing = find_complaint(bot, conn, mail).await?;
    if let Some(kind) = classify::automated(mail) {
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
    match existing {
        Some(found) => follow_up(bot, conn, id, mail, &from, found, now).await,
        None => register(bot, conn, id, mail, &from, now).await,
    }
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

async fn register(
    bot: &Bot,
    conn: &mut AnyConnection,
    id: i64,
    mail: &InboundMail,
    from: &Mailbox,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    let settings = &bot.settings;
    let staff = settings.people.is_staff(&from.address);
    let text = strip::new_text(&mail.text).text;
    let subject = strip::strip_subject_prefixes(&mail.subject)
        .trim()
        .to_string();
    let new = NewComplaint {
        received_at: now,
        channel: Channel::Email,
        origin: if staff {
            Origin::Internal
        } else {
            Origin::External
        },
        customer_type: staff.then_some(CustomerType::Internal),
        complainant: Complainant {
            name: from.name.clone(),
            email: Some(from.address.clone()),
            phone: None,
            organisation: None,
        },
        received_by: None,
        subject: if subject.is_empty() {
            "(geen onderwerp)".into()
        } else {
            subject
        },
        description: text.clone(),
        solved_at_first_contact: false,
    };
    let (cid, complaint, effects) = register_new(bot, conn, new, now).await?;
    let reference = complaint.reference;
    record(
        conn,
        id,
        mail,
        "new_complaint",
        &format!("registered {reference}"),
        Some(cid),
        Some(&text),
    )
    .await?;
    keep_attachments(conn, id, mail).await?;
    let detail = format!(
        "registered from mail by {}: {}",
        from.address, complaint.subject
    );
    timeline(
        conn,
        cid,
        now,
        from.address.as_ref(),
        "registered",
        &detail,
        Some(id),
    )
    .await?;
    let references: Vec<MessageId> = mail.references.clone();
    let thread = Thread {
        in_reply_to: mail.message_id.as_ref(),
        references: &references,
    };
    let (complaint, _) = effects::carry_out(
        bot,
        conn,
        cid,
        complaint,
        &effects,
        from.address.as_ref(),
        thread,
        now,
    )
    .await?;
    complaints::update(conn, cid, &complaint, now).await?;
    Ok(Outcome::Registered(reference))
}

/// Registers a new complaint (step 1): the next reference of the year in the organisation's
/// time zone, the deadlines, the row. Returns its row id, the record and the effects to carry
/// out (the acknowledgement).
pub(super) async fn register_new(
    bot: &Bot,
    conn: &mut AnyConnection,
    new: NewComplaint,
    now: Timestamp,
) -> anyhow::Result<(i64, Complaint, Vec<Effect>)> {
    let year = now
        .to_zoned(bot.settings.organisation.timezone.clone())
        .year();
    let reference = complaints::next_reference(conn, year).await?;
    let (complaint, effects) = procedure::register(new, reference, deadlines(bot, now));
    let cid = complaints::insert(conn, &complaint, now).await?;
    Ok((cid, complaint, effects))
}

/// The deadlines of a complaint received at `at`.
pub(crate) fn deadlines(bot: &Bot, at: Timestamp) -> DeadlineTimes {
    let d = &bot.settings.deadlines;
    DeadlineTimes {
        acknowledge_by: bot.calendar.deadline(at, &d.acknowledge),
        explain_by: bot.calendar.deadline(at, &d.explain),
        solve_by: bot.calendar.deadline(at, &d.solve),
    }
}
