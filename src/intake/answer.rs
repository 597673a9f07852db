//! The answers to command mails: the reply to the sender (what changed, or why nothing did,
//! with the help), the complaint's state in short, and the report mailed back for `#rapport`.

use sqlx::AnyConnection;

use super::ctx::Ctx;
use super::parse::Mailbox;
use crate::app::Bot;
use crate::commands::{self, Name, Parsed, Value};
use crate::domain::{Complaint, EmailAddress, MessageId, Reference};
use crate::outbound::compose::FileAttachment;
use crate::outbound::queue::{self, Outgoing};
use crate::store::complaints::StoredComplaint;

/// The complaint's state in a few lines, for replies.
pub(super) fn state_text(bot: &Bot, c: &Complaint) -> String {
    let d = &bot.renderer;
    let addr = |a: &Option<EmailAddress>| a.as_ref().map_or("-".to_string(), ToString::to_string);
    format!(
        "status: {}{}\nsubject: {}\ncomplainant: {}\nassignee: {}   department: {}\nclassification: {}\nexplain by: {} ({})\nsolve by: {}",
        c.status,
        c.outcome.map(|o| format!(" ({o})")).unwrap_or_default(),
        c.subject,
        addr(&c.complainant.email),
        addr(&c.assignee),
        c.department.as_deref().unwrap_or("-"),
        c.classification,
        d.date(c.deadlines.explain_by),
        if c.deadlines.explained_at.is_some() {
            "done"
        } else {
            "open"
        },
        d.date(c.deadlines.solve_by),
    )
}

/// The answer to a command mail: what changed (or why nothing did), the complaint's state,
/// and the help when something went wrong or was asked for.
pub(super) struct Reply<'a> {
    pub complaint: Option<&'a StoredComplaint>,
    pub parsed: &'a Parsed,
    /// Whether the commands were applied.
    pub ok: bool,
    pub lines: &'a [String],
}

/// Answers a command mail's sender.
pub(super) async fn reply(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    from: &Mailbox,
    r: &Reply<'_>,
) -> anyhow::Result<()> {
    let bot = cx.bot;
    let dutch = bot.settings.organisation.language == crate::config::Language::Nl;
    let words: Vec<String> = r
        .parsed
        .commands
        .iter()
        .map(|c| format!("#{}", c.word))
        .collect();
    let mut ctx = tera::Context::new();
    ctx.insert("ok", &r.ok);
    ctx.insert(
        "commands",
        &if words.is_empty() {
            "#?".to_string()
        } else {
            words.join(" ")
        },
    );
    ctx.insert("lines", r.lines);
    ctx.insert("state", &r.complaint.map(|c| state_text(bot, &c.complaint)));
    ctx.insert("show_help", &(!r.ok || r.parsed.has(Name::Help)));
    ctx.insert("help", &commands::help(dutch));
    let complaint = r.complaint.map(|c| (c.id, c.complaint.reference));
    answer_sender(cx, conn, from, complaint, "command_reply", ctx).await
}

/// Answers the sender of the mail in its thread, with the null envelope sender (staff mail
/// must never start a loop). `kind` is the template.
pub(super) async fn answer_sender(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    from: &Mailbox,
    complaint: Option<(i64, Reference)>,
    kind: &str,
    context: tera::Context,
) -> anyhow::Result<()> {
    let mail = cx.mail;
    let references: Vec<MessageId> = mail
        .references
        .iter()
        .chain(&mail.message_id)
        .cloned()
        .collect();
    let out = Outgoing {
        complaint,
        kind,
        context,
        to: vec![from.address.clone()],
        in_reply_to: mail.message_id.as_ref(),
        references,
        auto_reply: false,
        null_sender: true,
    };
    queue::enqueue(cx.bot, conn, out, cx.now).await?;
    Ok(())
}

/// `#rapport [jaar]`: the report of that year (default: this one) mailed back with the HTML
/// and the CSV attached, without complainants' names.
pub(super) async fn report(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    from: &Mailbox,
    parsed: &Parsed,
) -> anyhow::Result<Vec<String>> {
    let (bot, now) = (cx.bot, cx.now);
    let Some(year) = parsed
        .commands
        .iter()
        .find_map(|c| match (&c.name, &c.value) {
            (Name::Report, Value::Year(y)) => Some(*y),
            _ => None,
        })
    else {
        return Ok(Vec::new());
    };
    let tz = bot.settings.organisation.timezone.clone();
    let year = year.unwrap_or_else(|| now.to_zoned(tz.clone()).year());
    let period = crate::report::Period::year(year, tz)?;
    let built = crate::report::build(bot, period, false).await?;
    let mut ctx = tera::Context::new();
    ctx.insert("period", &year.to_string());
    ctx.insert("total", &built.figures.total);
    ctx.insert("structural", &built.figures.structural.len());
    let files = [
        FileAttachment {
            filename: format!("klachten-{year}.html"),
            content_type: "text/html; charset=utf-8".into(),
            data: built.html.into_bytes(),
        },
        FileAttachment {
            filename: format!("klachten-{year}.csv"),
            content_type: "text/csv; charset=utf-8".into(),
            data: built.csv,
        },
    ];
    let out = Outgoing {
        complaint: None,
        kind: "report",
        context: ctx,
        to: vec![from.address.clone()],
        in_reply_to: cx.mail.message_id.as_ref(),
        references: Vec::new(),
        auto_reply: false,
        null_sender: true,
    };
    queue::enqueue_with_attachments(bot, conn, out, &files, now).await?;
    Ok(vec![format!(
        "the report of {year} is mailed to {} (HTML and CSV attached)",
        from.address
    )])
}
