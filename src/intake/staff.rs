//! What staff send in: phone notes (`#telefoon`), scanned letters (`#brief`) and forwarded
//! customer mail. The complaint is the customer's; the staff member is recorded as who
//! received it, and always gets an answer saying what was registered and what was missing.

use jiff::Timestamp;
use sqlx::AnyConnection;

use super::answer::answer_sender;
use super::effects::{self, Thread};
use super::outcome::Outcome;
use super::parse::{self, InboundMail, Mailbox};
use super::record::{keep_attachments, record, timeline};
use super::register::register_new;
use super::{forward, phone, strip};
use crate::app::Bot;
use crate::commands::{Name, Parsed, Value};
use crate::domain::{
    Channel, Classification, Complainant, CustomerType, EmailAddress, MessageId, Origin,
};
use crate::procedure::{self, Effect, Event, NewComplaint};
use crate::store::complaints;

/// Whether a staff member's mail is a forward of someone else's: a forward prefix in the
/// subject, or an attached message. (Outlook writes the same header block for replies and
/// forwards, so the body alone does not decide.)
pub(super) fn looks_forwarded(mail: &InboundMail) -> bool {
    let lower = mail.subject.trim_start().to_lowercase();
    let prefixed = ["fw:", "fwd:", "doorst:", "wg:", "tr:", "rv:", "fw ", "[fwd"]
        .iter()
        .any(|p| lower.starts_with(p));
    prefixed || !mail.attached_messages.is_empty()
}

/// A phone note or letter: register from the labelled lines, close at once with `#opgelost`,
/// report with `#structureel`, acknowledge when there is an address.
pub(super) async fn note(
    bot: &Bot,
    conn: &mut AnyConnection,
    id: i64,
    mail: &InboundMail,
    from: &Mailbox,
    parsed: &Parsed,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    let letter = parsed.has(Name::Letter);
    let body = strip::new_text(&mail.text).text;
    let note = phone::parse_note(&body);
    let solved = parsed.has(Name::Solved);
    let subject = note_subject(parsed, &note.text);
    let internal = note.customer_type == Some(CustomerType::Internal);
    let new = NewComplaint {
        received_at: now,
        channel: if letter {
            Channel::Letter
        } else {
            Channel::Phone
        },
        origin: if internal {
            Origin::Internal
        } else {
            Origin::External
        },
        customer_type: note.customer_type,
        complainant: Complainant {
            name: note.name.clone(),
            email: note.email.clone(),
            phone: note.phone.clone(),
            organisation: note.organisation.clone(),
        },
        received_by: Some(from.address.clone()),
        subject: subject.clone(),
        description: note.text.clone(),
        solved_at_first_contact: solved,
    };
    let channel = if letter { "letter" } else { "phone note" };
    let detail = format!("registered from a {channel} by {}: {subject}", from.address);
    let staff = Staff {
        id,
        mail,
        from,
        parsed,
    };
    let done = settle(bot, conn, &staff, new, &detail, Thread::default(), now).await?;
    let mut ctx = effects::context(bot, &done.complaint);
    ctx.insert("channel", if letter { "brief" } else { "telefoonnotitie" });
    ctx.insert("solved", &solved);
    ctx.insert("missing", &note.missing.join(", "));
    ctx.insert("problems", &note.problems);
    ctx.insert("acknowledged", &done.acknowledged);
    let kind = format!("{}_note", done.complaint.channel);
    finish(bot, conn, &staff, &done, ctx, &kind, &body, now).await
}

fn note_subject(parsed: &Parsed, text: &str) -> String {
    let from_subject = parsed
        .commands
        .iter()
        .find(|c| matches!(c.name, Name::Phone | Name::Letter))
        .map(|c| c.arg_text.trim().to_string());
    match from_subject.filter(|s| !s.is_empty()) {
        Some(s) => s,
        None => text
            .lines()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.chars().take(80).collect())
            .unwrap_or_else(|| "(geen onderwerp)".into()),
    }
}

/// A forwarded customer mail: the complaint is the original sender's.
pub(super) async fn forward(
    bot: &Bot,
    conn: &mut AnyConnection,
    id: i64,
    mail: &InboundMail,
    from: &Mailbox,
    parsed: &Parsed,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    let original = Original::find(mail);
    let overridden = parsed
        .commands
        .iter()
        .find_map(|c| match (&c.name, &c.value) {
            (Name::Customer, Value::Address(a)) => Some(a.clone()),
            _ => None,
        });
    let email = overridden.or_else(|| original.email.clone());
    let subject = original.subject.clone().unwrap_or_else(|| {
        strip::strip_subject_prefixes(&mail.subject)
            .trim()
            .to_string()
    });
    let new = NewComplaint {
        received_at: now,
        channel: Channel::Email,
        origin: Origin::External,
        customer_type: None,
        complainant: Complainant {
            name: original.name.clone(),
            email: email.clone(),
            phone: None,
            organisation: None,
        },
        received_by: Some(from.address.clone()),
        subject: if subject.is_empty() {
            "(geen onderwerp)".into()
        } else {
            subject
        },
        description: original.text.clone(),
        solved_at_first_contact: false,
    };
    let note = strip::new_text(&mail.text).text;
    let detail = format!(
        "forwarded by {}{}",
        from.address,
        if note.is_empty() {
            String::new()
        } else {
            format!(": {note}")
        }
    );
    let ids: Vec<MessageId> = original.message_id.iter().cloned().collect();
    let thread = Thread {
        in_reply_to: original.message_id.as_ref(),
        references: &ids,
    };
    let staff = Staff {
        id,
        mail,
        from,
        parsed,
    };
    let done = settle(bot, conn, &staff, new, &detail, thread, now).await?;
    let mut ctx = effects::context(bot, &done.complaint);
    ctx.insert("channel", "doorgestuurde mail");
    ctx.insert("solved", &false);
    ctx.insert(
        "missing",
        if email.is_none() {
            "E-mail (antwoord met #klant adres)"
        } else {
            ""
        },
    );
    ctx.insert("problems", &done.lines);
    ctx.insert("acknowledged", &done.acknowledged);
    finish(
        bot,
        conn,
        &staff,
        &done,
        ctx,
        "forward",
        &original.text,
        now,
    )
    .await
}

/// The staff member's mail being handled.
struct Staff<'a> {
    id: i64,
    mail: &'a InboundMail,
    from: &'a Mailbox,
    parsed: &'a Parsed,
}

/// A complaint registered from a staff member's mail, with its effects carried out.
struct Settled {
    cid: i64,
    complaint: crate::domain::Complaint,
    lines: Vec<String>,
    acknowledged: bool,
}

/// Registers, notes it on the timeline, applies `#structureel`/`#incident`, and carries out
/// the effects (acknowledgement, management notice).
#[allow(clippy::too_many_arguments)]
async fn settle(
    bot: &Bot,
    conn: &mut AnyConnection,
    staff: &Staff<'_>,
    new: NewComplaint,
    detail: &str,
    thread: Thread<'_>,
    now: Timestamp,
) -> anyhow::Result<Settled> {
    let (cid, complaint, effects) = register_new(bot, conn, new, now).await?;
    let actor = staff.from.address.as_ref();
    timeline(conn, cid, now, actor, "registered", detail, Some(staff.id)).await?;
    let (complaint, mut lines) =
        classify_structural(bot, conn, cid, complaint, staff.parsed, staff.from, now).await?;
    let (complaint, mailed) =
        effects::carry_out(bot, conn, cid, complaint, &effects, actor, thread, now).await?;
    complaints::update(conn, cid, &complaint, now).await?;
    lines.extend(mailed);
    let acknowledged = effects.contains(&Effect::SendAcknowledgement)
        && complaint.deadlines.acknowledged_at.is_some();
    Ok(Settled {
        cid,
        complaint,
        lines,
        acknowledged,
    })
}

/// Answers the staff member and records the message.
#[allow(clippy::too_many_arguments)]
async fn finish(
    bot: &Bot,
    conn: &mut AnyConnection,
    staff: &Staff<'_>,
    done: &Settled,
    ctx: tera::Context,
    kind: &str,
    text: &str,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    let reference = done.complaint.reference;
    answer_sender(
        bot,
        conn,
        staff.mail,
        staff.from,
        Some((done.cid, reference)),
        "note_reply",
        ctx,
        now,
    )
    .await?;
    let outcome = format!("registered {reference}");
    record(
        conn,
        staff.id,
        staff.mail,
        kind,
        &outcome,
        Some(done.cid),
        Some(text),
    )
    .await?;
    keep_attachments(conn, staff.id, staff.mail).await?;
    Ok(Outcome::Registered(reference))
}

/// The original of a forward: from an attached message first (exact), else from the inline
/// forward header in the body.
struct Original {
    name: Option<String>,
    email: Option<EmailAddress>,
    subject: Option<String>,
    text: String,
    message_id: Option<MessageId>,
}

impl Original {
    fn find(mail: &InboundMail) -> Original {
        if let Some(inner) = mail
            .attached_messages
            .iter()
            .find_map(|raw| parse::parse(raw))
        {
            return Original {
                name: inner.from.as_ref().and_then(|f| f.name.clone()),
                email: inner.from.as_ref().map(|f| f.address.clone()),
                subject: Some(
                    strip::strip_subject_prefixes(&inner.subject)
                        .trim()
                        .to_string(),
                ),
                text: strip::new_text(&inner.text).text,
                message_id: inner.message_id.clone(),
            };
        }
        match forward::inline_forward(&mail.text) {
            Some(f) => Original {
                name: f.from_name,
                email: f.from_address.and_then(|a| EmailAddress::parse(&a).ok()),
                subject: f
                    .subject
                    .map(|s| strip::strip_subject_prefixes(&s).trim().to_string()),
                text: strip::new_text(&f.body).text,
                message_id: None,
            },
            None => Original {
                name: None,
                email: None,
                subject: None,
                text: strip::new_text(&mail.text).text,
                message_id: None,
            },
        }
    }
}

/// `#structureel` on a note or forward: classify, which reports it to management and the
/// officer (step 4).
async fn classify_structural(
    bot: &Bot,
    conn: &mut AnyConnection,
    cid: i64,
    complaint: crate::domain::Complaint,
    parsed: &Parsed,
    from: &Mailbox,
    now: Timestamp,
) -> anyhow::Result<(crate::domain::Complaint, Vec<String>)> {
    let class = if parsed.has(Name::Structural) {
        Classification::Structural
    } else if parsed.has(Name::Incident) {
        Classification::Incident
    } else {
        return Ok((complaint, Vec::new()));
    };
    let (classified, fx) = procedure::apply(&complaint, &Event::Classified(class), now)?;
    timeline(
        conn,
        cid,
        now,
        from.address.as_ref(),
        "command",
        &format!(
            "#{}",
            if class == Classification::Structural {
                "structureel"
            } else {
                "incident"
            }
        ),
        None,
    )
    .await?;
    effects::carry_out(
        bot,
        conn,
        cid,
        classified,
        &fx,
        from.address.as_ref(),
        Thread::default(),
        now,
    )
    .await
}
