//! A new complaint from a mail (step 1 of the procedure): the complainant is the person the
//! mail speaks for (see `person`), the acknowledgement goes to them, and a mail from an
//! address nobody reads is registered all the same, with the officer told that no
//! acknowledgement could be sent.

use jiff::Timestamp;
use sqlx::AnyConnection;

use super::effects::{self, Thread};
use super::outcome::Outcome;
use super::parse::InboundMail;
use super::person::Speaker;
use super::record::{keep_attachments, record, timeline};
use super::strip;
use crate::app::Bot;
use crate::domain::{Channel, Complainant, Complaint, CustomerType, MessageId, Origin};
use crate::procedure::{self, DeadlineTimes, Effect, NewComplaint};
use crate::store::{complaints, flags};

/// The complainant a speaker makes, and whether they are one of our staff.
fn complainant(bot: &Bot, speaker: &Speaker) -> (Complainant, bool) {
    match speaker {
        Speaker::Direct(m) => (
            Complainant {
                name: m.name.clone(),
                email: Some(m.address.clone()),
                phone: None,
                organisation: None,
            },
            bot.settings.people.is_staff(&m.address),
        ),
        // A relay's word that someone is staff proves nothing: always external.
        Speaker::OnBehalf { person, .. } => (
            Complainant {
                name: person.name.clone(),
                email: person.email.clone(),
                phone: person.phone.clone(),
                organisation: None,
            },
            false,
        ),
        Speaker::Unanswerable(m) => (
            Complainant {
                name: m.name.clone(),
                email: None,
                phone: None,
                organisation: Some(m.address.to_string()),
            },
            false,
        ),
    }
}

/// What the timeline says about who sent it.
fn sent_by(speaker: &Speaker) -> String {
    match speaker {
        Speaker::Direct(m) => m.address.to_string(),
        Speaker::OnBehalf {
            person,
            relay,
            found_in,
        } => {
            let who = person
                .email
                .as_ref()
                .map(ToString::to_string)
                .or_else(|| person.name.clone())
                .unwrap_or_default();
            format!("{who} (sent by {relay}, person found in {found_in})")
        }
        Speaker::Unanswerable(m) => format!("{} (a no-reply address)", m.address),
    }
}

/// Registers the mail as a new complaint of the person it speaks for.
pub(super) async fn register(
    bot: &Bot,
    conn: &mut AnyConnection,
    id: i64,
    mail: &InboundMail,
    speaker: &Speaker,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    let (who, staff) = complainant(bot, speaker);
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
        complainant: who,
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
    let outcome = format!("registered {reference}");
    record(
        conn,
        id,
        mail,
        "new_complaint",
        &outcome,
        Some(cid),
        Some(&text),
    )
    .await?;
    keep_attachments(conn, id, mail).await?;
    let actor = speaker.mailbox().address.to_string();
    let detail = format!(
        "registered from mail by {}: {}",
        sent_by(speaker),
        complaint.subject
    );
    timeline(conn, cid, now, &actor, "registered", &detail, Some(id)).await?;
    if let Speaker::Unanswerable(m) = speaker {
        let reason = format!(
            "{reference} came from {}, an address nobody reads, and names nobody to answer: \
             no acknowledgement could be sent",
            m.address
        );
        flags::raise(conn, Some(id), Some(cid), "no_reply_address", &reason, now).await?;
    }
    let references: Vec<MessageId> = mail.references.clone();
    let thread = Thread {
        in_reply_to: mail.message_id.as_ref(),
        references: &references,
    };
    let (complaint, _) =
        effects::carry_out(bot, conn, cid, complaint, &effects, &actor, thread, now).await?;
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
