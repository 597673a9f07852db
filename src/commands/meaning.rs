//! What commands mean for a complaint: who may give them ([`Role`]), which procedure event
//! each one makes ([`event_for`]), and the all-or-nothing plan of a command mail ([`plan`]).
//! Pure, beside the table it reads; the intake carries the plan out.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::parse::{Command, DeadlineArg, Parsed, Value};
use super::table::{Arg, Name, Who, spec_of};
use crate::calendar::WorkingCalendar;
use crate::config::People;
use crate::domain::{Classification, Complaint, EmailAddress, Reference};
use crate::procedure::{self, Effect, Event};

/// What the sender is, as far as commands go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Role {
    /// A configured officer (may use every command).
    pub officer: bool,
    /// Management.
    pub management: bool,
    /// Staff (a staff domain; officers included).
    pub staff: bool,
    /// The assignee of the complaint the mail is about.
    pub assignee: bool,
}

impl Role {
    /// The role of `who` for a mail about `complaint` (if any).
    pub fn of(people: &People, who: &EmailAddress, complaint: Option<&Complaint>) -> Role {
        Role {
            officer: people.is_officer(who),
            management: people.management.contains(who),
            staff: people.is_staff(who),
            assignee: complaint.is_some_and(|c| c.assignee.as_ref() == Some(who)),
        }
    }

    /// Whether this sender's `#words` are commands at all; for everyone else they are plain
    /// text of a follow-up.
    pub fn may_command(self) -> bool {
        self.officer || self.management || self.staff || self.assignee
    }

    /// Whether this sender may give a command the table reserves for `who`.
    pub fn allows(self, who: Who) -> bool {
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

/// Why a command is not allowed, for the answer to the sender.
pub fn who_text(who: Who) -> &'static str {
    match who {
        Who::Officer => "only the complaints officer may",
        Who::Assignee => "only the officer or the complaint's assignee may",
        Who::Staff => "only the officer or staff may",
        Who::Management => "only the officer or management may",
        Who::Anyone => "only the officer, staff or management may",
    }
}

/// What a command mail asks before anything is applied: the commands `role` may not give,
/// those that only belong with a note or forward, and those that need a complaint the mail
/// does not name. Empty when the mail may go ahead.
pub fn refusals(
    parsed: &Parsed,
    role: Role,
    sender: &EmailAddress,
    has_complaint: bool,
    reference: Option<Reference>,
) -> Vec<String> {
    let mut problems = parsed.errors.clone();
    for c in &parsed.commands {
        let spec = spec_of(c.name);
        if !role.allows(spec.who) {
            problems.push(format!(
                "#{}: not allowed for {sender} ({})",
                c.word,
                who_text(spec.who)
            ));
        }
        if matches!(c.name, Name::Solved | Name::Customer) {
            problems.push(format!(
                "#{}: only with #telefoon, #brief or a forwarded mail",
                c.word
            ));
        }
        if spec.needs_complaint && !has_complaint {
            problems.push(match reference {
                Some(r) => format!("#{}: there is no complaint {r}", c.word),
                None => format!(
                    "#{}: no complaint reference (KL-YYYY-NNNN) in the subject",
                    c.word
                ),
            });
        }
    }
    problems.dedup();
    problems
}

/// The time a command is given, with what `#termijn` needs to turn its argument into a
/// deadline.
#[derive(Debug, Clone, Copy)]
pub struct When<'a> {
    /// Now.
    pub now: Timestamp,
    /// The working-day calendar (`#termijn 10wd`).
    pub calendar: &'a WorkingCalendar,
    /// The organisation's zone (`#termijn 2026-12-24` ends at that day's end there).
    pub timezone: &'a TimeZone,
}

/// The procedure event a command makes; `None` for commands that change no state (help,
/// status, report, recommendations and measures, which are written beside the complaint).
/// `Err` says why the command cannot be applied (a missing body, a bad argument).
pub fn event_for(cmd: &Command, body: &str, when: When<'_>) -> Result<Option<Event>, String> {
    let text = || {
        if body.trim().is_empty() {
            Err("write the text in the body of the mail".to_string())
        } else {
            Ok(body.to_string())
        }
    };
    let optional = || Some(body.to_string()).filter(|b| !b.trim().is_empty());
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
        (Name::Explain, _) => Event::ExplanationSent(optional()),
        (Name::Solution, _) => Event::SolutionProposed(text()?),
        (Name::Accepted, _) => Event::VerdictAccepted,
        (Name::Rejected, _) => Event::VerdictRejected,
        (Name::Close, _) => Event::Closed {
            solution: optional(),
        },
        (Name::Reopen, _) => Event::Reopened,
        (Name::Note, _) => {
            text()?;
            Event::Noted
        }
        (Name::NotAComplaint, _) => Event::MarkedNotAComplaint,
        (Name::Withdrawn, _) => Event::Withdrawn,
        (Name::Deadline, Value::Deadline(d)) => Event::SolveDeadlineMoved(deadline_at(*d, when)?),
        (Name::Measure, _) => {
            if let MeasureArg::New(_) = measure_arg(&cmd.arg_text)? {
                text()?;
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

/// `#termijn`: a date means the end of that day in local time.
fn deadline_at(d: DeadlineArg, when: When<'_>) -> Result<Timestamp, String> {
    match d {
        DeadlineArg::Span(span) => Ok(when.calendar.deadline(when.now, &span)),
        DeadlineArg::Date(date) => date
            .at(23, 59, 59, 0)
            .to_zoned(when.timezone.clone())
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string()),
    }
}

/// A command mail's commands applied to a copy of the complaint, all of them.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The complaint after every command.
    pub complaint: Complaint,
    /// What the procedure asks to be done (mails to send).
    pub effects: Vec<Effect>,
    /// `#word done`, one line per applied command, for the answer.
    pub lines: Vec<String>,
}

/// Applies every command to a copy of the complaint; all or nothing: `Err` holds one
/// refusal per command that could not be applied.
pub fn plan(
    c: &Complaint,
    list: &[Command],
    body: &str,
    when: When<'_>,
) -> Result<Plan, Vec<String>> {
    let mut current = c.clone();
    let mut effects = Vec::new();
    let mut lines = Vec::new();
    let mut refusals = Vec::new();
    for cmd in list {
        let event = match event_for(cmd, body, when) {
            Ok(Some(e)) => e,
            Ok(None) => continue,
            Err(e) => {
                refusals.push(format!("#{}: {e}", cmd.word));
                continue;
            }
        };
        match procedure::apply(&current, &event, when.now) {
            Ok((next, mut fx)) => {
                current = next;
                effects.append(&mut fx);
                lines.push(format!("#{} done", cmd.word));
            }
            Err(refusal) => refusals.push(format!("#{}: {refusal}", cmd.word)),
        }
    }
    if refusals.is_empty() {
        Ok(Plan {
            complaint: current,
            effects,
            lines,
        })
    } else {
        Err(refusals)
    }
}

/// `#maatregel [status]` records a new measure (body: its text); `#maatregel <nummer>
/// <status>` changes the status of measure `nummer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeasureArg {
    /// A new measure with this status.
    New(&'static str),
    /// Measure `.0` gets status `.1`.
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

/// Reads the argument of `#maatregel`.
pub fn measure_arg(arg: &str) -> Result<MeasureArg, String> {
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

/// What the timeline says about an applied command: its Dutch word, its argument, and for
/// commands that take the body, the body.
pub fn detail(c: &Command, body: &str) -> String {
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
    let spec = spec_of(c.name);
    if matches!(spec.arg, Arg::Body) && !body.trim().is_empty() {
        format!("#{}{arg}: {}", spec.nl, body.trim())
    } else {
        format!("#{}{arg}", spec.nl)
    }
}

#[cfg(test)]
#[path = "meaning_tests.rs"]
mod tests;
