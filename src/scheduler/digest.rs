//! The daily digest to the officers and the weekly summary to management.
//!
//! A digest belongs to a *slot*: the configured local time on a working day, computed in the
//! organisation's time zone by [`WorkingCalendar::next_working_day_at`], so it stays at 08:00
//! across DST changes and never falls on a weekend or holiday. A slot is sent at most once
//! (its period key is claimed in the `digests` table in the transaction that queues the
//! mail), and only within [`LATE`] of its time: a bot started in the evening does not send
//! the morning's digest at night.

use jiff::civil::Time;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::local_time;
use super::plan::{DeadlineKind, Policy, before, pending_deadlines};
use super::store::{self, Tracked};
use crate::app::Bot;
use crate::calendar::{DeadlineSpan, WorkingCalendar};
use crate::domain::{Complaint, EmailAddress, FlagKind, Status};
use crate::outbound::queue::{self, Outgoing};
use crate::store::complaints::{self, ListFilter};
use crate::store::flags;

/// How late a digest may still go out after its time (the bot was stopped at 08:00 and
/// started at 10:00: still useful; started at 20:00: not sent, the next working day's is).
pub const LATE: SignedDuration = SignedDuration::from_hours(4);

/// "Due this week": deadlines within this many working days from now.
const SOON_WORKING_DAYS: u32 = 5;

/// The slot whose digest may be sent at `now`: the latest slot at or before `now`, if it is
/// at most [`LATE`] old.
pub fn due_slot(cal: &WorkingCalendar, now: Timestamp, time: Time) -> Option<Timestamp> {
    let from = now.checked_sub(LATE).unwrap_or(Timestamp::MIN);
    let slot = cal.next_working_day_at(from, time);
    (slot <= now).then_some(slot)
}

/// The first slot after `now`.
pub fn next_slot(cal: &WorkingCalendar, now: Timestamp, time: Time) -> Timestamp {
    let after = now
        .checked_add(SignedDuration::from_nanos(1))
        .unwrap_or(Timestamp::MAX);
    cal.next_working_day_at(after, time)
}

/// The period key of a daily digest: `daily:2026-03-02` (local date).
pub fn daily_key(cal: &WorkingCalendar, slot: Timestamp) -> String {
    format!("daily:{}", cal.time_zone().to_datetime(slot).date())
}

/// The period key of a weekly summary: `weekly:2026-W10` (ISO week of the local date).
pub fn weekly_key(cal: &WorkingCalendar, slot: Timestamp) -> String {
    let week = cal.time_zone().to_datetime(slot).date().iso_week_date();
    format!("weekly:{}-W{:02}", week.year(), week.week())
}

/// Whether the weekly summary belongs to this slot: on the configured day, or the first
/// working day after it in the same week when that day is a holiday.
fn weekly_slot(cal: &WorkingCalendar, slot: Timestamp, day: jiff::civil::Weekday) -> bool {
    let date = cal.time_zone().to_datetime(slot).date();
    date.weekday().to_monday_zero_offset() >= day.to_monday_zero_offset()
}

/// When the next digest is due after `now`; none when every digest is off.
pub(super) fn next_at(bot: &Bot, now: Timestamp) -> Option<Timestamp> {
    let d = &bot.settings.digest;
    (d.daily || d.weekly_management).then(|| next_slot(&bot.calendar, now, d.time))
}

/// Sends (or records as skipped) the digests of the slot due at `now`; returns the period
/// keys of the digests queued.
pub(super) async fn run_due(bot: &Bot, now: Timestamp) -> anyhow::Result<Vec<String>> {
    let d = &bot.settings.digest;
    let Some(slot) = due_slot(&bot.calendar, now, d.time) else {
        return Ok(Vec::new());
    };
    let mut queued = Vec::new();
    if d.daily {
        let key = daily_key(&bot.calendar, slot);
        if send(bot, Kind::Daily, &key, slot, now).await? {
            queued.push(key);
        }
    }
    if d.weekly_management && weekly_slot(&bot.calendar, slot, d.weekly_day) {
        let key = weekly_key(&bot.calendar, slot);
        if send(bot, Kind::Weekly, &key, slot, now).await? {
            queued.push(key);
        }
    }
    if !queued.is_empty() {
        bot.outbox_ready.notify_one();
    }
    Ok(queued)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Daily,
    Weekly,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Daily => "daily",
            Kind::Weekly => "weekly",
        }
    }
}

async fn send(
    bot: &Bot,
    kind: Kind,
    key: &str,
    slot: Timestamp,
    now: Timestamp,
) -> anyhow::Result<bool> {
    let mut conn = bot.store.pool().acquire().await?;
    if store::digest_done(&mut conn, key).await? {
        return Ok(false);
    }
    let since = match store::last_digest_at(&mut conn, kind.as_str()).await? {
        Some(at) => at,
        None if kind == Kind::Daily => before(&bot.calendar, slot, &DeadlineSpan::WorkingDays(1)),
        None => slot
            .checked_sub(SignedDuration::from_hours(7 * 24))
            .unwrap_or(Timestamp::MIN),
    };
    let content = gather(bot, &mut conn, since, now).await?;
    drop(conn);
    let people = &bot.settings.people;
    let (to, template): (&[EmailAddress], _) = match kind {
        Kind::Daily => (&people.officers, "digest_daily"),
        Kind::Weekly => (&people.management, "digest_weekly"),
    };
    let items = content.items(kind);
    let mut tx = bot.store.begin().await?;
    if !store::claim_digest(&mut tx, kind.as_str(), key, now, items).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    if to.is_empty() || (items == 0 && bot.settings.digest.skip_empty) {
        // Recorded as done without a mail, so it is not looked at again.
        tx.commit().await?;
        tracing::info!(period = key, items, "digest skipped");
        return Ok(false);
    }
    let mut context = tera::Context::from_serialize(&content)?;
    context.insert("date", &bot.renderer.date(slot));
    context.insert("since", &local_time(bot, since));
    let mail = Outgoing {
        complaint: None,
        kind: template,
        context,
        to: to.to_vec(),
        in_reply_to: None,
        references: Vec::new(),
        auto_reply: false,
        null_sender: true,
    };
    let (outbox_id, _) = queue::enqueue(bot, &mut tx, mail, now).await?;
    store::set_digest_outbox(&mut tx, key, outbox_id).await?;
    tx.commit().await?;
    tracing::info!(period = key, items, "digest queued");
    Ok(true)
}

/// One complaint line of a digest.
#[derive(Debug, Clone, Serialize)]
struct Row {
    reference: String,
    subject: String,
    who: String,
    status: &'static str,
    assignee: Option<String>,
    /// The deadline concerned (`explain`, `solve`, ...), if the section is about one.
    deadline: Option<&'static str>,
    /// When (the deadline, the start of the wait, the receipt), local time.
    when: String,
}

/// One flag line of a digest.
#[derive(Debug, Clone, Serialize)]
struct FlagRow {
    reference: Option<String>,
    reason: String,
    detail: String,
    when: String,
}

/// One mail of the period that did not become a complaint.
#[derive(Debug, Clone, Serialize)]
struct UnregisteredRow {
    from: String,
    subject: String,
    reason: String,
    when: String,
}

/// Everything a digest can say.
#[derive(Debug, Clone, Serialize)]
struct Content {
    new: Vec<Row>,
    due_soon: Vec<Row>,
    overdue: Vec<Row>,
    waiting: Vec<Row>,
    refused: Vec<FlagRow>,
    flagged: Vec<FlagRow>,
    /// Mail of the period that was not registered (automated, loops, flagged), so the
    /// officer can catch a misjudged one and forward it to register it.
    unregistered: Vec<UnregisteredRow>,
    open_count: usize,
    closed_count: usize,
}

impl Content {
    fn items(&self, kind: Kind) -> usize {
        match kind {
            Kind::Daily => {
                self.new.len()
                    + self.due_soon.len()
                    + self.overdue.len()
                    + self.waiting.len()
                    + self.refused.len()
                    + self.flagged.len()
                    + self.unregistered.len()
            }
            Kind::Weekly => self.new.len() + self.overdue.len() + self.closed_count,
        }
    }
}

async fn gather(
    bot: &Bot,
    conn: &mut sqlx::AnyConnection,
    since: Timestamp,
    now: Timestamp,
) -> anyhow::Result<Content> {
    let policy = Policy::from_settings(&bot.settings);
    let cal = &bot.calendar;
    let open = store::open_complaints(conn).await?;
    let all = complaints::list(conn, ListFilter::default()).await?;
    let in_period = |t: Option<Timestamp>| t.is_some_and(|t| t > since && t <= now);
    let new = all
        .iter()
        .filter(|s| in_period(Some(s.complaint.received_at)))
        .map(|s| row(bot, &s.complaint, None, s.complaint.received_at))
        .collect();
    let closed_count = all
        .iter()
        .filter(|s| in_period(s.complaint.closed_at))
        .count();
    let soon = cal.add_working_days(now, SOON_WORKING_DAYS);
    let (mut overdue, mut due_soon) = (Vec::new(), Vec::new());
    for t in &open {
        let c = &t.stored.complaint;
        for p in pending_deadlines(c, &t.waiting(), &policy, cal) {
            if p.due < now {
                overdue.push((p.due, row(bot, c, Some(p.kind), p.due)));
            } else if p.due <= soon {
                due_soon.push((p.due, row(bot, c, Some(p.kind), p.due)));
            }
        }
    }
    overdue.sort_by_key(|(due, _)| *due);
    due_soon.sort_by_key(|(due, _)| *due);
    let waiting = open.iter().filter_map(|t| waiting_row(bot, t)).collect();
    let (refused, flagged): (Vec<_>, Vec<_>) = flags::open(conn, None)
        .await?
        .into_iter()
        .partition(|f| FlagKind::parse(&f.reason) == Ok(FlagKind::CommandRefused));
    let flag_row = |f: flags::Flag| FlagRow {
        when: local_time(bot, f.created_at),
        reference: f.reference,
        reason: f.reason,
        detail: f.detail,
    };
    Ok(Content {
        new,
        due_soon: due_soon.into_iter().map(|(_, r)| r).collect(),
        overdue: overdue.into_iter().map(|(_, r)| r).collect(),
        waiting,
        refused: refused
            .into_iter()
            .filter(|f| in_period(Some(f.created_at)))
            .map(flag_row)
            .collect(),
        flagged: flagged.into_iter().map(flag_row).collect(),
        unregistered: unregistered_rows(bot, conn, since, now).await?,
        open_count: open.len(),
        closed_count,
    })
}

async fn unregistered_rows(
    bot: &Bot,
    conn: &mut sqlx::AnyConnection,
    since: Timestamp,
    now: Timestamp,
) -> anyhow::Result<Vec<UnregisteredRow>> {
    let rows = crate::store::unregistered::since(conn, since, now).await?;
    Ok(rows
        .into_iter()
        .map(|u| UnregisteredRow {
            from: u.from_address.unwrap_or_else(|| "-".into()),
            subject: u.subject.unwrap_or_default(),
            reason: u.reason,
            when: local_time(bot, u.received_at),
        })
        .collect())
}

fn waiting_row(bot: &Bot, t: &Tracked) -> Option<Row> {
    let c = &t.stored.complaint;
    if c.status != Status::AwaitingVerdict {
        return None;
    }
    let since = t.waiting().since.unwrap_or(t.updated_at);
    Some(row(bot, c, None, since))
}

fn row(bot: &Bot, c: &Complaint, deadline: Option<DeadlineKind>, when: Timestamp) -> Row {
    let who = c
        .complainant
        .email
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| c.complainant.name.clone())
        .or_else(|| c.complainant.phone.clone())
        .unwrap_or_else(|| "-".into());
    Row {
        reference: c.reference.to_string(),
        subject: c.subject.clone(),
        who,
        status: c.status.as_str(),
        assignee: c.assignee.as_ref().map(ToString::to_string),
        deadline: deadline.map(DeadlineKind::as_str),
        when: local_time(bot, when),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{DEFAULT_TIME_ZONE, HolidayRules};
    use jiff::Zoned;

    fn cal() -> WorkingCalendar {
        WorkingCalendar::for_zone(DEFAULT_TIME_ZONE, HolidayRules::default()).expect("zone")
    }

    fn local(civil: &str) -> Timestamp {
        format!("{civil}[Europe/Amsterdam]")
            .parse::<Zoned>()
            .expect("valid local time")
            .timestamp()
    }

    const EIGHT: Time = Time::constant(8, 0, 0, 0);

    #[test]
    fn a_slot_is_due_from_its_time_for_four_hours_on_working_days_only() {
        let cal = cal();
        assert_eq!(due_slot(&cal, local("2026-03-02T07:59"), EIGHT), None);
        assert_eq!(
            due_slot(&cal, local("2026-03-02T08:00"), EIGHT),
            Some(local("2026-03-02T08:00"))
        );
        assert_eq!(
            due_slot(&cal, local("2026-03-02T11:59"), EIGHT),
            Some(local("2026-03-02T08:00"))
        );
        assert_eq!(due_slot(&cal, local("2026-03-02T12:01"), EIGHT), None);
        // Saturday and King's Day (Monday 27 April 2026) have no slot.
        assert_eq!(due_slot(&cal, local("2026-03-07T09:00"), EIGHT), None);
        assert_eq!(due_slot(&cal, local("2026-04-27T09:00"), EIGHT), None);
    }

    #[test]
    fn the_next_slot_after_friday_is_monday_and_stays_at_eight_across_dst() {
        let cal = cal();
        let next = next_slot(&cal, local("2026-03-27T08:00"), EIGHT);
        assert_eq!(next, local("2026-03-30T08:00"));
        assert_eq!(next, "2026-03-30T06:00Z".parse::<Timestamp>().unwrap());
    }

    #[test]
    fn period_keys_are_the_local_date_and_the_iso_week() {
        let cal = cal();
        // 00:30 local on Tuesday is still Monday in UTC: the key is the local date.
        let t = local("2026-03-03T00:30");
        assert_eq!(daily_key(&cal, t), "daily:2026-03-03");
        assert_eq!(weekly_key(&cal, t), "weekly:2026-W10");
        assert_eq!(
            weekly_key(&cal, local("2027-01-01T08:00")),
            "weekly:2026-W53"
        );
    }

    #[test]
    fn the_weekly_summary_moves_to_the_next_working_day_after_a_holiday() {
        let cal = cal();
        let monday = jiff::civil::Weekday::Monday;
        // Easter Monday 6 April 2026: the Tuesday slot carries the weekly summary.
        assert!(weekly_slot(&cal, local("2026-04-07T08:00"), monday));
        let friday = jiff::civil::Weekday::Friday;
        assert!(!weekly_slot(&cal, local("2026-04-07T08:00"), friday));
    }

    #[test]
    fn both_digests_render_in_both_languages_with_every_section() {
        use crate::config::Language;
        use crate::outbound::render::Renderer;
        let row = Row {
            reference: "KL-2026-0042".into(),
            subject: "Examen kwijt".into(),
            who: "klaas@klant.example".into(),
            status: "in_progress",
            assignee: Some("jan@concreet.test".into()),
            deadline: Some("explain"),
            when: "maandag 16 maart 2026 10:00".into(),
        };
        let flag = FlagRow {
            reference: None,
            reason: "quarantined".into(),
            detail: "too large".into(),
            when: "maandag 16 maart 2026 09:00".into(),
        };
        let content = Content {
            new: vec![row.clone()],
            due_soon: Vec::new(),
            overdue: vec![row.clone()],
            waiting: vec![row],
            refused: Vec::new(),
            flagged: vec![flag],
            unregistered: vec![UnregisteredRow {
                from: "mailer-daemon@mx.example".into(),
                subject: "Onbestelbaar: x".into(),
                reason: "suppressed: bounce".into(),
                when: "maandag 16 maart 2026 10:00".into(),
            }],
            open_count: 3,
            closed_count: 1,
        };
        let tz = jiff::tz::TimeZone::get("Europe/Amsterdam").expect("zone");
        for language in [Language::Nl, Language::En] {
            let renderer = Renderer::new(language, tz.clone(), None).expect("templates");
            let mut ctx = tera::Context::from_serialize(&content).expect("context");
            ctx.insert("date", "dinsdag 17 maart 2026");
            ctx.insert("since", "maandag 16 maart 2026 08:00");
            ctx.insert("organisation", "Concreet");
            for name in ["digest_daily", "digest_weekly"] {
                let m = renderer.render(name, &ctx).expect("renders");
                assert!(m.subject.starts_with("[klachtenbot] "), "{}", m.subject);
                assert!(m.subject.contains("dinsdag 17 maart 2026"), "{}", m.subject);
                assert!(m.body.contains("KL-2026-0042"), "{}", m.body);
                assert!(!m.body.contains("{{"), "{}", m.body);
            }
        }
    }
}
