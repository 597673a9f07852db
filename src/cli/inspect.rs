//! `list`, `show` and `status`: reading the register, as text for people or JSON for tools.

use serde::Serialize;

use super::exit;
use crate::app::Bot;
use crate::config::parse_deadline;
use crate::domain::{Reference, Status};
use crate::instance::store::{self as instance_store, InstanceRow};
use crate::scheduler;
use crate::store::complaints::{self, ListFilter};
use crate::store::{cursors, events, flags, messages, outbox};

/// What `list` shows.
#[derive(Debug, Clone)]
pub struct ListWhat {
    /// Only overdue open complaints.
    pub overdue: bool,
    /// Only open complaints with a deadline within this duration.
    pub due_within: Option<String>,
    /// Only open complaints.
    pub open: bool,
    /// Only this status.
    pub status: Option<Status>,
    /// Flags instead of complaints.
    pub flagged: bool,
    /// The outbox instead of complaints.
    pub outbox: bool,
}

fn local(bot: &Bot, t: jiff::Timestamp) -> String {
    t.to_zoned(bot.settings.organisation.timezone.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// `klachtenbot list`.
pub async fn list(bot: &Bot, what: ListWhat, json: bool) -> anyhow::Result<u8> {
    let mut conn = bot.store.pool().acquire().await?;
    if what.flagged {
        let open = flags::open(&mut conn, None).await?;
        if json {
            print_json(&open)?;
        } else if open.is_empty() {
            println!("no open flags");
        } else {
            for f in open {
                let on = f.reference.as_deref().unwrap_or("-");
                let msg = f
                    .message_id
                    .map(|m| format!("message {m}"))
                    .unwrap_or_default();
                println!(
                    "{}  {on:<13} {:<14} {}  {msg}",
                    local(bot, f.created_at),
                    f.reason,
                    f.detail
                );
            }
        }
        return Ok(exit::OK);
    }
    if what.outbox {
        let mut rows = outbox::list(&mut conn, None, None).await?;
        rows.sort_by_key(|r| (r.status == "sent", r.id));
        if json {
            print_json(&rows)?;
        } else {
            for r in rows {
                let err = r
                    .last_error
                    .as_deref()
                    .map(|e| format!("  ({e})"))
                    .unwrap_or_default();
                println!(
                    "#{:<5} {:<8} {:<16} {:<30} {}{err}",
                    r.id, r.status, r.kind, r.recipients, r.subject
                );
            }
        }
        return Ok(exit::OK);
    }
    if what.overdue || what.due_within.is_some() {
        drop(conn);
        return list_deadlines(bot, &what, json).await;
    }
    let filter = ListFilter {
        open_only: what.open,
        status: what.status,
    };
    let found = complaints::list(&mut conn, filter).await?;
    if json {
        let records: Vec<_> = found.iter().map(|s| &s.complaint).collect();
        print_json(&records)?;
        return Ok(exit::OK);
    }
    if found.is_empty() {
        println!("no complaints");
    }
    for s in found {
        let c = &s.complaint;
        let who = c
            .complainant
            .email
            .as_ref()
            .map(ToString::to_string)
            .or(c.complainant.name.clone())
            .unwrap_or_default();
        println!(
            "{}  {:<16} {}  {:<30} {}",
            c.reference,
            c.status,
            local(bot, c.received_at),
            who,
            c.subject
        );
    }
    Ok(exit::OK)
}

/// One complaint in `list --overdue` / `--due-within`: the deadlines that matched.
#[derive(Serialize)]
struct DeadlineListing {
    reference: String,
    status: Status,
    subject: String,
    complainant: Option<String>,
    assignee: Option<String>,
    deadlines: Vec<ListedDeadline>,
}

#[derive(Serialize)]
struct ListedDeadline {
    kind: scheduler::DeadlineKind,
    due_at: jiff::Timestamp,
    overdue: bool,
}

/// `list --overdue` and `list --due-within 7d|5wd`: open complaints with a deadline not met
/// that has passed, or falls between now and then (both flags: either), soonest first.
/// The solve deadline is the one in force (moved by waits on the complainant when
/// configured); a proposal waiting for the verdict has a follow-up deadline instead.
async fn list_deadlines(bot: &Bot, what: &ListWhat, json: bool) -> anyhow::Result<u8> {
    let now = bot.clock.now();
    let horizon = match what.due_within.as_deref().map(parse_deadline) {
        None => None,
        Some(Ok(span)) => Some(bot.calendar.deadline(now, &span)),
        Some(Err(e)) => {
            eprintln!("--due-within: {e}");
            return Ok(USAGE);
        }
    };
    let mut found: Vec<(jiff::Timestamp, DeadlineListing)> = Vec::new();
    for (stored, pending) in scheduler::open_deadlines(bot).await? {
        let deadlines: Vec<ListedDeadline> = pending
            .into_iter()
            .filter(|p| {
                (what.overdue && p.due < now) || horizon.is_some_and(|h| p.due >= now && p.due <= h)
            })
            .map(|p| ListedDeadline {
                kind: p.kind,
                due_at: p.due,
                overdue: p.due < now,
            })
            .collect();
        let Some(first) = deadlines.iter().map(|d| d.due_at).min() else {
            continue;
        };
        let c = stored.complaint;
        found.push((
            first,
            DeadlineListing {
                reference: c.reference.to_string(),
                status: c.status,
                complainant: c
                    .complainant
                    .email
                    .as_ref()
                    .map(ToString::to_string)
                    .or(c.complainant.name),
                assignee: c.assignee.as_ref().map(ToString::to_string),
                subject: c.subject,
                deadlines,
            },
        ));
    }
    found.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.reference.cmp(&b.1.reference))
    });
    let listed: Vec<DeadlineListing> = found.into_iter().map(|(_, l)| l).collect();
    if json {
        print_json(&listed)?;
        return Ok(exit::OK);
    }
    if listed.is_empty() {
        println!("no complaints");
    }
    for l in &listed {
        let due = l
            .deadlines
            .iter()
            .map(|d| {
                let state = if d.overdue { "overdue since" } else { "due" };
                format!("{} {state} {}", d.kind.as_str(), local(bot, d.due_at))
            })
            .collect::<Vec<_>>()
            .join("; ");
        println!(
            "{}  {:<16} {:<30} {}  [{due}]",
            l.reference,
            l.status,
            l.assignee.as_deref().unwrap_or("-"),
            l.subject
        );
    }
    Ok(exit::OK)
}

/// sysexits(3) EX_USAGE: the `--due-within` duration is not one.
const USAGE: u8 = 64;

#[derive(Serialize)]
struct Shown {
    complaint: crate::domain::Complaint,
    timeline: Vec<events::Event>,
    messages: Vec<messages::MessageSummary>,
    outbox: Vec<outbox::Outgoing>,
    flags: Vec<flags::Flag>,
}

/// `klachtenbot show KL-...`; exit 1 when there is no such complaint.
pub async fn show(bot: &Bot, reference: Reference, json: bool) -> anyhow::Result<u8> {
    let mut conn = bot.store.pool().acquire().await?;
    let Some(stored) = complaints::load(&mut conn, reference).await? else {
        eprintln!("no complaint {reference}");
        return Ok(1);
    };
    let shown = Shown {
        timeline: events::timeline(&mut conn, stored.id).await?,
        messages: messages::for_complaint(&mut conn, stored.id).await?,
        outbox: outbox::list(&mut conn, Some(stored.id), None).await?,
        flags: flags::open(&mut conn, Some(stored.id)).await?,
        complaint: stored.complaint,
    };
    if json {
        print_json(&shown)?;
        return Ok(exit::OK);
    }
    print_complaint(bot, &shown);
    Ok(exit::OK)
}

fn print_complaint(bot: &Bot, s: &Shown) {
    let c = &s.complaint;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let addr = |v: &Option<crate::domain::EmailAddress>| {
        v.as_ref().map_or("-".into(), ToString::to_string)
    };
    let when = |v: Option<jiff::Timestamp>| v.map_or("-".into(), |t| local(bot, t));
    println!(
        "{}  {}{}",
        c.reference,
        c.status,
        c.outcome.map(|o| format!(" ({o})")).unwrap_or_default()
    );
    println!("subject:        {}", c.subject);
    println!(
        "received:       {} by {} ({})",
        local(bot, c.received_at),
        c.channel,
        c.origin
    );
    println!(
        "complainant:    {} <{}> {}",
        opt(&c.complainant.name),
        addr(&c.complainant.email),
        opt(&c.complainant.phone)
    );
    println!(
        "customer type:  {}",
        c.customer_type.map_or("-".into(), |t| t.to_string())
    );
    println!(
        "assignee:       {}   department: {}   category: {}",
        addr(&c.assignee),
        opt(&c.department),
        opt(&c.category)
    );
    println!(
        "classification: {}   concerned: {}",
        c.classification,
        addr(&c.concerned)
    );
    let d = &c.deadlines;
    println!(
        "acknowledge by: {}  (done {})",
        local(bot, d.acknowledge_by),
        when(d.acknowledged_at)
    );
    println!(
        "explain by:     {}  (done {})",
        local(bot, d.explain_by),
        when(d.explained_at)
    );
    println!(
        "solve by:       {}  (done {})",
        local(bot, d.solve_by),
        when(d.solved_at)
    );
    for (label, v) in [
        ("root cause", &c.root_cause),
        ("advice", &c.advice),
        ("solution", &c.solution),
    ] {
        if let Some(v) = v {
            println!("{label}: {v}");
        }
    }
    println!("\n{}\n", c.description);
    println!("timeline:");
    for e in &s.timeline {
        println!(
            "  {}  {:<18} {:<28} {}",
            local(bot, e.at),
            e.kind,
            e.actor,
            e.detail
        );
    }
    println!("messages:");
    for m in &s.messages {
        let att = if m.attachments.is_empty() {
            String::new()
        } else {
            format!("  [{}]", m.attachments.join(", "))
        };
        println!(
            "  #{:<5} {}  {:<14} {}  {}{att}",
            m.id,
            local(bot, m.received_at),
            m.kind,
            opt(&m.from_address),
            opt(&m.subject)
        );
    }
    println!("outbox:");
    for o in &s.outbox {
        println!(
            "  #{:<5} {:<8} {:<16} {}  {}",
            o.id, o.status, o.kind, o.recipients, o.subject
        );
    }
    for f in &s.flags {
        println!("FLAG {}: {}", f.reason, f.detail);
    }
}

#[derive(Serialize)]
struct StatusReport {
    cursors: Vec<(String, cursors::Cursor)>,
    outbox_pending: i64,
    outbox_sent: i64,
    outbox_failed: i64,
    open_flags: usize,
    complaints: i64,
    messages: i64,
    workers: Vec<cursors::WorkerStatus>,
    /// Set while the register's disk is below `[database] min_free` (no mail is taken).
    low_space: Option<String>,
    instances: Vec<InstanceRow>,
    /// The id of the live instance that watches the mailbox, if any.
    watcher: Option<String>,
}

/// `klachtenbot status`.
pub async fn status(bot: &Bot, json: bool) -> anyhow::Result<u8> {
    let mut conn = bot.store.pool().acquire().await?;
    let (pending, sent, failed) = outbox::counts(&mut conn).await?;
    let instances = instance_store::list(&mut conn, bot.store.backend()).await?;
    let report = StatusReport {
        cursors: cursors::all(&mut conn).await?,
        outbox_pending: pending,
        outbox_sent: sent,
        outbox_failed: failed,
        open_flags: flags::open(&mut conn, None).await?.len(),
        complaints: complaints::count(&mut conn).await?,
        messages: messages::count(&mut conn).await?,
        workers: cursors::workers(&mut conn).await?,
        low_space: crate::space::low(&bot.settings).map(|l| l.to_string()),
        watcher: instances
            .iter()
            .find(|i| i.alive && i.role == "active")
            .map(|i| i.id.clone()),
        instances,
    };
    if json {
        print_json(&report)?;
        return Ok(exit::OK);
    }
    println!(
        "complaints: {}   messages: {}   open flags: {}",
        report.complaints, report.messages, report.open_flags
    );
    println!("outbox: {pending} pending, {sent} sent, {failed} failed");
    if let Some(low) = &report.low_space {
        println!("NOT TAKING MAIL: {low}");
    } else if let Some(dir) = crate::space::sqlite_dir(&bot.settings.database_url) {
        // Said even when all is well: a full disk cannot record its own errors below.
        if let Ok(free) = crate::space::free_bytes(&dir) {
            let floor = crate::space::human(bot.settings.database_min_free);
            println!(
                "register disk: {} free (min_free {floor})",
                crate::space::human(free)
            );
        }
    }
    for (folder, c) in &report.cursors {
        println!(
            "folder {folder}: uidvalidity {} next uid {}",
            c.uidvalidity, c.next_uid
        );
    }
    for w in &report.workers {
        let ok = w.last_ok_at.map_or("never".into(), |t| local(bot, t));
        let err = match (&w.last_error, w.last_error_at) {
            (Some(e), Some(t)) => format!("last error {}: {e}", local(bot, t)),
            _ => "no errors".into(),
        };
        println!("{}: last ok {ok}; {err}", w.worker);
    }
    print_instances(bot, &report);
    Ok(exit::OK)
}

fn print_instances(bot: &Bot, report: &StatusReport) {
    match &report.watcher {
        Some(id) => println!("mailbox watched by {id}"),
        None => println!("mailbox watched by nobody (no live active instance)"),
    }
    for i in &report.instances {
        let state = if i.alive { i.role.as_str() } else { "silent" };
        println!(
            "instance {} (host {}, pid {}): {state}, last seen {}",
            i.id,
            i.host,
            i.pid,
            local(bot, i.last_seen)
        );
    }
}
