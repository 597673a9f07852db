//! Carrying out the procedure's effects: every [`Effect`] becomes a mail in the outbox
//! (inside the caller's transaction), and the complaint's timeline says so.

use jiff::Timestamp;
use sqlx::AnyConnection;

use super::write::{self, Entry};
use crate::app::Bot;
use crate::domain::{Complaint, EmailAddress, EventKind, MessageId, Outcome};
use crate::outbound::queue::{self, BOT, Notice, Outgoing, notify_officers};
use crate::procedure::{self, Effect, Event};
use crate::store::outbox;

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

/// Whose effects are carried out, for whom, and when.
#[derive(Debug, Clone, Copy)]
pub(super) struct Target<'a> {
    /// The complaint's row id.
    pub cid: i64,
    /// Who caused them (shown in the structural-problem notice).
    pub actor: &'a str,
    /// The mail to thread the complainant's answer under.
    pub thread: Thread<'a>,
    pub now: Timestamp,
}

/// Carries out `effects` for the target complaint `c`; returns the complaint (changed when
/// an acknowledgement was queued) and one line per mail for the sender's reply.
pub(super) async fn carry_out(
    bot: &Bot,
    conn: &mut AnyConnection,
    target: Target<'_>,
    mut c: Complaint,
    effects: &[Effect],
) -> anyhow::Result<(Complaint, Vec<String>)> {
    let mut lines = Vec::new();
    for effect in effects {
        match letter(bot, &c, effect, target.actor) {
            Letter::Acknowledgement => {
                let (acknowledged, line) = acknowledge(bot, conn, target, c).await?;
                c = acknowledged;
                lines.extend(line);
            }
            Letter::ByOtherMeans => {
                by_other_means(bot, conn, target, &c).await?;
                lines.push("the officer is reminded to acknowledge by post or phone".into());
            }
            Letter::Mail(mail) => lines.push(send(bot, conn, target, &c, mail).await?),
        }
    }
    Ok((c, lines))
}

/// What an effect asks to be sent.
enum Letter {
    /// The acknowledgement to the complainant (rate-limited, changes the complaint).
    Acknowledgement,
    /// A reminder to the officers to acknowledge by post or phone.
    ByOtherMeans,
    /// A mail from a template.
    Mail(Planned),
}

/// A template mail an effect asks for.
struct Planned {
    kind: &'static str,
    to: Vec<EmailAddress>,
    /// Sent with the null envelope sender (internal notices, which must never loop).
    null_sender: bool,
    context: tera::Context,
}

/// Which mail an effect makes, to whom. Pure.
fn letter(bot: &Bot, c: &Complaint, effect: &Effect, actor: &str) -> Letter {
    let people = &bot.settings.people;
    let mut context = context(bot, c);
    let complainant = || c.complainant.email.iter().cloned().collect::<Vec<_>>();
    let assignee = || c.assignee.iter().cloned().collect::<Vec<_>>();
    let (kind, to, null_sender) = match effect {
        Effect::SendAcknowledgement => return Letter::Acknowledgement,
        Effect::AcknowledgeByOtherMeans => return Letter::ByOtherMeans,
        Effect::SendExplanation { text } => {
            context.insert("text", text);
            ("explanation", complainant(), false)
        }
        Effect::NotifyAssignee => ("assignment", assignee(), true),
        Effect::MailAdviceToAssignee => {
            context.insert("text", &c.advice);
            ("advice", assignee(), true)
        }
        Effect::MailSolutionToComplainant => {
            context.insert("text", &c.solution);
            ("solution", complainant(), false)
        }
        Effect::NotifyManagementOfStructuralProblem => {
            context.insert("by", actor);
            let to = people.management.iter().chain(&people.officers);
            ("structural_notice", to.cloned().collect(), true)
        }
        Effect::InformConcerned => (
            "concerned_notice",
            c.concerned.iter().cloned().collect(),
            true,
        ),
        Effect::NotifyRejection => {
            let to = c.assignee.iter().chain(&people.officers);
            ("rejection_notice", to.cloned().collect(), true)
        }
        Effect::SendClosingCopies => {
            let to = c
                .complainant
                .email
                .iter()
                .chain(&c.assignee)
                .chain(&people.officers)
                .chain(&c.concerned);
            ("closing_copy", to.cloned().collect(), false)
        }
    };
    Letter::Mail(Planned {
        kind,
        to: dedup(to),
        null_sender,
        context,
    })
}

/// Queues a planned mail (threaded under the complainant's mail when it goes to them), or
/// notes on the timeline that nobody could be sent it. Returns the line for the reply.
async fn send(
    bot: &Bot,
    conn: &mut AnyConnection,
    target: Target<'_>,
    c: &Complaint,
    mail: Planned,
) -> anyhow::Result<String> {
    let Target {
        cid, thread, now, ..
    } = target;
    if mail.to.is_empty() {
        let line = format!("no {} mail: nobody to send it to", mail.kind);
        timeline(conn, cid, now, &line).await?;
        return Ok(line);
    }
    let recipients = mail
        .to
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let to_complainant = c
        .complainant
        .email
        .as_ref()
        .is_some_and(|e| mail.to.contains(e));
    let line = format!("{} mailed to {recipients}", mail.kind);
    let out = Outgoing {
        complaint: Some((cid, c.reference)),
        kind: mail.kind,
        context: mail.context,
        to: mail.to,
        in_reply_to: thread.in_reply_to.filter(|_| to_complainant),
        references: if to_complainant {
            thread.references.to_vec()
        } else {
            Vec::new()
        },
        auto_reply: false,
        null_sender: mail.null_sender,
    };
    queue::enqueue(bot, conn, out, now).await?;
    Ok(line)
}

/// Tells the officers that a complainant without an e-mail address must be acknowledged
/// by post or phone.
async fn by_other_means(
    bot: &Bot,
    conn: &mut AnyConnection,
    target: Target<'_>,
    c: &Complaint,
) -> anyhow::Result<()> {
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
    let scope = Some((target.cid, c.reference));
    notify_officers(
        bot,
        conn,
        scope,
        Notice::AcknowledgeByPost,
        &text,
        target.now,
    )
    .await
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
    let e = Entry {
        complaint: cid,
        actor: BOT,
        kind: EventKind::Note,
        detail,
        message: None,
    };
    write::event(conn, now, &e).await
}

/// Queues the acknowledgement unless the per-sender limit is reached.
async fn acknowledge(
    bot: &Bot,
    conn: &mut AnyConnection,
    target: Target<'_>,
    complaint: Complaint,
) -> anyhow::Result<(Complaint, Option<String>)> {
    let Target {
        cid, thread, now, ..
    } = target;
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
        let e = Entry {
            complaint: cid,
            actor: BOT,
            kind: EventKind::Suppressed,
            detail: &detail,
            message: None,
        };
        write::event(conn, now, &e).await?;
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
