//! Carrying out the procedure's effects: every [`Effect`] becomes a mail in the outbox
//! (inside the caller's transaction), and the complaint's timeline says so.

use jiff::Timestamp;
use sqlx::AnyConnection;

use crate::app::Bot;
use crate::domain::{Complaint, EmailAddress, MessageId, Outcome};
use crate::outbound::queue::{self, BOT, Notice, Outgoing, notify_officers};
use crate::procedure::{self, Effect, Event};
use crate::store::{events, outbox};

/// The mail that caused the effects, for threading the answer to the complainant.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Thread<'a> {
    /// The mail we answer.
    pub in_reply_to: Option<&'a MessageId>,
    /// Its References, for ours.
    pub references: &'a [MessageId],
}

/// Template variables every complaint mail can use.
pub(super) fn context(bot: &Bot, c: &Complaint) -> tera::Context {
    let r = &bot.renderer;
    let mut ctx = tera::Context::new();
    ctx.insert("subject", &c.subject);
    ctx.insert("name", &c.complainant.name);
    let who = match (&c.complainant.name, &c.complainant.email) {
        (Some(n), Some(e)) => format!("{n} <{e}>"),
        (Some(n), None) => n.clone(),
        (None, Some(e)) => e.to_string(),
        (None, None) => c.complainant.phone.clone().unwrap_or_else(|| "-".into()),
    };
    ctx.insert("complainant", &who);
    ctx.insert("received", &r.date(c.received_at));
    ctx.insert("explain_by", &r.date(c.deadlines.explain_by));
    ctx.insert("solve_by", &r.date(c.deadlines.solve_by));
    ctx.insert("department", &c.department);
    ctx.insert("handler", &c.assignee.as_ref().map(ToString::to_string));
    ctx.insert("description", &c.description);
    ctx.insert("solution", &c.solution);
    ctx.insert("outcome", &c.outcome.map(outcome_text));
    ctx.insert("closed", &c.closed_at.map(|t| r.date(t)));
    ctx.insert(
        "by_phone",
        &!matches!(c.channel, crate::domain::Channel::Email),
    );
    ctx
}

fn outcome_text(o: Outcome) -> &'static str {
    match o {
        Outcome::Accepted => "akkoord / accepted",
        Outcome::SolvedAtFirstContact => "opgelost bij eerste contact / solved at first contact",
        Outcome::NotAComplaint => "geen klacht / not a complaint",
        Outcome::Withdrawn => "ingetrokken / withdrawn",
        Outcome::ClosedWithoutVerdict => "afgesloten zonder oordeel / closed without verdict",
    }
}

/// Carries out `effects` for complaint `cid`; returns the complaint (changed when an
/// acknowledgement was queued) and one line per mail for the sender's reply.
#[allow(clippy::too_many_arguments)]
pub(super) async fn carry_out(
    bot: &Bot,
    conn: &mut AnyConnection,
    cid: i64,
    mut c: Complaint,
    effects: &[Effect],
    actor: &str,
    thread: Thread<'_>,
    now: Timestamp,
) -> anyhow::Result<(Complaint, Vec<String>)> {
    let people = &bot.settings.people;
    let mut lines = Vec::new();
    for effect in effects {
        let mut ctx = context(bot, &c);
        let (kind, to, null_sender): (&str, Vec<EmailAddress>, bool) = match effect {
            Effect::SendAcknowledgement => {
                let (acknowledged, line) = acknowledge(bot, conn, cid, c, thread, now).await?;
                c = acknowledged;
                lines.extend(line);
                continue;
            }
            Effect::AcknowledgeByOtherMeans => {
                let text = format!(
                    "{} ({}) has no e-mail address: send the acknowledgement by post or phone before {}.",
                    c.reference,
                    c.complainant
                        .name
                        .as_deref()
                        .or(c.complainant.phone.as_deref())
                        .unwrap_or("-"),
                    bot.renderer.date(c.deadlines.acknowledge_by)
                );
                notify_officers(
                    bot,
                    conn,
                    Some((cid, c.reference)),
                    Notice::AcknowledgeByPost,
                    &text,
                    now,
                )
                .await?;
                lines.push("the officer is reminded to acknowledge by post or phone".into());
                continue;
            }
            Effect::SendExplanation { text } => {
                ctx.insert("text", text);
                (
                    "explanation",
                    c.complainant.email.iter().cloned().collect(),
                    false,
                )
            }
            Effect::NotifyAssignee => ("assignment", c.assignee.iter().cloned().collect(), true),
            Effect::MailAdviceToAssignee => {
                ctx.insert("text", &c.advice);
                ("advice", c.assignee.iter().cloned().collect(), true)
            }
            Effect::MailSolutionToComplainant => {
                ctx.insert("text", &c.solution);
                (
                    "solution",
                    c.complainant.email.iter().cloned().collect(),
                    false,
                )
            }
            Effect::NotifyManagementOfStructuralProblem => {
                ctx.insert("by", actor);
                let to = people
                    .management
                    .iter()
                    .chain(&people.officers)
                    .cloned()
                    .collect();
                ("structural_notice", to, true)
            }
            Effect::InformConcerned => (
                "concerned_notice",
                c.concerned.iter().cloned().collect(),
                true,
            ),
            Effect::NotifyRejection => {
                let to = c.assignee.iter().chain(&people.officers).cloned().collect();
                ("rejection_notice", to, true)
            }
            Effect::SendClosingCopies => {
                let to = c
                    .complainant
                    .email
                    .iter()
                    .chain(&c.assignee)
                    .chain(&people.officers)
                    .chain(&c.concerned)
                    .cloned()
                    .collect();
                ("closing_copy", to, false)
            }
        };
        let to = dedup(to);
        if to.is_empty() {
            let line = format!("no {kind} mail: nobody to send it to");
            timeline(conn, cid, now, &line).await?;
            lines.push(line);
            continue;
        }
        let recipients = to
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let to_complainant = c.complainant.email.as_ref().is_some_and(|e| to.contains(e));
        let mail = Outgoing {
            complaint: Some((cid, c.reference)),
            kind,
            context: ctx,
            to,
            in_reply_to: if to_complainant {
                thread.in_reply_to
            } else {
                None
            },
            references: if to_complainant {
                thread.references.to_vec()
            } else {
                Vec::new()
            },
            auto_reply: false,
            null_sender,
        };
        queue::enqueue(bot, conn, mail, now).await?;
        lines.push(format!("{kind} mailed to {recipients}"));
    }
    Ok((c, lines))
}

fn dedup(list: Vec<EmailAddress>) -> Vec<EmailAddress> {
    let mut out: Vec<EmailAddress> = Vec::with_capacity(list.len());
    for a in list {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

async fn timeline(
    conn: &mut AnyConnection,
    cid: i64,
    now: Timestamp,
    detail: &str,
) -> anyhow::Result<()> {
    let e = events::NewEvent {
        complaint_id: cid,
        at: now,
        actor: BOT,
        kind: "note",
        detail,
        message_pk: None,
        outbox_id: None,
    };
    events::append(conn, &e).await
}

/// Queues the acknowledgement unless the per-sender limit is reached.
async fn acknowledge(
    bot: &Bot,
    conn: &mut AnyConnection,
    cid: i64,
    complaint: Complaint,
    thread: Thread<'_>,
    now: Timestamp,
) -> anyhow::Result<(Complaint, Option<String>)> {
    let Some(to) = complaint.complainant.email.clone() else {
        return Ok((complaint, None));
    };
    let limit = bot.settings.limits.auto_replies_per_sender;
    let since = now
        .checked_sub(limit.window)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let sent = outbox::auto_replies_since(conn, to.as_ref(), since).await?;
    if sent >= i64::from(limit.count) {
        let detail = format!(
            "no acknowledgement: {to} already got {sent} automatic replies within the limit"
        );
        let e = events::NewEvent {
            complaint_id: cid,
            at: now,
            actor: BOT,
            kind: "suppressed",
            detail: &detail,
            message_pk: None,
            outbox_id: None,
        };
        events::append(conn, &e).await?;
        return Ok((complaint, Some(detail)));
    }
    let references: Vec<MessageId> = thread
        .references
        .iter()
        .chain(thread.in_reply_to)
        .cloned()
        .collect();
    let outgoing = Outgoing {
        complaint: Some((cid, complaint.reference)),
        kind: "acknowledgement",
        context: context(bot, &complaint),
        to: vec![to.clone()],
        in_reply_to: thread.in_reply_to,
        references,
        auto_reply: true,
        null_sender: false,
    };
    queue::enqueue(bot, conn, outgoing, now).await?;
    let (acknowledged, _) = procedure::apply(&complaint, &Event::Acknowledged, now)?;
    Ok((
        acknowledged,
        Some(format!("acknowledgement mailed to {to}")),
    ))
}
