//! Command mails from the officer, assignees, staff and management: authenticate, check who
//! may, apply all commands through the procedure or none, carry out the effects, and always
//! answer the sender (except a forger, who gets nothing).

use jiff::Timestamp;
use sqlx::AnyConnection;

use super::answer::{reply, report};
use super::effects::{self, Thread};
use super::outcome::Outcome;
use super::parse::{InboundMail, Mailbox};
use super::record::{flag_only, record, timeline};
use super::{staff, strip};
use crate::app::Bot;
use crate::commands::{self, Command, DeadlineArg, Name, Parsed, Value, Who};
use crate::domain::{Classification, Complaint, EmailAddress, MessageId, Reference};
use crate::outbound::queue::{Notice, notify_officers};
use crate::privacy::mail as privacy_mail;
use crate::procedure::{self, Event};
use crate::store::complaints::{self, StoredComplaint};
use crate::store::measures;

/// The one name of a refused command: the message kind, the timeline event and the flag
/// (earlier versions also wrote "refused_command" for the flag; the digest reads both).
pub(crate) const COMMAND_REFUSED: &str = "command_refused";

/// What the sender is, as far as commands go.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Role {
    pub officer: bool,
    pub management: bool,
    pub staff: bool,
    pub assignee: bool,
}

impl Role {
    pub(super) fn of(bot: &Bot, who: &EmailAddress, complaint: Option<&Complaint>) -> Role {
        let people = &bot.settings.people;
        Role {
            officer: people.is_officer(who),
            management: people.management.contains(who),
            staff: people.is_staff(who),
            assignee: complaint.is_some_and(|c| c.assignee.as_ref() == Some(who)),
        }
    }

    /// Whether this sender's `#words` are commands at all; for everyone else they are plain
    /// text of a follow-up.
    pub(super) fn may_command(self) -> bool {
        self.officer || self.management || self.staff || self.assignee
    }

    fn allows(self, who: Who) -> bool {
        self.officer
            || match who {
                Who::Officer => false,
                Who::Assignee => self.assignee,
                Who::Staff => self.staff,
                Who::Management => self.management,
                Who::Anyone => self.may_command(),
            }
    }
}

/// Handles a mail whose subject holds commands from someone who may command.
#[allow(clippy::too_many_arguments)]
pub(super) async fn handle(
    bot: &Bot,
    conn: &mut AnyConnection,
    id: i64,
    mail: &InboundMail,
    from: &Mailbox,
    parsed: Parsed,
    existing: Option<StoredComplaint>,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    let reference = existing
        .as_ref()
        .map(|c| c.complaint.reference)
        .or_else(|| Reference::find(&mail.subject));
    let reply_ids: Vec<MessageId> = mail
        .in_reply_to
        .iter()
        .chain(&mail.references)
        .cloned()
        .collect();
    let domain = &bot.settings.organisation.mail_domain;
    let proof = crate::auth::check_sender(
        &mail.authentication_results,
        &reply_ids,
        &from.address,
        reference,
        &bot.settings.auth,
        domain,
    );
    if let Err(why) = proof {
        return refuse_forgery(bot, conn, id, mail, from, existing.as_ref(), &why, now).await;
    }
    if parsed.has(Name::Phone) || parsed.has(Name::Letter) {
        return staff::note(bot, conn, id, mail, from, &parsed, now).await;
    }
    if existing.is_none() && (parsed.has(Name::Customer) || staff::looks_forwarded(mail)) {
        return staff::forward(bot, conn, id, mail, from, &parsed, now).await;
    }
    let role = Role::of(bot, &from.address, existing.as_ref().map(|c| &c.complaint));
    let mut problems = parsed.errors.clone();
    for c in &parsed.commands {
        let spec = commands::table::spec_of(c.name);
        if !role.allows(spec.who) {
            problems.push(format!(
                "#{}: not allowed for {} ({})",
                c.word,
                from.address,
                who_text(spec.who)
            ));
        }
        if matches!(c.name, Name::Solved | Name::Customer) {
            problems.push(format!(
                "#{}: only with #telefoon, #brief or a forwarded mail",
                c.word
            ));
        }
        if spec.needs_complaint && existing.is_none() {
            problems.push(match reference {
                Some(r) => format!("#{}: there is no complaint {r}", c.word),
                None => format!(
                    "#{}: no complaint reference (KL-YYYY-NNNN) in the subject",
                    c.word
                ),
            });
        }
    }
    let body = strip::new_text(&mail.text).text;
    let outcome_ref = existing.as_ref().map(|c| c.complaint.reference);
    if !problems.is_empty() {
        problems.dedup();
        reply(
            bot,
            conn,
            mail,
            from,
            existing.as_ref(),
            &parsed,
            false,
            &problems,
            now,
        )
        .await?;
        return finish(
            conn,
            id,
            mail,
            existing.as_ref(),
            false,
            &problems,
            outcome_ref,
            now,
        )
        .await;
    }
    let Some(found) = existing else {
        // Only table-wide commands (#help, #aanbeveling, #maatregel, #rapport) get here.
        let mut lines = general(conn, &parsed, &body, &from.address, None, now).await?;
        lines.extend(mailed_back(bot, conn, mail, from, &parsed, now).await?);
        reply(bot, conn, mail, from, None, &parsed, true, &lines, now).await?;
        return finish(conn, id, mail, None, true, &lines, None, now).await;
    };
    match plan(bot, &found.complaint, &parsed.commands, &body, now) {
        Err(refusals) => {
            reply(
                bot,
                conn,
                mail,
                from,
                Some(&found),
                &parsed,
                false,
                &refusals,
                now,
            )
            .await?;
            finish(
                conn,
                id,
                mail,
                Some(&found),
                false,
                &refusals,
                outcome_ref,
                now,
            )
            .await
        }
        Ok((updated, effects, mut lines)) => {
            complaints::update(conn, found.id, &updated, now).await?;
            for c in &parsed.commands {
                let detail = command_detail(c, &body);
                timeline(
                    conn,
                    found.id,
                    now,
                    from.address.as_ref(),
                    "command",
                    &detail,
                    Some(id),
                )
                .await?;
            }
            lines.extend(general(conn, &parsed, &body, &from.address, Some(found.id), now).await?);
            lines.extend(mailed_back(bot, conn, mail, from, &parsed, now).await?);
            let thread = Thread::default();
            let (updated, mailed) = effects::carry_out(
                bot,
                conn,
                found.id,
                updated,
                &effects,
                from.address.as_ref(),
                thread,
                now,
            )
            .await?;
            complaints::update(conn, found.id, &updated, now).await?;
            lines.extend(mailed);
            let after = StoredComplaint {
                id: found.id,
                complaint: updated,
            };
            reply(
                bot,
                conn,
                mail,
                from,
                Some(&after),
                &parsed,
                true,
                &lines,
                now,
            )
            .await?;
            finish(conn, id, mail, Some(&after), true, &lines, outcome_ref, now).await
        }
    }
}

fn who_text(who: Who) -> &'static str {
    match who {
        Who::Officer => "only the complaints officer may",
        Who::Assignee => "only the officer or the complaint's assignee may",
        Who::Staff => "only the officer or staff may",
        Who::Management => "only the officer or management may",
        Who::Anyone => "only the officer, staff or management may",
    }
}

/// Applies every command to a copy of the complaint; all or nothing.
fn plan(
    bot: &Bot,
    c: &Complaint,
    list: &[Command],
    body: &str,
    now: Timestamp,
) -> Result<(Complaint, Vec<procedure::Effect>, Vec<String>), Vec<String>> {
    let mut current = c.clone();
    let mut effects = Vec::new();
    let mut lines = Vec::new();
    let mut refusals = Vec::new();
    for cmd in list {
        let event = match event_for(bot, cmd, body, now) {
            Ok(Some(e)) => e,
            Ok(None) => continue,
            Err(e) => {
                refusals.push(format!("#{}: {e}", cmd.word));
                continue;
            }
        };
        match procedure::apply(&current, &event, now) {
            Ok((next, mut fx)) => {
                current = next;
                effects.append(&mut fx);
                lines.push(format!("#{} done", cmd.word));
            }
            Err(refusal) => refusals.push(format!("#{}: {refusal}", cmd.word)),
        }
    }
    if refusals.is_empty() {
        Ok((current, effects, lines))
    } else {
        Err(refusals)
    }
}

fn event_for(
    bot: &Bot,
    cmd: &Command,
    body: &str,
    now: Timestamp,
) -> Result<Option<Event>, String> {
    let text = || {
        if body.trim().is_empty() {
            Err("write the text in the body of the mail".to_string())
        } else {
            Ok(body.to_string())
        }
    };
    Ok(Some(match (&cmd.name, &cmd.value) {
        (Name::Assign, Value::Address(a)) => Event::Assigned(a.clone()),
        (Name::Department, Value::Text(t)) => Event::DepartmentSet(t.clone()),
        (Name::Category, Value::Text(t)) => Event::CategorySet(t.clone()),
        (Name::Concerns, Value::AddressAndChoice(p, inform)) => Event::ConcernedSet {
            person: p.clone(),
            inform: *inform,
        },
        (Name::CustomerType, Value::CustomerType(t)) => Event::CustomerTypeSet(*t),
        (Name::Incident, _) => Event::Classified(Classification::Incident),
        (Name::Structural, _) => Event::Classified(Classification::Structural),
        (Name::Cause, _) => Event::RootCauseSet(text()?),
        (Name::Advice, _) => Event::AdviceGiven(text()?),
        (Name::Explain, _) => {
            Event::ExplanationSent(Some(body.to_string()).filter(|b| !b.trim().is_empty()))
        }
        (Name::Solution, _) => Event::SolutionProposed(text()?),
        (Name::Accepted, _) => Event::VerdictAccepted,
        (Name::Rejected, _) => Event::VerdictRejected,
        (Name::Close, _) => Event::Closed {
            solution: Some(body.to_string()).filter(|b| !b.trim().is_empty()),
        },
        (Name::Reopen, _) => Event::Reopened,
        (Name::Note, _) => {
            text()?;
            Event::Noted
        }
        (Name::NotAComplaint, _) => Event::MarkedNotAComplaint,
        (Name::Withdrawn, _) => Event::Withdrawn,
        (Name::Deadline, Value::Deadline(d)) => {
            Event::SolveDeadlineMoved(deadline_at(bot, *d, now)?)
        }
        (Name::Measure, _) => {
            match measure_arg(&cmd.arg_text)? {
                MeasureArg::Update(..) => {}
                MeasureArg::New(_) => {
                    text()?;
                }
            }
            return Ok(None);
        }
        (Name::Recommendation, _) => {
            text()?;
            return Ok(None);
        }
        _ => return Ok(None),
    }))
}

/// `#maatregel [status]` records a new measure (body: its text); `#maatregel <nummer>
/// <status>` changes the status of measure `nummer`.
enum MeasureArg {
    New(&'static str),
    Update(i64, &'static str),
}

fn measure_status(word: &str) -> Option<&'static str> {
    match word.to_lowercase().replace(['-', '_'], " ").trim() {
        "besloten" | "decided" => Some("decided"),
        "in uitvoering" | "uitvoering" | "in progress" => Some("in_progress"),
        "uitgevoerd" | "klaar" | "done" => Some("done"),
        "vervallen" | "dropped" | "cancelled" => Some("dropped"),
        _ => None,
    }
}

fn measure_arg(arg: &str) -> Result<MeasureArg, String> {
    let arg = arg.trim();
    let bad = || format!("'{arg}': use besloten, in uitvoering, uitgevoerd or vervallen");
    match arg
        .split_once(char::is_whitespace)
        .map_or((arg, ""), |(a, b)| (a, b.trim()))
    {
        ("", _) => Ok(MeasureArg::New("decided")),
        (n, status) if n.chars().all(|c| c.is_ascii_digit()) => {
            let id = n.parse().map_err(|_| bad())?;
            Ok(MeasureArg::Update(
                id,
                measure_status(status).ok_or_else(bad)?,
            ))
        }
        _ => Ok(MeasureArg::New(measure_status(arg).ok_or_else(bad)?)),
    }
}

/// `#termijn`: a date means the end of that day in local time.
fn deadline_at(bot: &Bot, d: DeadlineArg, now: Timestamp) -> Result<Timestamp, String> {
    match d {
        DeadlineArg::Span(span) => Ok(bot.calendar.deadline(now, &span)),
        DeadlineArg::Date(date) => date
            .at(23, 59, 59, 0)
            .to_zoned(bot.settings.organisation.timezone.clone())
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string()),
    }
}

/// Commands that are not about the complaint's state: recommendations, measures, help.
async fn general(
    conn: &mut AnyConnection,
    parsed: &Parsed,
    body: &str,
    who: &EmailAddress,
    cid: Option<i64>,
    now: Timestamp,
) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    for c in &parsed.commands {
        match c.name {
            Name::Recommendation if !body.trim().is_empty() => {
                measures::add_recommendation(conn, cid, body, who.as_ref(), now).await?;
                lines.push("recommendation recorded".into());
            }
            Name::Measure => match measure_arg(&c.arg_text) {
                Ok(MeasureArg::Update(id, status)) => {
                    if measures::set_measure_status(conn, id, status, now).await? {
                        lines.push(format!("measure {id} is now {status}"));
                    } else {
                        lines.push(format!("#{}: there is no measure {id}", c.word));
                    }
                }
                Ok(MeasureArg::New(status)) if !body.trim().is_empty() => {
                    let id =
                        measures::add_measure(conn, cid, body, status, who.as_ref(), now).await?;
                    lines.push(format!("measure {id} recorded ({status}); change it with #maatregel {id} uitgevoerd"));
                }
                Ok(MeasureArg::New(_)) | Err(_) => {
                    lines.push(format!(
                        "#{}: write the measure in the body of the mail",
                        c.word
                    ));
                }
            },
            Name::Recommendation => lines.push(format!(
                "#{}: write the text in the body of the mail",
                c.word
            )),
            _ => {}
        }
    }
    Ok(lines)
}

fn command_detail(c: &Command, body: &str) -> String {
    let arg = match &c.value {
        Value::Address(a) => format!(" {a}"),
        Value::AddressAndChoice(a, inform) => {
            format!(" {a}{}", if *inform { " informeren" } else { "" })
        }
        Value::Text(t) => format!(" {t}"),
        Value::CustomerType(t) => format!(" {t}"),
        Value::Deadline(DeadlineArg::Date(d)) => format!(" {d}"),
        Value::Deadline(DeadlineArg::Span(s)) => format!(" {s:?}"),
        Value::Year(y) => y.map(|y| format!(" {y}")).unwrap_or_default(),
        Value::None => String::new(),
    };
    let spec = commands::table::spec_of(c.name);
    if matches!(spec.arg, commands::Arg::Body) && !body.trim().is_empty() {
        format!("#{}{arg}: {}", spec.nl, body.trim())
    } else {
        format!("#{}{arg}", spec.nl)
    }
}

#[allow(clippy::too_many_arguments)]
async fn finish(
    conn: &mut AnyConnection,
    id: i64,
    mail: &InboundMail,
    complaint: Option<&StoredComplaint>,
    applied: bool,
    lines: &[String],
    reference: Option<Reference>,
    _now: Timestamp,
) -> anyhow::Result<Outcome> {
    let summary = lines.join("; ");
    let outcome = Outcome::Commanded {
        reference,
        applied,
        summary,
    };
    let kind = if applied { "command" } else { COMMAND_REFUSED };
    record(
        conn,
        id,
        mail,
        kind,
        &outcome.to_string(),
        complaint.map(|c| c.id),
        None,
    )
    .await?;
    Ok(outcome)
}

/// A command from an officer's or staff address without proof: kept, shown to the officer,
/// and the (possibly spoofed) sender gets nothing.
#[allow(clippy::too_many_arguments)]
async fn refuse_forgery(
    bot: &Bot,
    conn: &mut AnyConnection,
    id: i64,
    mail: &InboundMail,
    from: &Mailbox,
    existing: Option<&StoredComplaint>,
    why: &str,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    let reason = format!(
        "refused: commands from {} not executed: {why}",
        from.address
    );
    if let Some(c) = existing {
        timeline(
            conn,
            c.id,
            now,
            from.address.as_ref(),
            COMMAND_REFUSED,
            &format!("{}: {reason}", mail.subject),
            Some(id),
        )
        .await?;
    }
    let scope = existing.map(|c| (c.id, c.complaint.reference));
    let text = format!("{reason}\n\nSubject: {}", mail.subject);
    notify_officers(bot, conn, scope, Notice::CommandRefused, &text, now).await?;
    flag_only(conn, id, mail, existing, COMMAND_REFUSED, &reason, now).await?;
    Ok(Outcome::Flagged {
        reason,
        reference: scope.map(|s| s.1),
    })
}

/// The Message-IDs this mail answers (In-Reply-To and References), for confirmations.
/// The commands whose answer is mailed back whatever the complaint (`#rapport`, `#inzage`,
/// `#vergeten`): the same with and without a reference in the subject.
async fn mailed_back(
    bot: &Bot,
    conn: &mut AnyConnection,
    mail: &InboundMail,
    from: &Mailbox,
    parsed: &Parsed,
    now: Timestamp,
) -> anyhow::Result<Vec<String>> {
    let mut lines = report(bot, conn, mail, from, parsed, now).await?;
    let message_id = mail.message_id.as_ref();
    lines.extend(privacy_mail::access(bot, conn, parsed, &from.address, message_id, now).await?);
    let thread = thread_ids(mail);
    lines.extend(privacy_mail::erase(bot, conn, parsed, &from.address, &thread, now).await?);
    Ok(lines)
}

fn thread_ids(mail: &InboundMail) -> Vec<crate::domain::MessageId> {
    mail.in_reply_to
        .iter()
        .chain(&mail.references)
        .cloned()
        .collect()
}
