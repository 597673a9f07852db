//! Tests of the working-day arithmetic, in Europe/Amsterdam with the default holiday rules
//! unless a test says otherwise. Instants are written in local time with the zone name, and
//! in UTC where the point is that the offset changed.

use std::time::Duration;

use jiff::{
    Timestamp, Zoned,
    civil::{Time, date, time},
};
use proptest::prelude::*;

use super::*;

fn amsterdam() -> WorkingCalendar {
    WorkingCalendar::for_zone(DEFAULT_TIME_ZONE, HolidayRules::default()).expect("bundled zone")
}

/// An instant from local Amsterdam time, e.g. "2026-03-27T09:00".
fn local(civil: &str) -> Timestamp {
    format!("{civil}[Europe/Amsterdam]")
        .parse::<Zoned>()
        .expect("valid local time")
        .timestamp()
}

fn utc(instant: &str) -> Timestamp {
    instant.parse().expect("valid UTC instant")
}

const EIGHT: Time = time(8, 0, 0, 0);

#[test]
fn an_unknown_time_zone_is_a_config_error() {
    let err = WorkingCalendar::for_zone("Europe/Amsterdm", HolidayRules::default());
    assert!(
        matches!(err, Err(CalendarError::UnknownTimeZone { name, .. }) if name == "Europe/Amsterdm")
    );
}

#[test]
fn weekends_and_holidays_are_not_working_days() {
    let cal = amsterdam();
    assert!(cal.is_working_day(date(2026, 4, 28)), "an ordinary Tuesday");
    assert!(!cal.is_working_day(date(2026, 5, 2)), "Saturday");
    assert!(!cal.is_working_day(date(2026, 5, 3)), "Sunday");
    assert!(
        !cal.is_working_day(date(2026, 4, 27)),
        "Koningsdag on a Monday"
    );
    assert!(!cal.is_working_day(date(2026, 12, 25)), "Eerste Kerstdag");
    assert!(cal.is_working_day(date(2026, 5, 5)), "no lustrum in 2026");
    assert!(!cal.is_working_day(date(2025, 5, 5)), "lustrum 2025");
}

#[test]
fn good_friday_is_a_working_day_unless_configured() {
    let good_friday = date(2026, 4, 3);
    assert!(amsterdam().is_working_day(good_friday));
    let rules = HolidayRules {
        good_friday: true,
        ..HolidayRules::default()
    };
    let cal = WorkingCalendar::for_zone(DEFAULT_TIME_ZONE, rules).expect("bundled zone");
    assert!(!cal.is_working_day(good_friday));
    assert_eq!(cal.rules(), &rules);
}

#[test]
fn a_deadline_across_a_weekend_keeps_the_clock_time() {
    let cal = amsterdam();
    let friday = local("2026-06-12T14:10");
    assert_eq!(cal.add_working_days(friday, 1), local("2026-06-15T14:10"));
    assert_eq!(cal.add_working_days(friday, 5), local("2026-06-19T14:10"));
}

#[test]
fn a_complaint_received_on_saturday_is_due_at_the_end_of_the_fifth_working_day() {
    let cal = amsterdam();
    let saturday = local("2026-06-06T11:00");
    // Counting starts Monday 8 June 00:00; five full working days end Friday 12 June,
    // stored as the start of the next working day.
    assert_eq!(cal.add_working_days(saturday, 5), local("2026-06-15T00:00"));
    assert_eq!(cal.add_working_days(saturday, 0), local("2026-06-08T00:00"));
    assert_eq!(cal.add_working_days(saturday, 1), local("2026-06-09T00:00"));
}

#[test]
fn zero_working_days_from_a_working_day_is_the_same_instant() {
    let cal = amsterdam();
    let tuesday = local("2026-06-09T10:11:12.5");
    assert_eq!(cal.add_working_days(tuesday, 0), tuesday);
}

#[test]
fn a_deadline_across_christmas_and_new_year_skips_the_holidays() {
    let cal = amsterdam();
    let christmas_eve = local("2026-12-24T10:00");
    assert_eq!(
        cal.add_working_days(christmas_eve, 1),
        local("2026-12-28T10:00")
    );
    // 28, 29, 30, 31 December, New Year's Day (Friday) skipped, Monday 4 January.
    assert_eq!(
        cal.add_working_days(christmas_eve, 5),
        local("2027-01-04T10:00")
    );
}

#[test]
fn a_deadline_across_kings_day_skips_it() {
    let cal = amsterdam();
    let friday = local("2026-04-24T14:00");
    assert_eq!(cal.add_working_days(friday, 1), local("2026-04-28T14:00"));
}

#[test]
fn a_deadline_across_easter_skips_easter_monday() {
    let cal = amsterdam();
    let thursday = local("2026-04-02T09:00");
    assert_eq!(cal.add_working_days(thursday, 2), local("2026-04-07T09:00"));
}

#[test]
fn a_deadline_across_the_spring_dst_change_stays_at_nine_local() {
    let cal = amsterdam();
    // Clocks go forward on Sunday 29 March 2026: 09:00 is 08:00Z before, 07:00Z after.
    let friday = local("2026-03-27T09:00");
    assert_eq!(friday, utc("2026-03-27T08:00Z"));
    let due = cal.add_working_days(friday, 1);
    assert_eq!(due, local("2026-03-30T09:00"));
    assert_eq!(due, utc("2026-03-30T07:00Z"));
}

#[test]
fn a_deadline_across_the_autumn_dst_change_stays_at_nine_local() {
    let cal = amsterdam();
    // Clocks go back on Sunday 25 October 2026: 09:00 is 07:00Z before, 08:00Z after.
    let friday = local("2026-10-23T09:00");
    assert_eq!(friday, utc("2026-10-23T07:00Z"));
    let due = cal.add_working_days(friday, 1);
    assert_eq!(due, local("2026-10-26T09:00"));
    assert_eq!(due, utc("2026-10-26T08:00Z"));
}

#[test]
fn working_days_between_counts_whole_days() {
    let cal = amsterdam();
    let friday = local("2026-06-12T10:00");
    assert_eq!(
        cal.working_days_between(friday, local("2026-06-12T17:00")),
        0
    );
    assert_eq!(
        cal.working_days_between(friday, local("2026-06-15T10:00")),
        1
    );
    assert_eq!(
        cal.working_days_between(friday, local("2026-06-15T09:59")),
        0
    );
    assert_eq!(
        cal.working_days_between(local("2026-06-15T10:00"), friday),
        -1
    );
    assert_eq!(
        cal.working_days_between(friday, local("2026-06-13T12:00")),
        0
    );
}

#[test]
fn working_days_between_skips_holidays_and_weekend_arrivals() {
    let cal = amsterdam();
    let christmas_eve = local("2026-12-24T10:00");
    assert_eq!(
        cal.working_days_between(christmas_eve, local("2027-01-04T10:00")),
        5
    );
    let saturday = local("2026-06-06T11:00");
    assert_eq!(
        cal.working_days_between(saturday, local("2026-06-07T23:00")),
        0
    );
    assert_eq!(
        cal.working_days_between(saturday, local("2026-06-12T23:59")),
        4
    );
    assert_eq!(
        cal.working_days_between(saturday, local("2026-06-13T09:00")),
        5
    );
}

#[test]
fn working_days_between_spans_years_quickly() {
    let cal = amsterdam();
    let from = local("2026-01-05T09:00");
    let to = cal.add_working_days(from, 2_500);
    assert_eq!(cal.working_days_between(from, to), 2_500);
    assert!(cal.is_working_day(to.to_zoned(cal.time_zone().clone()).date()));
}

#[test]
fn the_digest_after_friday_evening_is_monday_at_eight() {
    let cal = amsterdam();
    let friday_evening = local("2026-03-13T19:00");
    assert_eq!(
        cal.next_working_day_at(friday_evening, EIGHT),
        local("2026-03-16T08:00")
    );
}

#[test]
fn the_digest_after_the_evening_before_easter_monday_is_tuesday() {
    let cal = amsterdam();
    let easter_evening = local("2026-04-05T20:00");
    assert_eq!(
        cal.next_working_day_at(easter_evening, EIGHT),
        local("2026-04-07T08:00")
    );
}

#[test]
fn the_digest_after_sunday_2330_utc_is_monday_at_eight_local() {
    let cal = amsterdam();
    // Winter: Monday 00:30 local, so Monday 08:00 CET = 07:00Z.
    let winter = cal.next_working_day_at(utc("2026-01-11T23:30Z"), EIGHT);
    assert_eq!(winter, local("2026-01-12T08:00"));
    assert_eq!(winter, utc("2026-01-12T07:00Z"));
    // Summer: Monday 01:30 local, so Monday 08:00 CEST = 06:00Z.
    let summer = cal.next_working_day_at(utc("2026-06-14T23:30Z"), EIGHT);
    assert_eq!(summer, local("2026-06-15T08:00"));
    assert_eq!(summer, utc("2026-06-15T06:00Z"));
}

#[test]
fn the_digest_after_the_dst_weekend_is_at_eight_summer_time() {
    let cal = amsterdam();
    let due = cal.next_working_day_at(local("2026-03-27T09:00"), EIGHT);
    assert_eq!(due, utc("2026-03-30T06:00Z"));
}

#[test]
fn the_digest_time_is_inclusive_on_a_working_day() {
    let cal = amsterdam();
    let tuesday = local("2026-06-09T08:00");
    assert_eq!(
        cal.next_working_day_at(local("2026-06-09T06:00"), EIGHT),
        tuesday
    );
    assert_eq!(cal.next_working_day_at(tuesday, EIGHT), tuesday);
    let just_after = tuesday
        .checked_add(jiff::SignedDuration::from_nanos(1))
        .expect("in range");
    assert_eq!(
        cal.next_working_day_at(just_after, EIGHT),
        local("2026-06-10T08:00")
    );
}

#[test]
fn calendar_deadlines_are_exact_elapsed_time() {
    let cal = amsterdam();
    let saturday_night = local("2026-06-06T23:59");
    let span = DeadlineSpan::Calendar(Duration::from_secs(90));
    assert_eq!(
        cal.deadline(saturday_night, &span),
        local("2026-06-07T00:00:30")
    );
    // A week across the spring DST change is 168 hours: 09:00 becomes 10:00 local.
    let week = DeadlineSpan::Calendar(Duration::from_secs(7 * 24 * 3600));
    assert_eq!(
        cal.deadline(local("2026-03-25T09:00"), &week),
        local("2026-04-01T10:00")
    );
}

#[test]
fn working_day_deadlines_use_the_calendar() {
    let cal = amsterdam();
    let from = local("2026-04-24T14:00");
    let span = DeadlineSpan::WorkingDays(10);
    assert_eq!(cal.deadline(from, &span), cal.add_working_days(from, 10));
}

#[test]
fn a_pause_moves_a_calendar_deadline_by_the_elapsed_time() {
    let cal = amsterdam();
    let span = DeadlineSpan::Calendar(Duration::from_secs(90));
    let start = local("2026-06-09T10:00");
    let deadline = cal.deadline(start, &span);
    let paused = local("2026-06-09T10:00:10")..local("2026-06-09T10:00:40");
    assert_eq!(
        cal.extend_for_pause(deadline, &span, paused),
        local("2026-06-09T10:02")
    );
}

#[test]
fn a_pause_moves_a_working_day_deadline_by_whole_working_days() {
    let cal = amsterdam();
    let span = DeadlineSpan::WorkingDays(10);
    let deadline = local("2026-06-19T14:00");
    let two_days = local("2026-06-08T10:00")..local("2026-06-10T11:00");
    assert_eq!(
        cal.extend_for_pause(deadline, &span, two_days),
        local("2026-06-23T14:00")
    );
    // Friday afternoon to Monday morning is less than one working day: no extension.
    let weekend = local("2026-06-12T16:00")..local("2026-06-15T10:00");
    assert_eq!(cal.extend_for_pause(deadline, &span, weekend), deadline);
}

#[test]
fn an_empty_or_reversed_pause_changes_nothing() {
    let cal = amsterdam();
    let deadline = local("2026-06-19T14:00");
    let (a, b) = (local("2026-06-08T10:00"), local("2026-06-10T10:00"));
    for span in [
        DeadlineSpan::WorkingDays(5),
        DeadlineSpan::Calendar(Duration::from_secs(60)),
    ] {
        assert_eq!(cal.extend_for_pause(deadline, &span, b..a), deadline);
        assert_eq!(cal.extend_for_pause(deadline, &span, a..a), deadline);
    }
}

#[test]
fn deadlines_past_the_year_9999_saturate() {
    let cal = amsterdam();
    let from = local("9999-12-28T10:00");
    assert_eq!(cal.add_working_days(from, 10), Timestamp::MAX);
    assert_eq!(
        cal.add_working_days(local("2026-06-09T10:00"), u32::MAX),
        Timestamp::MAX
    );
    let huge = DeadlineSpan::Calendar(Duration::from_secs(u64::MAX));
    assert_eq!(cal.deadline(from, &huge), Timestamp::MAX);
    assert_eq!(
        cal.next_working_day_at(local("9999-12-30T10:00"), EIGHT),
        Timestamp::MAX
    );
}

/// Instants from 2000 to 2100, where the calendar will be used.
fn instant() -> impl Strategy<Value = Timestamp> {
    (946_684_800_i64..4_102_444_800)
        .prop_map(|secs| Timestamp::from_second(secs).expect("in range"))
}

proptest! {
    #[test]
    fn adding_working_days_lands_later_on_a_working_day_and_counts_back(
        t in instant(),
        n in 1u32..400,
    ) {
        let cal = amsterdam();
        let due = cal.add_working_days(t, n);
        prop_assert!(due > t);
        prop_assert!(cal.is_working_day(cal.time_zone().to_datetime(due).date()));
        prop_assert_eq!(cal.working_days_between(t, due), i64::from(n));
        prop_assert_eq!(cal.working_days_between(due, t), -i64::from(n));
    }

    #[test]
    fn jumping_many_working_days_equals_stepping_one_at_a_time(
        t in instant(),
        n in 1u32..60,
    ) {
        // The jump counts days per week and year; stepping asks is_working_day per day.
        let cal = amsterdam();
        let stepped = (0..n).fold(t, |at, _| cal.add_working_days(at, 1));
        prop_assert_eq!(cal.add_working_days(t, n), stepped);
    }

    #[test]
    fn a_later_arrival_never_gets_an_earlier_deadline(
        a in instant(),
        b in instant(),
        n in 0u32..30,
    ) {
        let cal = amsterdam();
        let (early, late) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(cal.add_working_days(early, n) <= cal.add_working_days(late, n));
    }

    #[test]
    fn the_next_digest_is_the_first_working_day_moment_at_that_clock_time(
        t in instant(),
        hour in 0i8..24,
        minute in 0i8..60,
    ) {
        let cal = amsterdam();
        let at = Time::new(hour, minute, 0, 0).expect("valid time");
        let next = cal.next_working_day_at(t, at);
        let local_next = cal.time_zone().to_datetime(next);
        prop_assert!(next >= t);
        prop_assert!(cal.is_working_day(local_next.date()));
        // Amsterdam's DST gaps are on Sundays, so a working day always shows the asked time.
        prop_assert_eq!(local_next.time(), at);
        // Nothing earlier qualifies: the day before is too early or not a working day.
        let before = local_next.date().yesterday().expect("in range");
        prop_assert!(!cal.is_working_day(before) || cal.resolve(before, at) < t);
    }
}
