//! The working-day calendar behind complaint deadlines, digests and report lead times.
//!
//! Pure: no clock, no I/O. Every answer is computed from the time zone (normally
//! Europe/Amsterdam, bundled with jiff) and the [`HolidayRules`].
//!
//! # Rules chosen for the edge cases
//!
//! - **Working day**: Monday to Friday, and not a Dutch public holiday under the rules
//!   ([`dutch_public_holidays`]).
//! - **Working-day deadlines keep the clock time.** A complaint received on a working day at
//!   14:10 with a 5-working-day deadline is due at 14:10 local time on the 5th working day
//!   after, whatever DST did in between.
//! - **Arrival outside working days counts from the next working day's start.** A complaint
//!   received on Saturday (or on a holiday) is treated as received at 00:00 on the next
//!   working day, so its 5-working-day deadline is 00:00 on the working day after the 5th
//!   full working day: received Saturday, due "end of Friday", stored as Monday 00:00 (no
//!   working time lies between the two). Every deadline therefore falls on a working day.
//! - **Lead times are whole working days**, truncated: see
//!   [`WorkingCalendar::working_days_between`].
//! - **Pauses** push a calendar deadline by the exact time paused and a working-day deadline
//!   by the whole working days paused: see [`WorkingCalendar::extend_for_pause`].
//! - **Local times that do not exist or occur twice** (DST changes) are resolved the
//!   "compatible" way: a time in the spring gap moves forward by the gap, a time in the autumn
//!   fold takes its first occurrence. In Europe/Amsterdam both changes are on Sundays, so a
//!   working day never meets them.
//! - **Instants past the year 9999** (jiff's range) saturate to [`Timestamp::MAX`] instead of
//!   failing; no real deadline gets near.

mod deadline;
mod holidays;
#[cfg(test)]
mod tests;

pub use deadline::DeadlineSpan;
pub use holidays::{HolidayRules, LiberationDay, dutch_public_holidays, easter_sunday};

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::{
    Span, Timestamp,
    civil::{Date, DateTime, Time},
    tz::TimeZone,
};

/// The IANA name of the zone the company works in.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Amsterdam";

/// Errors building a [`WorkingCalendar`] from configuration.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// The configured time-zone name is not in the bundled time-zone database.
    #[error("unknown time zone {name:?}")]
    UnknownTimeZone {
        /// The name as configured.
        name: String,
        /// jiff's reason.
        #[source]
        source: jiff::Error,
    },
}

/// Working days in one time zone under one set of holiday rules.
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    tz: TimeZone,
    rules: HolidayRules,
    /// Weekday holidays of the years around now, computed once: the report asks for the
    /// working days of 100,000 lead times, the scheduler for every open complaint.
    cached: Arc<BTreeMap<i16, Vec<Date>>>,
}

/// The distinct holiday dates of `year` that fall on Monday to Friday.
fn compute_weekday_holidays(year: i16, rules: &HolidayRules) -> Vec<Date> {
    let mut dates: Vec<Date> = dutch_public_holidays(year, rules)
        .into_iter()
        .map(|(date, _)| date)
        .filter(|&date| is_weekday(date))
        .collect();
    // Two holidays on one date (Hemelvaartsdag on 5 May) must not count twice.
    dates.dedup();
    dates
}

/// The years whose holidays are computed up front; others are computed when asked.
const CACHED_YEARS: std::ops::RangeInclusive<i16> = 2000..=2100;

impl WorkingCalendar {
    /// A calendar for `tz` with the holidays of `rules`.
    pub fn new(tz: TimeZone, rules: HolidayRules) -> Self {
        let cached = CACHED_YEARS
            .map(|year| (year, compute_weekday_holidays(year, &rules)))
            .collect();
        WorkingCalendar {
            tz,
            rules,
            cached: Arc::new(cached),
        }
    }

    /// A calendar for the IANA zone `name` (e.g. [`DEFAULT_TIME_ZONE`]), as read from config.
    pub fn for_zone(name: &str, rules: HolidayRules) -> Result<Self, CalendarError> {
        let tz = TimeZone::get(name).map_err(|source| CalendarError::UnknownTimeZone {
            name: name.to_owned(),
            source,
        })?;
        Ok(WorkingCalendar::new(tz, rules))
    }

    /// The time zone whose local dates and clock times the calendar uses.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The holiday rules in force.
    pub fn rules(&self) -> &HolidayRules {
        &self.rules
    }

    /// Whether `date` is Monday to Friday and not a public holiday.
    pub fn is_working_day(&self, date: Date) -> bool {
        is_weekday(date) && !self.weekday_holidays(date.year()).contains(&date)
    }

    /// The deadline `n` working days after `from`: the same local clock time on the `n`-th
    /// working day after `from`'s local date.
    ///
    /// When `from` falls outside a working day (weekend, holiday), counting starts at 00:00
    /// on the next working day, as if the complaint arrived then (see the module docs).
    /// `n == 0` gives `from` itself on a working day, or that 00:00 otherwise. The result is
    /// always on a working day, and strictly after `from` when `n >= 1`.
    pub fn add_working_days(&self, from: Timestamp, n: u32) -> Timestamp {
        let (date, time) = self.working_position(from);
        if n == 0 && date == self.tz.to_datetime(from).date() {
            // Resolving the clock time again could move an instant in a DST fold.
            return from;
        }
        match self.nth_working_day_after(date, n) {
            Some(target) => self.resolve(target, time),
            None => Timestamp::MAX,
        }
    }

    /// Whole working days from `a` to `b`, for report lead times; negative when `b < a`.
    ///
    /// Both instants are first placed in working time (an instant outside a working day
    /// counts as 00:00 on the next working day); the result is the number of working days
    /// crossed, less one when `b`'s clock time is before `a`'s: complete working days,
    /// truncated, like a person counting on a calendar. Handled the same day gives 0;
    /// Friday 10:00 to Monday 10:00 gives 1, to Monday 09:59 gives 0. It is the inverse of
    /// [`add_working_days`](Self::add_working_days):
    /// `working_days_between(t, add_working_days(t, n)) == n`.
    pub fn working_days_between(&self, a: Timestamp, b: Timestamp) -> i64 {
        if b < a {
            return -self.working_days_between(b, a);
        }
        let (date_a, time_a) = self.working_position(a);
        let (date_b, time_b) = self.working_position(b);
        let crossed = self.count_working_days(date_a, date_b);
        let whole = if time_b < time_a {
            crossed - 1
        } else {
            crossed
        };
        // Only a DST fold could make a later instant read as an earlier clock time.
        whole.max(0)
    }

    /// The first instant at or after `from` whose local clock reads `local_time` on a working
    /// day, e.g. the next 08:00 digest.
    ///
    /// Works in local time, so a digest stays at 08:00 across DST changes and is never sent
    /// at night or at the weekend. Inclusive: a scheduler that has just run at that instant
    /// should ask from just after it.
    pub fn next_working_day_at(&self, from: Timestamp, local_time: Time) -> Timestamp {
        let mut date = self.tz.to_datetime(from).date();
        loop {
            if self.is_working_day(date) {
                let candidate = self.resolve(date, local_time);
                if candidate >= from {
                    return candidate;
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => return Timestamp::MAX,
            }
        }
    }

    /// Where `at` stands in working time: its local date and clock time on a working day,
    /// or 00:00 on the next working day when it falls outside one.
    fn working_position(&self, at: Timestamp) -> (Date, Time) {
        let local = self.tz.to_datetime(at);
        if self.is_working_day(local.date()) {
            return (local.date(), local.time());
        }
        // Past the last working day jiff can represent, stay put; callers saturate.
        let start = self
            .nth_working_day_after(local.date(), 1)
            .unwrap_or(local.date());
        (start, Time::midnight())
    }

    /// The `n`-th working day after `date` (`date` itself when `n == 0`); `None` past
    /// jiff's range.
    fn nth_working_day_after(&self, date: Date, n: u32) -> Option<Date> {
        let mut date = date;
        let mut remaining = i64::from(n);
        // Jump whole weeks while far away, so u32::MAX days costs a handful of steps. A week
        // has at most five working days, so the jump never passes the target and leaves at
        // least one day to step, which is what lands the result on a working day.
        while remaining > 5 {
            let weeks = (remaining - 1) / 5;
            let next = date
                .checked_add(Span::new().try_days(weeks * 7).ok()?)
                .ok()?;
            remaining -= self.count_working_days(date, next);
            date = next;
        }
        while remaining > 0 {
            date = date.tomorrow().ok()?;
            if self.is_working_day(date) {
                remaining -= 1;
            }
        }
        Some(date)
    }

    /// Working days in `(after, upto]`, computed per week and per year, not per day.
    fn count_working_days(&self, after: Date, upto: Date) -> i64 {
        if upto <= after {
            return 0;
        }
        // Civil dates are whole days apart: no DST in civil time.
        let days = upto.duration_since(after).as_hours() / 24;
        let first = i64::from(after.weekday().to_monday_zero_offset());
        let mut weekdays = days / 7 * 5;
        for offset in 1..=days % 7 {
            if (first + offset) % 7 < 5 {
                weekdays += 1;
            }
        }
        let holidays: i64 = (after.year()..=upto.year())
            .flat_map(|year| self.weekday_holidays(year).into_owned())
            .filter(|&holiday| after < holiday && holiday <= upto)
            .map(|_| 1)
            .sum();
        weekdays - holidays
    }

    /// The distinct holiday dates of `year` that fall on Monday to Friday.
    fn weekday_holidays(&self, year: i16) -> Cow<'_, [Date]> {
        match self.cached.get(&year) {
            Some(dates) => Cow::Borrowed(dates),
            None => Cow::Owned(compute_weekday_holidays(year, &self.rules)),
        }
    }

    /// The instant of local `date` at `time`, DST gaps and folds resolved compatibly.
    fn resolve(&self, date: Date, time: Time) -> Timestamp {
        self.tz
            .to_ambiguous_timestamp(DateTime::from_parts(date, time))
            .compatible()
            .unwrap_or(Timestamp::MAX)
    }
}

/// Monday to Friday.
fn is_weekday(date: Date) -> bool {
    date.weekday().to_monday_zero_offset() < 5
}
