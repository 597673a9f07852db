//! The scheduler on a hand-moved clock: complaints come in through `intake::process`, the
//! clock is set, `scheduler::tick` runs, and the outbox shows exactly which reminders and
//! digests are due at which moment, and that none goes out twice. Each behaviour runs on
//! SQLite on disk and on PostgreSQL (`<behaviour>::on_sqlite`, `::on_postgres`; see
//! `common` for the server and `KLACHTENBOT_SKIP_POSTGRES`).

mod common;

use std::process::Command;
use std::sync::Arc;

use common::{Backend, MANAGEMENT, OFFICER, TestBot, TestMail, test_toml};
use jiff::{SignedDuration, Timestamp, Zoned};
use klachtenbot::app::Bot;
use klachtenbot::clock::Clock;
use klachtenbot::config::Settings;
use klachtenbot::domain::{EmailAddress, Reference};
use klachtenbot::procedure::{self, Event};
use klachtenbot::scheduler::{self, DeadlineKind, ReminderKind};
use klachtenbot::store::complaints;
use klachtenbot::store::outbox::Outgoing;

macro_rules! on_both_backends {
    ($($name:ident with $extra:expr),* $(,)?) => {$(
        mod $name {
            use super::*;

            #[tokio::test]
            async fn on_sqlite() {
                if let Some(t) = TestBot::on(Backend::Sqlite, &$extra).await {
                    super::$name(t).await;
                }
            }

            #[tokio::test]
            async fn on_postgres() {
                if let Some(t) = TestBot::on(Backend::Postgres, &$extra).await {
                    super::$name(t).await;
                }
            }
        }
    )*};
}

on_both_backends!(
    the_explanation_is_reminded_three_working_days_before_and_escalated_on_the_day with NO_DIGEST,
    the_overdue_explanation_goes_to_management_too_when_configured with TO_MANAGEMENT,
    a_sent_explanation_drops_the_pending_explanation_reminders with NO_DIGEST,
    closing_drops_every_pending_reminder_and_reopening_brings_them_back with NO_DIGEST,
    nothing_is_sent_twice_across_a_restart_or_by_a_second_instance with NO_DIGEST,
    a_round_woken_by_a_change_plans_the_changed_complaints_and_sends_what_is_due with NO_DIGEST,
    the_assignee_is_reminded_before_the_solve_deadline_then_warned_with_the_officer_until_solved
        with SOLVE_30WD,
    an_acknowledgement_held_back_reminds_the_officer_before_its_deadline with NO_DIGEST,
    the_daily_digest_goes_out_at_eight_local_on_working_days_only_also_across_dst
        with DIGEST_ALWAYS,
    a_digest_missed_by_more_than_four_hours_is_not_sent_in_the_evening with DIGEST_ALWAYS,
    an_empty_digest_is_skipped_and_a_full_one_lists_overdue_and_flagged_mail with DIGEST_ONLY,
    management_gets_the_weekly_summary_on_monday_or_after_easter_monday with WEEKLY_ONLY,
    waiting_on_the_complainant_asks_the_officer_to_follow_up_and_pauses_the_solve_clock
        with PAUSING,
);

const ASSIGNEE: &str = "jan@concreet.test";
/// Reminders only: the digest would add mail at 08:00 on working days.
const NO_DIGEST: &str = "[digest]\ndaily = false\n";
const TO_MANAGEMENT: &str =
    "[digest]\ndaily = false\n\n[reminders]\nexplain_overdue_to_management = true\n";
const SOLVE_30WD: &str = "[digest]\ndaily = false\n\n[deadlines]\nsolve = \"30wd\"\n";
const PAUSING: &str = "[digest]\ndaily = false\n\n[deadlines]\nsolve = \"30wd\"\n\n\
    [reminders]\npause_while_waiting = true\nverdict_wait = \"5wd\"\n";
/// Digests only, also when there is nothing to say.
const DIGEST_ALWAYS: &str = "[reminders]\nenabled = false\n\n[digest]\nskip_empty = false\n";
/// Digests only.
const DIGEST_ONLY: &str = "[reminders]\nenabled = false\n";
/// The weekly summary only.
const WEEKLY_ONLY: &str = "[reminders]\nenabled = false\n\n[digest]\ndaily = false\n\
    weekly_management = true\nskip_empty = false\n";

/// A local Amsterdam time, e.g. "2026-03-11T10:00".
fn local(civil: &str) -> Timestamp {
    format!("{civil}[Europe/Amsterdam]")
        .parse::<Zoned>()
        .expect("valid local time")
        .timestamp()
}

fn show(t: Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").expect("zone"))
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

fn mail(n: u32) -> TestMail {
    TestMail::new(
        &format!("Klant {n} <klant{n}@klant.example>"),
        &format!("Klacht nummer {n}"),
        &format!("klacht-{n}@klant.example"),
    )
}

async fn at(t: &TestBot, civil: &str) -> scheduler::TickReport {
    t.clock.set(local(civil));
    scheduler::tick(&t.bot).await.expect("a scheduler round")
}

/// The outbox rows of one kind prefix (`reminder_`, `digest_`), oldest first.
async fn mails(t: &TestBot, prefix: &str) -> Vec<Outgoing> {
    t.outbox()
        .await
        .into_iter()
        .filter(|o| o.kind.starts_with(prefix))
        .collect()
}

async fn kinds(t: &TestBot) -> Vec<(String, String)> {
    mails(t, "reminder_")
        .await
        .into_iter()
        .map(|o| (o.kind, o.recipients))
        .collect()
}

/// Applies a procedure event the way a command would, and stores the result.
async fn apply(t: &TestBot, r: Reference, event: Event) {
    let stored = t.complaint(r).await;
    let now = t.clock.now();
    let (c, _) = procedure::apply(&stored.complaint, &event, now).expect("the event applies");
    let mut conn = t.bot.store.pool().acquire().await.expect("a connection");
    complaints::update(&mut conn, stored.id, &c, now)
        .await
        .expect("update the complaint");
}

fn address(a: &str) -> EmailAddress {
    EmailAddress::parse(a).expect("valid address")
}

/// A second bot on the same database, as after a restart (or a second instance).
async fn restarted(t: &TestBot) -> Bot {
    Bot::open_with_clock(t.bot.settings.as_ref().clone(), Arc::new(t.clock.clone()))
        .await
        .expect("open the bot again")
}

async fn the_explanation_is_reminded_three_working_days_before_and_escalated_on_the_day(
    t: TestBot,
) {
    let r = t.register(&mail(1)).await;
    at(&t, "2026-03-02T10:00").await;
    assert!(kinds(&t).await.is_empty());

    at(&t, "2026-03-04T10:00").await;
    assert_eq!(
        kinds(&t).await,
        [("reminder_unassigned".into(), OFFICER.into())]
    );
    let report = at(&t, "2026-03-11T09:59").await;
    assert!(report.reminders.is_empty());
    assert_eq!(
        show(report.next_due.expect("something is due")),
        "2026-03-11T10:00"
    );

    let report = at(&t, "2026-03-11T10:00").await;
    assert_eq!(report.reminders.len(), 1);
    assert_eq!(report.reminders[0].kind, ReminderKind::ExplainBefore);
    let sent = mails(&t, "reminder_explain_before").await;
    assert_eq!(sent.len(), 1);
    let m = &sent[0];
    assert_eq!(m.recipients, OFFICER);
    assert_eq!(
        m.subject,
        "[KL-2026-0001] Herinnering: nadere uitleg uiterlijk maandag 16 maart 2026 10:00 - \
         Klacht nummer 1"
    );
    assert!(
        m.message_id.starts_with(&format!("kb.{r}.")),
        "{}",
        m.message_id
    );
    assert_eq!(m.envelope_from, "", "staff notices go with the null sender");
    for needle in [
        "#uitleg",
        "#toewijzen",
        "Klant 1 <klant1@klant.example>",
        "Mijn examenpakket",
    ] {
        assert!(m.body.contains(needle), "{needle} missing in:\n{}", m.body);
    }

    at(&t, "2026-03-16T09:59").await;
    assert!(mails(&t, "reminder_explain_overdue").await.is_empty());
    at(&t, "2026-03-16T10:00").await;
    let overdue = mails(&t, "reminder_explain_overdue").await;
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].recipients, OFFICER);
    assert!(
        overdue[0]
            .subject
            .starts_with("[KL-2026-0001] Termijn verstreken")
    );
}

async fn the_overdue_explanation_goes_to_management_too_when_configured(t: TestBot) {
    let mut settings = t.bot.settings.as_ref().clone();
    settings.people.management = vec![address(MANAGEMENT)];
    let bot = Bot::open_with_clock(settings, Arc::new(t.clock.clone()))
        .await
        .expect("open the bot");
    t.register(&mail(1)).await;
    t.clock.set(local("2026-03-16T10:00"));
    scheduler::tick(&bot).await.expect("a round");
    let overdue = mails(&t, "reminder_explain_overdue").await;
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].recipients, format!("{OFFICER},{MANAGEMENT}"));
}

async fn a_sent_explanation_drops_the_pending_explanation_reminders(t: TestBot) {
    let r = t.register(&mail(1)).await;
    at(&t, "2026-03-02T10:00").await;
    t.clock.set(local("2026-03-05T09:00"));
    apply(
        &t,
        r,
        Event::ExplanationSent(Some("Wij zoeken het uit.".into())),
    )
    .await;
    at(&t, "2026-03-05T09:00").await;
    at(&t, "2026-03-11T10:00").await;
    at(&t, "2026-03-16T10:00").await;
    let sent: Vec<_> = kinds(&t).await.into_iter().map(|(k, _)| k).collect();
    assert_eq!(sent, ["reminder_unassigned"]);

    let id = t.complaint(r).await.id;
    let mut conn = t.bot.store.pool().acquire().await.expect("a connection");
    let rows = scheduler::store::reminders_of(&mut conn, id)
        .await
        .expect("reminders");
    let explain: Vec<_> = rows
        .iter()
        .filter(|r| r.kind.starts_with("explain"))
        .collect();
    assert_eq!(explain.len(), 2, "{rows:?}");
    assert!(
        explain
            .iter()
            .all(|r| r.dropped_at.is_some() && r.sent_at.is_none())
    );
}

async fn closing_drops_every_pending_reminder_and_reopening_brings_them_back(t: TestBot) {
    let r = t.register(&mail(1)).await;
    at(&t, "2026-03-02T10:00").await;
    let id = t.complaint(r).await.id;
    let pending = || async {
        let mut conn = t.bot.store.pool().acquire().await.expect("a connection");
        scheduler::store::reminders_of(&mut conn, id)
            .await
            .expect("reminders")
            .into_iter()
            .filter(scheduler::store::Reminder::pending)
            .count()
    };
    assert!(
        pending().await >= 3,
        "unassigned, explain before and overdue, solve"
    );
    t.clock.set(local("2026-03-03T09:00"));
    apply(&t, r, Event::Withdrawn).await;
    at(&t, "2026-03-03T09:00").await;
    assert_eq!(pending().await, 0);
    at(&t, "2026-03-04T10:00").await;
    assert!(kinds(&t).await.is_empty());

    t.clock.set(local("2026-03-05T09:00"));
    apply(&t, r, Event::Reopened).await;
    at(&t, "2026-03-05T09:00").await;
    at(&t, "2026-03-11T10:00").await;
    let sent: Vec<_> = kinds(&t).await.into_iter().map(|(k, _)| k).collect();
    // The unassigned notice of 4 March, dropped while closed, goes out on reopening (it is
    // still current); then the explanation reminder on its day.
    assert_eq!(sent, ["reminder_unassigned", "reminder_explain_before"]);
}

async fn a_round_woken_by_a_change_plans_the_changed_complaints_and_sends_what_is_due(t: TestBot) {
    let first = t.register(&mail(1)).await;
    at(&t, "2026-03-02T10:00").await;
    t.clock.set(local("2026-03-04T10:00"));
    let second = t.register(&mail(2)).await;
    let report = scheduler::tick_changed_since(&t.bot, local("2026-03-04T09:59"))
        .await
        .expect("a round");
    // The first complaint did not change, but its unassigned notice is due now.
    let sent: Vec<_> = report
        .reminders
        .iter()
        .map(|r| (r.reference, r.kind))
        .collect();
    assert_eq!(sent, [(first, ReminderKind::Unassigned)]);
    let id = t.complaint(second).await.id;
    let mut conn = t.bot.store.pool().acquire().await.expect("a connection");
    let planned = scheduler::store::reminders_of(&mut conn, id)
        .await
        .expect("reminders");
    assert!(
        planned.iter().any(|r| r.kind == "explain_before"),
        "the new complaint was planned: {planned:?}"
    );
}

async fn nothing_is_sent_twice_across_a_restart_or_by_a_second_instance(t: TestBot) {
    t.register(&mail(1)).await;
    t.register(&mail(2)).await;
    at(&t, "2026-03-04T10:00").await;
    at(&t, "2026-03-11T10:00").await;
    let first = kinds(&t).await;
    // Unassigned and explain_before, for each of the two complaints.
    assert_eq!(first.len(), 4, "{first:?}");

    let again = restarted(&t).await;
    let report = scheduler::tick(&again)
        .await
        .expect("a round after the restart");
    assert!(report.reminders.is_empty());
    assert_eq!(kinds(&t).await, first);

    // Two instances at the same moment: every reminder still goes out once.
    t.clock.set(local("2026-03-16T10:00"));
    let other = restarted(&t).await;
    let (a, b) = tokio::join!(scheduler::tick(&t.bot), scheduler::tick(&other));
    let queued = a.expect("round a").reminders.len() + b.expect("round b").reminders.len();
    assert_eq!(queued, 2);
    assert_eq!(mails(&t, "reminder_explain_overdue").await.len(), 2);
}

async fn the_assignee_is_reminded_before_the_solve_deadline_then_warned_with_the_officer_until_solved(
    t: TestBot,
) {
    let r = t.register(&mail(1)).await;
    t.clock.set(local("2026-03-03T09:00"));
    apply(&t, r, Event::Assigned(address(ASSIGNEE))).await;
    // 30 working days from 2 March, Easter Monday skipped: 14 April 10:00.
    assert_eq!(
        show(t.complaint(r).await.complaint.deadlines.solve_by),
        "2026-04-14T10:00"
    );

    at(&t, "2026-04-07T09:59").await;
    assert!(kinds(&t).await.is_empty());
    at(&t, "2026-04-07T10:00").await;
    assert_eq!(
        kinds(&t).await,
        [("reminder_solve_before".into(), ASSIGNEE.into())]
    );
    let before = &mails(&t, "reminder_solve_before").await[0];
    assert!(before.body.contains("#oplossing") && before.body.contains("#termijn"));

    at(&t, "2026-04-14T10:00").await;
    at(&t, "2026-04-20T10:00").await;
    // Five working days after 14 April.
    at(&t, "2026-04-21T10:00").await;
    let overdue = mails(&t, "reminder_solve_overdue").await;
    let who: Vec<_> = overdue.iter().map(|o| o.recipients.as_str()).collect();
    assert_eq!(
        who,
        [
            format!("{ASSIGNEE},{OFFICER}"),
            format!("{ASSIGNEE},{OFFICER}")
        ]
    );
    assert!(
        overdue[1].subject.contains("(2e melding)"),
        "{}",
        overdue[1].subject
    );

    // A proposal stops the warnings; a new deadline would restart them.
    t.clock.set(local("2026-04-22T09:00"));
    apply(&t, r, Event::SolutionProposed("Een nieuw pakket.".into())).await;
    at(&t, "2026-04-29T10:00").await;
    assert_eq!(mails(&t, "reminder_solve_overdue").await.len(), 2);
}

async fn an_acknowledgement_held_back_reminds_the_officer_before_its_deadline(t: TestBot) {
    // The fourth complaint from one address within 24 hours gets no acknowledgement.
    let from = "Klaas <klaas@klant.example>";
    let mut refs = Vec::new();
    for n in 1..=4 {
        let m = TestMail::new(
            from,
            &format!("Klacht {n}"),
            &format!("k-{n}@klant.example"),
        );
        refs.push(t.register(&m).await);
    }
    assert!(
        t.complaint(refs[3])
            .await
            .complaint
            .deadlines
            .acknowledged_at
            .is_none()
    );
    at(&t, "2026-03-05T09:59").await;
    assert!(mails(&t, "reminder_acknowledge_before").await.is_empty());
    at(&t, "2026-03-05T10:00").await;
    let ack = mails(&t, "reminder_acknowledge_before").await;
    assert_eq!(ack.len(), 1);
    assert!(
        ack[0]
            .subject
            .starts_with(&format!("[{}] Herinnering: ontvangstbevestiging", refs[3]))
    );
}

async fn waiting_on_the_complainant_asks_the_officer_to_follow_up_and_pauses_the_solve_clock(
    t: TestBot,
) {
    let r = t.register(&mail(1)).await;
    t.clock.set(local("2026-03-03T09:00"));
    apply(&t, r, Event::Assigned(address(ASSIGNEE))).await;
    t.clock.set(local("2026-03-20T11:00"));
    apply(&t, r, Event::SolutionProposed("Een nieuw pakket.".into())).await;
    at(&t, "2026-03-20T11:00:20").await;

    at(&t, "2026-03-27T10:59").await;
    assert!(mails(&t, "reminder_verdict_pending").await.is_empty());
    at(&t, "2026-03-27T11:00").await;
    let follow_up = mails(&t, "reminder_verdict_pending").await;
    assert_eq!(follow_up.len(), 1);
    assert_eq!(follow_up[0].recipients, OFFICER);
    assert!(follow_up[0].body.contains("#akkoord") && follow_up[0].body.contains("#nietakkoord"));

    // Rejected on Wednesday 1 April 11:00: waited 8 working days; the solve deadline moves
    // from 14 April to 24 April (King's Day is a Monday in 2026, not in between).
    t.clock.set(local("2026-04-01T11:00"));
    apply(&t, r, Event::VerdictRejected).await;
    at(&t, "2026-04-01T11:00:30").await;
    let deadlines = scheduler::open_deadlines(&t.bot).await.expect("deadlines");
    let solve = deadlines[0]
        .1
        .iter()
        .find(|p| p.kind == DeadlineKind::Solve)
        .expect("a solve deadline");
    assert_eq!(show(solve.due), "2026-04-24T10:00");
    at(&t, "2026-04-14T10:00").await;
    assert!(mails(&t, "reminder_solve_overdue").await.is_empty());
    at(&t, "2026-04-24T10:00").await;
    assert_eq!(mails(&t, "reminder_solve_overdue").await.len(), 1);
}

async fn the_daily_digest_goes_out_at_eight_local_on_working_days_only_also_across_dst(t: TestBot) {
    t.clock.set(local("2026-03-26T15:00"));
    t.register(&mail(1)).await;
    // Every half hour from Thursday 26 March 16:00 to Tuesday 31 March 16:00, across the
    // Sunday the clocks go forward.
    let mut sent_at = Vec::new();
    let mut now = local("2026-03-26T16:00");
    while now <= local("2026-03-31T16:00") {
        t.clock.set(now);
        let report = scheduler::tick(&t.bot).await.expect("a round");
        for key in report.digests {
            sent_at.push((key, now.to_string()));
        }
        now = now
            .checked_add(SignedDuration::from_mins(30))
            .expect("in range");
    }
    assert_eq!(
        sent_at,
        [
            (
                "daily:2026-03-27".to_string(),
                "2026-03-27T07:00:00Z".to_string()
            ),
            (
                "daily:2026-03-30".to_string(),
                "2026-03-30T06:00:00Z".to_string()
            ),
            (
                "daily:2026-03-31".to_string(),
                "2026-03-31T06:00:00Z".to_string()
            ),
        ]
    );
    let digests = mails(&t, "digest_daily").await;
    assert_eq!(digests.len(), 3);
    assert!(digests.iter().all(|d| d.recipients == OFFICER));
    let first = &digests[0];
    assert!(
        first
            .subject
            .starts_with("[klachtenbot] Dagoverzicht vrijdag 27 maart 2026"),
        "{}",
        first.subject
    );
    assert!(
        first.body.contains("KL-2026-0001  Klacht nummer 1"),
        "{}",
        first.body
    );
    assert!(first.body.contains("Deze week te doen"), "{}", first.body);

    // A restart sends no digest twice.
    let again = restarted(&t).await;
    t.clock.set(local("2026-03-31T09:00"));
    assert!(
        scheduler::tick(&again)
            .await
            .expect("a round")
            .digests
            .is_empty()
    );
}

async fn a_digest_missed_by_more_than_four_hours_is_not_sent_in_the_evening(t: TestBot) {
    t.register(&mail(1)).await;
    assert!(at(&t, "2026-03-03T12:01").await.digests.is_empty());
    assert!(at(&t, "2026-03-03T21:00").await.digests.is_empty());
    assert_eq!(
        at(&t, "2026-03-04T08:00").await.digests,
        ["daily:2026-03-04"]
    );
}

async fn an_empty_digest_is_skipped_and_a_full_one_lists_overdue_and_flagged_mail(t: TestBot) {
    assert!(at(&t, "2026-03-03T08:00").await.digests.is_empty());
    assert!(mails(&t, "digest_").await.is_empty());

    t.clock.set(local("2026-03-03T09:00"));
    t.register(&mail(1)).await;
    t.process(b"garbage that is no mail at all").await;
    // Later the same day the skipped digest is not reconsidered.
    assert!(at(&t, "2026-03-03T10:00").await.digests.is_empty());

    let report = at(&t, "2026-03-18T08:00").await;
    assert_eq!(report.digests, ["daily:2026-03-18"]);
    let body = &mails(&t, "digest_daily").await[0].body;
    assert!(body.contains("Termijn verstreken (1):"), "{body}");
    assert!(
        body.contains("KL-2026-0001  nadere uitleg sinds dinsdag 17 maart 2026 09:00"),
        "{body}"
    );
    assert!(
        body.contains("Gemarkeerde en in quarantaine gezette mail (1):"),
        "{body}"
    );
    // The unreadable mail did not become a complaint: listed with its reason.
    assert!(
        body.contains("Niet als klacht geregistreerde mail sinds"),
        "{body}"
    );
    assert!(
        body.contains("[flagged: no usable sender address (From: (none))]"),
        "{body}"
    );
}

async fn management_gets_the_weekly_summary_on_monday_or_after_easter_monday(t: TestBot) {
    let mut settings = t.bot.settings.as_ref().clone();
    settings.people.management = vec![address(MANAGEMENT)];
    let bot = Bot::open_with_clock(settings, Arc::new(t.clock.clone()))
        .await
        .expect("open the bot");
    let mut sent = Vec::new();
    for day in [
        "2026-03-30",
        "2026-03-31",
        "2026-04-06",
        "2026-04-07",
        "2026-04-08",
    ] {
        t.clock.set(local(&format!("{day}T08:00")));
        sent.extend(scheduler::tick(&bot).await.expect("a round").digests);
    }
    assert_eq!(sent, ["weekly:2026-W14", "weekly:2026-W15"]);
    let weekly = mails(&t, "digest_weekly").await;
    assert_eq!(weekly[1].recipients, MANAGEMENT);
    assert!(
        weekly[1].subject.contains("dinsdag 7 april 2026"),
        "{}",
        weekly[1].subject
    );
}

#[tokio::test]
async fn reminder_and_digest_settings_parse_and_bad_values_are_reported_with_their_key() {
    let good = "[reminders]\nexplain_before = \"10s\"\noverdue_repeat = \"2wd\"\n\
                [digest]\ntime = \"07:30\"\nweekly_day = \"vrijdag\"\n";
    let s = Settings::from_toml(good, std::path::Path::new(".")).expect("valid settings");
    assert_eq!(s.digest.time, jiff::civil::Time::constant(7, 30, 0, 0));
    assert_eq!(s.digest.weekly_day, jiff::civil::Weekday::Friday);
    assert!(s.reminders.enabled && s.digest.daily && s.digest.skip_empty);

    let bad = "[reminders]\nexplain_before = \"soon\"\noverdue_repeat = \"0wd\"\nloud = true\n";
    let problems = Settings::from_toml(bad, std::path::Path::new(".")).expect_err("invalid");
    assert!(problems.iter().any(|p| p.key == "(syntax)"), "{problems:?}");
    let bad = "[reminders]\nexplain_before = \"soon\"\noverdue_repeat = \"0wd\"\n\
               [digest]\ntime = \"8 uur\"\nweekly_day = \"someday\"\n";
    let problems = Settings::from_toml(bad, std::path::Path::new(".")).expect_err("invalid");
    let keys: Vec<_> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "reminders.explain_before",
            "reminders.overdue_repeat",
            "digest.time",
            "digest.weekly_day"
        ]
    );
}

#[tokio::test]
async fn list_overdue_and_due_within_show_the_deadlines_that_matter_now() {
    // The binary runs on the real clock: register relative to it.
    let t = TestBot::sqlite(NO_DIGEST).await;
    let now = Timestamp::now();
    t.clock.set(
        now.checked_sub(SignedDuration::from_hours(20 * 24))
            .expect("in range"),
    );
    let late = t.register(&mail(1)).await;
    t.clock.set(now);
    let fresh = t.register(&mail(2)).await;

    let dir = tempfile::tempdir().expect("a temporary folder");
    let config = dir.path().join("klachtenbot.toml");
    std::fs::write(&config, test_toml(&t.bot.settings.database_url, NO_DIGEST)).expect("write");
    let list = |args: &[&str]| -> serde_json::Value {
        let out = Command::new(env!("CARGO_BIN_EXE_klachtenbot"))
            .arg("--config")
            .arg(&config)
            .arg("list")
            .args(args)
            .arg("--json")
            .env_remove("KLACHTENBOT_CONFIG")
            .output()
            .expect("run klachtenbot");
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    let refs = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .expect("an array")
            .iter()
            .map(|c| c["reference"].as_str().expect("a reference").to_string())
            .collect()
    };
    let overdue = list(&["--overdue"]);
    assert_eq!(refs(&overdue), [late.to_string()]);
    assert_eq!(overdue[0]["deadlines"][0]["overdue"], true);
    let kinds: Vec<_> = overdue[0]["deadlines"]
        .as_array()
        .expect("deadlines")
        .iter()
        .map(|d| d["kind"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(kinds, ["explain"]);
    // The fresh one is due within 15 days (explanation at 14 days), not within 7.
    assert!(refs(&list(&["--due-within", "7d"])).is_empty());
    assert_eq!(refs(&list(&["--due-within", "15d"])), [fresh.to_string()]);
    assert_eq!(
        refs(&list(&["--due-within", "15d", "--overdue"])),
        [late.to_string(), fresh.to_string()]
    );
}
