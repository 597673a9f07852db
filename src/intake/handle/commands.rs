//! Command mails from the officer, assignees, staff and management (their proof already
//! checked by the route): check who may, apply all commands through the procedure or none,
//! carry out the effects, and always answer the sender. What each command means lives in
//! `commands::meaning`.

use sqlx::AnyConnection;

use crate::commands::meaning::{self, MeasureArg, Plan, When};
use crate::commands::{Name, Parsed, Role};
use crate::domain::{EventKind, MessageKind, Reference};
use crate::intake::answer::{self, Reply};
use crate::intake::ctx::Ctx;
use crate::intake::effects::{self, Target, Thread};
use crate::intake::outcome::Outcome;
use crate::intake::parse::Mailbox;
use crate::intake::strip;
use crate::intake::write::{self, Entry, Meaning};
use crate::privacy::mail as privacy_mail;
use crate::store::complaints::{self, StoredComplaint};
use crate::store::measures;

/// A command mail: who gave which commands, and the text of its body (quotes and
/// signature removed), which some commands take as their argument.
struct Asked<'a> {
    sender: &'a Mailbox,
    parsed: &'a Parsed,
    body: &'a str,
}

/// [`Route::Commands`](crate::intake::route::Route::Commands).
pub(super) async fn commands(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    sender: &Mailbox,
    parsed: &Parsed,
    complaint: Option<StoredComplaint>,
) -> anyhow::Result<Outcome> {
    let people = &cx.bot.settings.people;
    let role = Role::of(
        people,
        &sender.address,
        complaint.as_ref().map(|c| &c.complaint),
    );
    let reference = complaint
        .as_ref()
        .map(|c| c.complaint.reference)
        .or_else(|| Reference::find(&cx.mail.subject));
    let problems = meaning::refusals(
        parsed,
        role,
        &sender.address,
        complaint.is_some(),
        reference,
    );
    let body = strip::new_text(&cx.mail.text).text;
    let asked = Asked {
        sender,
        parsed,
        body: &body,
    };
    if !problems.is_empty() {
        return answer(cx, conn, &asked, complaint.as_ref(), (false, &problems)).await;
    }
    match complaint {
        Some(found) => on_complaint(cx, conn, &asked, found).await,
        // Only table-wide commands (#help, #aanbeveling, #maatregel, #rapport) get here.
        None => {
            let mut lines = general(cx, conn, &asked, None).await?;
            lines.extend(mailed_back(cx, conn, &asked).await?);
            answer(cx, conn, &asked, None, (true, &lines)).await
        }
    }
}

/// Commands about a complaint: all applied, or none and the refusals answered.
async fn on_complaint(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    asked: &Asked<'_>,
    found: StoredComplaint,
) -> anyhow::Result<Outcome> {
    let settings = &cx.bot.settings;
    let when = When {
        now: cx.now,
        calendar: &cx.bot.calendar,
        timezone: &settings.organisation.timezone,
    };
    let commands = &asked.parsed.commands;
    let plan = match meaning::plan(&found.complaint, commands, asked.body, when) {
        Ok(plan) => plan,
        Err(refusals) => return answer(cx, conn, asked, Some(&found), (false, &refusals)).await,
    };
    let (after, lines) = apply(cx, conn, asked, found.id, plan).await?;
    answer(cx, conn, asked, Some(&after), (true, &lines)).await
}

/// Writes an accepted plan: the complaint, a timeline line per command, the commands that
/// write beside the complaint, the mails the procedure asks for. Returns the complaint as
/// it now is and the lines for the answer.
async fn apply(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    asked: &Asked<'_>,
    cid: i64,
    plan: Plan,
) -> anyhow::Result<(StoredComplaint, Vec<String>)> {
    complaints::update(conn, cid, &plan.complaint, cx.now).await?;
    let actor = asked.sender.address.as_ref();
    for c in &asked.parsed.commands {
        let entry = Entry {
            complaint: cid,
            actor,
            kind: EventKind::Command,
            detail: &meaning::detail(c, asked.body),
            message: Some(cx.id),
        };
        write::event(conn, cx.now, &entry).await?;
    }
    let mut lines = plan.lines;
    lines.extend(general(cx, conn, asked, Some(cid)).await?);
    lines.extend(mailed_back(cx, conn, asked).await?);
    let target = Target {
        cid,
        actor,
        thread: Thread::default(),
        now: cx.now,
    };
    let (updated, mailed) =
        effects::carry_out(cx.bot, conn, target, plan.complaint, &plan.effects).await?;
    complaints::update(conn, cid, &updated, cx.now).await?;
    lines.extend(mailed);
    let after = StoredComplaint {
        id: cid,
        complaint: updated,
    };
    Ok((after, lines))
}

/// Answers the sender and records the message: applied (`ok`) or refused, with the lines.
async fn answer(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    asked: &Asked<'_>,
    complaint: Option<&StoredComplaint>,
    (ok, lines): (bool, &[String]),
) -> anyhow::Result<Outcome> {
    let reply = Reply {
        complaint,
        parsed: asked.parsed,
        ok,
        lines,
    };
    answer::reply(cx, conn, asked.sender, &reply).await?;
    let outcome = Outcome::Commanded {
        reference: complaint.map(|c| c.complaint.reference),
        applied: ok,
        summary: lines.join("; "),
    };
    let meaning = Meaning {
        kind: if ok {
            MessageKind::Command
        } else {
            MessageKind::CommandRefused
        },
        outcome: &outcome.to_string(),
        complaint: complaint.map(|c| c.id),
        body: None,
    };
    write::message(conn, cx, &meaning).await?;
    Ok(outcome)
}

/// Commands that are not about the complaint's state: recommendations and measures.
async fn general(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    asked: &Asked<'_>,
    cid: Option<i64>,
) -> anyhow::Result<Vec<String>> {
    let (body, who, now) = (asked.body, asked.sender.address.as_ref(), cx.now);
    let written = !body.trim().is_empty();
    let mut lines = Vec::new();
    for c in &asked.parsed.commands {
        let line = match (c.name, meaning::measure_arg(&c.arg_text)) {
            (Name::Recommendation, _) if written => {
                measures::add_recommendation(conn, cid, body, who, now).await?;
                "recommendation recorded".to_string()
            }
            (Name::Recommendation, _) => {
                format!("#{}: write the text in the body of the mail", c.word)
            }
            (Name::Measure, Ok(MeasureArg::Update(id, status))) => {
                if measures::set_measure_status(conn, id, status, now).await? {
                    format!("measure {id} is now {status}")
                } else {
                    format!("#{}: there is no measure {id}", c.word)
                }
            }
            (Name::Measure, Ok(MeasureArg::New(status))) if written => {
                let id = measures::add_measure(conn, cid, body, status, who, now).await?;
                format!(
                    "measure {id} recorded ({status}); change it with #maatregel {id} uitgevoerd"
                )
            }
            (Name::Measure, _) => format!("#{}: write the measure in the body of the mail", c.word),
            _ => continue,
        };
        lines.push(line);
    }
    Ok(lines)
}

/// The commands whose answer is mailed back whatever the complaint (`#rapport`, `#inzage`,
/// `#vergeten`): the same with and without a reference in the subject.
async fn mailed_back(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    asked: &Asked<'_>,
) -> anyhow::Result<Vec<String>> {
    let (bot, mail, now) = (cx.bot, cx.mail, cx.now);
    let (parsed, who) = (asked.parsed, &asked.sender.address);
    let mut lines = answer::report(cx, conn, asked.sender, parsed).await?;
    let message_id = mail.message_id.as_ref();
    lines.extend(privacy_mail::access(bot, conn, parsed, who, message_id, now).await?);
    let thread: Vec<_> = mail
        .in_reply_to
        .iter()
        .chain(&mail.references)
        .cloned()
        .collect();
    lines.extend(privacy_mail::erase(bot, conn, parsed, who, &thread, now).await?);
    Ok(lines)
}
