//! What staff send in: phone notes (`#telefoon`), scanned letters (`#brief`) and forwarded
//! customer mail. The complaint is the customer's; the staff member is recorded as who
//! received it, and always gets an answer saying what was registered and what was missing.

use sqlx::AnyConnection;

use crate::commands::{Name, Parsed, Value};
use crate::domain::{
    Channel, Classification, Complainant, Complaint, CustomerType, EmailAddress, EventKind,
    MessageId, MessageKind, Origin,
};
use crate::intake::answer::answer_sender;
use crate::intake::ctx::Ctx;
use crate::intake::effects::{self, Target, Thread};
use crate::intake::outcome::Outcome;
use crate::intake::parse::{self, Mailbox};
use crate::intake::register::register_new;
use crate::intake::write::{self, Entry, Meaning};
use crate::intake::{forward, phone, strip};
use crate::procedure::{self, Effect, Event, NewComplaint};
use crate::store::complaints;

/// The staff member's mail being handled.
struct Staff<'a> {
    sender: &'a Mailbox,
    parsed: &'a Parsed,
}

/// [`Route::Note`](crate::intake::route::Route::Note): a phone note or letter. Registers
/// from the labelled lines, closes at once with `#opgelost`, reports with `#structureel`,
/// acknowledges when there is an address.
pub(super) async fn note(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    sender: &Mailbox,
    parsed: &Parsed,
    channel: Channel,
) -> anyhow::Result<Outcome> {
    let letter = channel == Channel::Letter;
    let body = strip::new_text(&cx.mail.text).text;
    let note = phone::parse_note(&body);
    let solved = parsed.has(Name::Solved);
    let subject = note_subject(parsed, &note.text);
    let internal = note.customer_type == Some(CustomerType::Internal);
    let new = NewComplaint {
        received_at: cx.now,
        channel,
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
        received_by: Some(sender.address.clone()),
        subject: subject.clone(),
        description: note.text.clone(),
        solved_at_first_contact: solved,
    };
    let what = if letter { "letter" } else { "phone note" };
    let detail = format!("registered from a {what} by {}: {subject}", sender.address);
    let staff = Staff { sender, parsed };
    let done = settle(cx, conn, &staff, new, &detail, Thread::default()).await?;
    let mut context = effects::context(cx.bot, &done.complaint);
    context.insert("channel", if letter { "brief" } else { "telefoonnotitie" });
    context.insert("solved", &solved);
    context.insert("missing", &note.missing.join(", "));
    context.insert("problems", &note.problems);
    context.insert("acknowledged", &done.acknowledged);
    let answer = Answer {
        context,
        kind: MessageKind::note(done.complaint.channel),
        text: &body,
    };
    finish(cx, conn, &staff, &done, answer).await
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

/// [`Route::Forward`](crate::intake::route::Route::Forward): a forwarded customer mail;
/// the complaint is the original sender's (or the `#klant` address's).
pub(super) async fn forward(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    sender: &Mailbox,
    parsed: &Parsed,
) -> anyhow::Result<Outcome> {
    let original = Original::find(cx.mail);
    let overridden = parsed
        .commands
        .iter()
        .find_map(|c| match (&c.name, &c.value) {
            (Name::Customer, Value::Address(a)) => Some(a.clone()),
            _ => None,
        });
    let email = overridden.or_else(|| original.email.clone());
    let new = original.complaint(cx, sender, email.clone());
    let note = strip::new_text(&cx.mail.text).text;
    let detail = format!(
        "forwarded by {}{}",
        sender.address,
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
    let staff = Staff { sender, parsed };
    let done = settle(cx, conn, &staff, new, &detail, thread).await?;
    let mut context = effects::context(cx.bot, &done.complaint);
    context.insert("channel", "doorgestuurde mail");
    context.insert("solved", &false);
    let missing = match email {
        None => "E-mail (antwoord met #klant adres)",
        Some(_) => "",
    };
    context.insert("missing", missing);
    context.insert("problems", &done.lines);
    context.insert("acknowledged", &done.acknowledged);
    let answer = Answer {
        context,
        kind: MessageKind::Forward,
        text: &original.text,
    };
    finish(cx, conn, &staff, &done, answer).await
}

/// A complaint registered from a staff member's mail, with its effects carried out.
struct Settled {
    cid: i64,
    complaint: Complaint,
    lines: Vec<String>,
    acknowledged: bool,
}

/// Registers, notes it on the timeline, applies `#structureel`/`#incident`, and carries out
/// the effects (acknowledgement, management notice).
async fn settle(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    staff: &Staff<'_>,
    new: NewComplaint,
    detail: &str,
    thread: Thread<'_>,
) -> anyhow::Result<Settled> {
    let (cid, complaint, effects) = register_new(cx.bot, conn, new, cx.now).await?;
    let actor = staff.sender.address.as_ref();
    let entry = Entry {
        complaint: cid,
        actor,
        kind: EventKind::Registered,
        detail,
        message: Some(cx.id),
    };
    write::event(conn, cx.now, &entry).await?;
    let (complaint, mut lines) = classify(cx, conn, cid, complaint, staff).await?;
    let target = Target {
        cid,
        actor,
        thread,
        now: cx.now,
    };
    let (complaint, mailed) = effects::carry_out(cx.bot, conn, target, complaint, &effects).await?;
    complaints::update(conn, cid, &complaint, cx.now).await?;
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

/// The staff member's answer: its template context, the message's kind and the words kept
/// as its text.
struct Answer<'a> {
    context: tera::Context,
    kind: MessageKind,
    text: &'a str,
}

/// Answers the staff member and records the message.
async fn finish(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    staff: &Staff<'_>,
    done: &Settled,
    answer: Answer<'_>,
) -> anyhow::Result<Outcome> {
    let reference = done.complaint.reference;
    let scope = Some((done.cid, reference));
    answer_sender(cx, conn, staff.sender, scope, "note_reply", answer.context).await?;
    let outcome = format!("registered {reference}");
    let meaning = Meaning {
        kind: answer.kind,
        outcome: &outcome,
        complaint: Some(done.cid),
        body: Some(answer.text),
    };
    write::message(conn, cx, &meaning).await?;
    write::attachments(conn, cx).await?;
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
    fn find(mail: &parse::InboundMail) -> Original {
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

    /// The complaint of the original's sender (`email`, which `#klant` may override),
    /// received by the staff member who forwarded it.
    fn complaint(
        &self,
        cx: &Ctx<'_>,
        sender: &Mailbox,
        email: Option<EmailAddress>,
    ) -> NewComplaint {
        let subject = self.subject.clone().unwrap_or_else(|| {
            strip::strip_subject_prefixes(&cx.mail.subject)
                .trim()
                .to_string()
        });
        NewComplaint {
            received_at: cx.now,
            channel: Channel::Email,
            origin: Origin::External,
            customer_type: None,
            complainant: Complainant {
                name: self.name.clone(),
                email,
                phone: None,
                organisation: None,
            },
            received_by: Some(sender.address.clone()),
            subject: if subject.is_empty() {
                "(geen onderwerp)".into()
            } else {
                subject
            },
            description: self.text.clone(),
            solved_at_first_contact: false,
        }
    }
}

/// `#structureel` or `#incident` on a note or forward: classify, which reports a structural
/// problem to management and the officer (step 4).
async fn classify(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    cid: i64,
    complaint: Complaint,
    staff: &Staff<'_>,
) -> anyhow::Result<(Complaint, Vec<String>)> {
    let (class, word) = if staff.parsed.has(Name::Structural) {
        (Classification::Structural, "#structureel")
    } else if staff.parsed.has(Name::Incident) {
        (Classification::Incident, "#incident")
    } else {
        return Ok((complaint, Vec::new()));
    };
    let (classified, fx) = procedure::apply(&complaint, &Event::Classified(class), cx.now)?;
    let actor = staff.sender.address.as_ref();
    let entry = Entry {
        complaint: cid,
        actor,
        kind: EventKind::Command,
        detail: word,
        message: None,
    };
    write::event(conn, cx.now, &entry).await?;
    let target = Target {
        cid,
        actor,
        thread: Thread::default(),
        now: cx.now,
    };
    effects::carry_out(cx.bot, conn, target, classified, &fx).await
}
