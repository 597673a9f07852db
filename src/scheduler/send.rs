//! Reminders in the shell: refresh the stored due items from the planner, then send the due
//! ones, each claimed and queued in one transaction.

use anyhow::Context as _;
use jiff::Timestamp;

use super::plan::{Audience, Due, Policy, ReminderKind, plan};
use super::store::{self, Pause, Reminder, Tracked};
use super::{SentReminder, local_time};
use crate::app::Bot;
use crate::config::Settings;
use crate::domain::{Complaint, EmailAddress, Status};
use crate::outbound::queue::{self, Outgoing};
use crate::store::secs;

/// How much of the complaint's text a reminder quotes.
const EXCERPT_CHARS: usize = 600;

/// Which complaints a round looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// Every open complaint.
    All,
    /// Open complaints changed at or after this moment, and those with a reminder due now
    /// (whose next repetition needs planning): a round woken by a change in a large
    /// register stays cheap.
    ChangedSince(Timestamp),
}

/// Complaints planned together: loaded, planned and their changes written before the next
/// ones are read, so a round's memory does not grow with the register (an all-round of a
/// register of 10,000 open complaints held every one of them at once) or with a backlog.
const PLAN_CHUNK: usize = crate::store::ID_CHUNK;

/// Brings the stored reminders in line with what the planner wants now: waits on the
/// complainant recorded, new reminders added, unwanted pending ones dropped. Writes only
/// what changed, one transaction per [`PLAN_CHUNK`] complaints.
pub(super) async fn refresh(bot: &Bot, now: Timestamp, scope: Scope) -> anyhow::Result<()> {
    let policy = Policy::from_settings(&bot.settings);
    let mut conn = bot.store.pool().acquire().await?;
    store::settle_closed(&mut conn, now).await?;
    let ids = match scope {
        Scope::All => store::open_complaint_ids(&mut conn).await?,
        Scope::ChangedSince(since) => store::changed_open_complaints(&mut conn, since, now).await?,
    };
    drop(conn);
    for chunk in ids.chunks(PLAN_CHUNK) {
        refresh_chunk(bot, now, &policy, chunk).await?;
    }
    Ok(())
}

async fn refresh_chunk(
    bot: &Bot,
    now: Timestamp,
    policy: &Policy,
    ids: &[i64],
) -> anyhow::Result<()> {
    let mut conn = bot.store.pool().acquire().await?;
    let mut open = store::tracked_many(&mut conn, ids).await?;
    let existing = store::reminders_of_many(&mut conn, ids).await?;
    for t in &mut open {
        track_pause(&mut conn, t, now).await?;
    }
    let mut changes = Vec::new();
    for t in &open {
        let wanted = plan(
            &t.stored.complaint,
            &t.waiting(),
            now,
            policy,
            &bot.calendar,
        );
        let rows = existing.get(&t.stored.id).map_or(&[][..], Vec::as_slice);
        changes.extend(diff(&wanted, rows).into_iter().map(|c| (t.stored.id, c)));
    }
    drop(conn);
    if changes.is_empty() {
        return Ok(());
    }
    let mut tx = bot.store.begin().await?;
    let inserts: Vec<(i64, &Due)> = changes
        .iter()
        .filter_map(|(complaint_id, change)| match change {
            Change::Insert(due) => Some((*complaint_id, due)),
            _ => None,
        })
        .collect();
    store::insert_reminders(&mut tx, &inserts, now).await?;
    for (_, change) in &changes {
        match change {
            Change::Insert(_) => {}
            Change::Revive(id) => store::revive_reminder(&mut tx, *id).await?,
            Change::Drop(id) => store::drop_reminder(&mut tx, *id, now).await?,
        }
    }
    tx.commit().await.context("Failed to store reminders")?;
    Ok(())
}

/// Starts or ends the record of a wait on the complainant when the status says so. The
/// moment is the row's last change (normally the status change itself), never later than
/// `now`: the scheduler looks at least every 30 s, so the record is that close.
async fn track_pause(
    conn: &mut sqlx::AnyConnection,
    t: &mut Tracked,
    now: Timestamp,
) -> anyhow::Result<()> {
    let c = &t.stored.complaint;
    let waiting = c.status == Status::AwaitingVerdict;
    let at = t.updated_at.min(now);
    match t.pauses.iter_mut().find(|p| p.ended_at.is_none()) {
        None if waiting => {
            store::start_pause(conn, t.stored.id, c.deadlines.solve_by, at).await?;
            t.pauses.push(Pause {
                id: 0,
                solve_by: c.deadlines.solve_by,
                started_at: at,
                ended_at: None,
            });
        }
        Some(p) if !waiting => {
            let end = at.max(p.started_at);
            store::end_pause(conn, p.id, end).await?;
            p.ended_at = Some(end);
        }
        _ => {}
    }
    Ok(())
}

/// One change to the stored reminders of a complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Change {
    /// A wanted reminder that is not stored yet.
    Insert(Due),
    /// A dropped, unsent reminder wanted again.
    Revive(i64),
    /// A pending reminder no longer wanted.
    Drop(i64),
}

/// What to change so that the stored rows match `wanted`. Sent rows are never touched;
/// rows of kinds this build does not know are left alone.
pub(super) fn diff(wanted: &[Due], rows: &[Reminder]) -> Vec<Change> {
    let same =
        |due: &Due, r: &Reminder| r.kind == due.kind.as_str() && r.due_at == secs(due.due_at);
    let mut changes = Vec::new();
    for due in wanted {
        match rows.iter().find(|r| same(due, r)) {
            None => changes.push(Change::Insert(due.clone())),
            Some(r) if r.sent_at.is_none() && r.dropped_at.is_some() => {
                changes.push(Change::Revive(r.id));
            }
            Some(_) => {}
        }
    }
    for r in rows.iter().filter(|r| r.pending()) {
        let known = ReminderKind::parse(&r.kind).is_some();
        if known && !wanted.iter().any(|due| same(due, r)) {
            changes.push(Change::Drop(r.id));
        }
    }
    changes
}

/// Sends every due reminder; one that fails is logged and the others still go.
pub(super) async fn send_due(bot: &Bot, now: Timestamp) -> anyhow::Result<Vec<SentReminder>> {
    let policy = Policy::from_settings(&bot.settings);
    let due = {
        let mut conn = bot.store.pool().acquire().await?;
        store::due_reminders(&mut conn, now).await?
    };
    let mut sent = Vec::new();
    let mut failed = None;
    for r in &due {
        match send_one(bot, &policy, r, now).await {
            Ok(Some(s)) => sent.push(s),
            Ok(None) => {}
            Err(e) => {
                let error = format!("{e:#}");
                tracing::warn!(reminder = r.id, kind = %r.kind, %error, "reminder not sent");
                failed = Some(e);
            }
        }
    }
    if !sent.is_empty() {
        bot.outbox_ready.notify_one();
    }
    match failed {
        Some(e) => Err(e.context("Failed to send a reminder")),
        None => Ok(sent),
    }
}

/// Claims, re-checks and queues one reminder in one transaction: a restart or a second
/// instance finds it sent, and a reminder the complaint no longer needs is dropped instead.
async fn send_one(
    bot: &Bot,
    policy: &Policy,
    r: &Reminder,
    now: Timestamp,
) -> anyhow::Result<Option<SentReminder>> {
    let Some(kind) = ReminderKind::parse(&r.kind) else {
        return Ok(None);
    };
    let mut tx = bot.store.begin().await?;
    // Write first: on SQLite a transaction that reads before it writes can fail to upgrade.
    if !store::claim_reminder(&mut tx, r.id, now).await? {
        tx.rollback().await?;
        return Ok(None);
    }
    let tracked = store::tracked(&mut tx, r.complaint_id).await?;
    let due = tracked.as_ref().and_then(|t| {
        plan(
            &t.stored.complaint,
            &t.waiting(),
            now,
            policy,
            &bot.calendar,
        )
        .into_iter()
        .find(|d| d.kind == kind && secs(d.due_at) == r.due_at)
    });
    let (Some(t), Some(due)) = (tracked, due) else {
        store::unclaim_and_drop(&mut tx, r.id, now).await?;
        tx.commit().await?;
        return Ok(None);
    };
    let c = &t.stored.complaint;
    let to = recipients(&bot.settings, c, due.audience);
    if to.is_empty() {
        // Stays claimed, without a mail: nobody is configured to receive it.
        tracing::warn!(
            reference = %c.reference,
            kind = kind.as_str(),
            "reminder has no recipients (no officers configured)"
        );
        tx.commit().await?;
        return Ok(None);
    }
    let mail = Outgoing {
        complaint: Some((t.stored.id, c.reference)),
        kind: kind.template(),
        context: context(bot, c, &due, now),
        to: to.clone(),
        in_reply_to: None,
        references: Vec::new(),
        auto_reply: false,
        null_sender: true,
    };
    let (outbox_id, _) = queue::enqueue(bot, &mut tx, mail, now).await?;
    store::set_reminder_outbox(&mut tx, r.id, outbox_id).await?;
    tx.commit().await.context("Failed to commit a reminder")?;
    tracing::info!(reference = %c.reference, kind = kind.as_str(), "reminder queued");
    Ok(Some(SentReminder {
        reference: c.reference,
        kind,
        due_at: due.due_at,
        recipients: to,
    }))
}

/// The addresses of an audience, each once, officers in configured order.
pub(super) fn recipients(
    settings: &Settings,
    c: &Complaint,
    audience: Audience,
) -> Vec<EmailAddress> {
    let people = &settings.people;
    let mut to: Vec<EmailAddress> = match audience {
        Audience::Officers => people.officers.clone(),
        Audience::OfficersAndManagement => people
            .officers
            .iter()
            .chain(&people.management)
            .cloned()
            .collect(),
        Audience::Assignee => match &c.assignee {
            Some(a) => vec![a.clone()],
            None => people.officers.clone(),
        },
        Audience::AssigneeAndOfficers => {
            c.assignee.iter().chain(&people.officers).cloned().collect()
        }
    };
    let mut seen = std::collections::BTreeSet::new();
    to.retain(|a| seen.insert(a.to_string()));
    to
}

/// The template variables of a reminder.
fn context(bot: &Bot, c: &Complaint, due: &Due, now: Timestamp) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert("kind", due.kind.as_str());
    ctx.insert("subject", &c.subject);
    ctx.insert("description", &excerpt(&c.description, EXCERPT_CHARS));
    ctx.insert("complainant", &complainant(c));
    ctx.insert("received", &local_time(bot, c.received_at));
    ctx.insert("deadline", &local_time(bot, due.deadline));
    ctx.insert("due", &local_time(bot, due.due_at));
    ctx.insert("overdue", &(now >= due.deadline));
    ctx.insert("repeat", &due.repeat);
    ctx.insert("status", c.status.as_str());
    ctx.insert("assignee", &c.assignee.as_ref().map(ToString::to_string));
    ctx.insert("address", &bot.settings.address.to_string());
    ctx
}

/// "Klaas Klant <klaas@klant.example>, 06-1234", or what is known of it.
fn complainant(c: &Complaint) -> String {
    let p = &c.complainant;
    let mut parts = Vec::new();
    match (&p.name, &p.email) {
        (Some(n), Some(e)) => parts.push(format!("{n} <{e}>")),
        (Some(n), None) => parts.push(n.clone()),
        (None, Some(e)) => parts.push(e.to_string()),
        (None, None) => {}
    }
    parts.extend(p.phone.clone());
    parts.extend(p.organisation.clone());
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// The first `max` characters of `text`, cut at a word, with "..." when cut.
fn excerpt(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    let at = cut.rfind(char::is_whitespace).unwrap_or(cut.len());
    format!("{}...", cut[..at].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Language;
    use crate::outbound::render::Renderer;

    fn due(kind: ReminderKind, secs_: i64) -> Due {
        let at = Timestamp::from_second(secs_).expect("in range");
        Due {
            kind,
            due_at: at,
            deadline: at,
            audience: Audience::Officers,
            valid_until: Timestamp::MAX,
            repeat: 0,
        }
    }

    fn row(id: i64, kind: &str, due_at: i64, sent: bool, dropped: bool) -> Reminder {
        Reminder {
            id,
            complaint_id: 1,
            kind: kind.into(),
            due_at,
            sent_at: sent.then_some(5),
            dropped_at: dropped.then_some(5),
        }
    }

    #[test]
    fn the_diff_adds_drops_and_revives_but_never_touches_sent_or_unknown_rows() {
        let wanted = [
            due(ReminderKind::ExplainBefore, 100),
            due(ReminderKind::ExplainOverdue, 200),
            due(ReminderKind::SolveBefore, 300),
        ];
        let rows = [
            row(1, "explain_before", 100, true, false),
            row(2, "explain_overdue", 200, false, true),
            row(3, "solve_before", 250, false, false),
            row(4, "solve_overdue", 400, true, false),
            row(5, "from_a_newer_build", 500, false, false),
        ];
        assert_eq!(
            diff(&wanted, &rows),
            [
                Change::Revive(2),
                Change::Insert(due(ReminderKind::SolveBefore, 300)),
                Change::Drop(3),
            ]
        );
        assert!(diff(&wanted[..1], &rows[..1]).is_empty());
    }

    #[test]
    fn every_reminder_renders_in_both_languages_with_the_reference_first_and_a_command() {
        let tz = jiff::tz::TimeZone::get("Europe/Amsterdam").expect("zone");
        for language in [Language::Nl, Language::En] {
            let renderer = Renderer::new(language, tz.clone(), None).expect("templates");
            for kind in ReminderKind::ALL {
                let mut ctx = tera::Context::new();
                ctx.insert("reference", "KL-2026-0042");
                ctx.insert("organisation", "Concreet");
                ctx.insert("kind", kind.as_str());
                ctx.insert("subject", "Examen <kwijt>");
                ctx.insert("description", "Het pakket kwam niet.");
                ctx.insert("complainant", "Klaas <klaas@klant.example>");
                ctx.insert("received", "maandag 2 maart 2026 10:00");
                ctx.insert("deadline", "maandag 16 maart 2026 10:00");
                ctx.insert("due", "woensdag 11 maart 2026 10:00");
                ctx.insert("overdue", &false);
                ctx.insert("repeat", &1);
                ctx.insert("status", "in_progress");
                ctx.insert("assignee", &None::<String>);
                ctx.insert("address", "klantenservice@concreet.test");
                let m = renderer.render(kind.template(), &ctx).expect("renders");
                assert!(m.subject.starts_with("[KL-2026-0042] "), "{}", m.subject);
                assert!(m.subject.ends_with("Examen <kwijt>"), "{}", m.subject);
                assert!(m.body.contains('#'), "{kind:?} names no command");
                assert!(m.body.contains("Examen <kwijt>"), "not HTML-escaped");
                assert!(m.body.contains("Klaas <klaas@klant.example>"));
                assert!(!m.body.contains("{{"), "{}", m.body);
            }
        }
    }

    #[test]
    fn an_excerpt_is_cut_at_a_word() {
        assert_eq!(excerpt("kort", 10), "kort");
        assert_eq!(excerpt("een lange zin hier", 10), "een lange...");
    }
}
