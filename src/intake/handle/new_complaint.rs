//! A new complaint from a mail (step 1 of the procedure): the complainant is the person the
//! mail speaks for (see `person`), the acknowledgement goes to them, and a mail from an
//! address nobody reads is registered all the same, with the officer told that no
//! acknowledgement could be sent.

use sqlx::AnyConnection;

use crate::app::Bot;
use crate::domain::{
    Channel, Complainant, CustomerType, EventKind, FlagKind, MessageKind, Origin, Reference,
};
use crate::intake::ctx::Ctx;
use crate::intake::effects::{self, Target, Thread};
use crate::intake::outcome::Outcome;
use crate::intake::person::Speaker;
use crate::intake::register::register_new;
use crate::intake::strip;
use crate::intake::write::{self, Entry, Meaning};
use crate::procedure::NewComplaint;
use crate::store::complaints;

/// [`Route::NewComplaint`](crate::intake::route::Route::NewComplaint): registers the mail
/// as a new complaint of the person it speaks for.
pub(super) async fn new_complaint(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    speaker: &Speaker,
) -> anyhow::Result<Outcome> {
    let text = strip::new_text(&cx.mail.text).text;
    let new = complaint_of(cx, speaker, &text);
    let (cid, complaint, effects) = register_new(cx.bot, conn, new, cx.now).await?;
    let reference = complaint.reference;
    let outcome = format!("registered {reference}");
    let meaning = Meaning {
        kind: MessageKind::NewComplaint,
        outcome: &outcome,
        complaint: Some(cid),
        body: Some(&text),
    };
    write::message(conn, cx, &meaning).await?;
    write::attachments(conn, cx).await?;
    let actor = speaker.mailbox().address.to_string();
    let detail = format!(
        "registered from mail by {}: {}",
        sent_by(speaker),
        complaint.subject
    );
    let entry = Entry {
        complaint: cid,
        actor: &actor,
        kind: EventKind::Registered,
        detail: &detail,
        message: Some(cx.id),
    };
    write::event(conn, cx.now, &entry).await?;
    if let Speaker::Unanswerable(m) = speaker {
        unanswerable(cx, conn, (cid, reference), &m.address).await?;
    }
    let references = cx.mail.references.clone();
    let target = Target {
        cid,
        actor: &actor,
        thread: Thread {
            in_reply_to: cx.mail.message_id.as_ref(),
            references: &references,
        },
        now: cx.now,
    };
    let (complaint, _) = effects::carry_out(cx.bot, conn, target, complaint, &effects).await?;
    complaints::update(conn, cid, &complaint, cx.now).await?;
    Ok(Outcome::Registered(reference))
}

/// The new complaint a customer's mail makes.
fn complaint_of(cx: &Ctx<'_>, speaker: &Speaker, text: &str) -> NewComplaint {
    let (who, staff) = complainant(cx.bot, speaker);
    let subject = strip::strip_subject_prefixes(&cx.mail.subject)
        .trim()
        .to_string();
    NewComplaint {
        received_at: cx.now,
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
        description: text.to_string(),
        solved_at_first_contact: false,
    }
}

/// Flags a complaint registered from an address nobody reads, naming nobody to answer.
async fn unanswerable(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    (cid, reference): (i64, Reference),
    address: &crate::domain::EmailAddress,
) -> anyhow::Result<()> {
    let reason = format!(
        "{reference} came from {address}, an address nobody reads, and names nobody to answer: \
         no acknowledgement could be sent"
    );
    write::flag(conn, cx, Some(cid), FlagKind::NoReplyAddress, &reason).await
}

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
