//! `Period`: the civil dates a report covers, in the organisation's time zone.
//!
//! A complaint belongs to the period in which it was *received* (local date of
//! `received_at`). Both dates are inclusive, as people say them ("1 January to 31 December");
//! internally the period is the half-open instant range `[start, end)`, `end` being 00:00 on
//! the day after `to`, so no complaint falls between two adjacent periods.

use std::fmt;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// Why a period cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// The last day comes before the first.
    #[error("the period ends ({to}) before it starts ({from})")]
    Reversed {
        /// First day given.
        from: Date,
        /// Last day given.
        to: Date,
    },
    /// A date outside the range of dates the calendar can handle (years -9999 to 9999).
    #[error("the period {0} is outside the supported range of dates")]
    OutOfRange(String),
}

/// The civil dates `from..=to` in one time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    from: Date,
    to: Date,
    tz: TimeZone,
    start: Timestamp,
    end: Timestamp,
}

impl Period {
    /// The calendar year `year`: 1 January to 31 December.
    pub fn year(year: i16, tz: TimeZone) -> Result<Period, PeriodError> {
        let out = || PeriodError::OutOfRange(year.to_string());
        let from = Date::new(year, 1, 1).map_err(|_| out())?;
        let to = Date::new(year, 12, 31).map_err(|_| out())?;
        Period::between(from, to, tz)
    }

    /// The days `from` to `to`, both inclusive.
    pub fn between(from: Date, to: Date, tz: TimeZone) -> Result<Period, PeriodError> {
        if to < from {
            return Err(PeriodError::Reversed { from, to });
        }
        let out = || PeriodError::OutOfRange(format!("{from} to {to}"));
        let day_after = to.tomorrow().map_err(|_| out())?;
        let start = local_midnight(&tz, from).ok_or_else(out)?;
        let end = local_midnight(&tz, day_after).ok_or_else(out)?;
        Ok(Period {
            from,
            to,
            tz,
            start,
            end,
        })
    }

    /// The period of equal length just before this one, for the comparison: the previous
    /// calendar year for a year, the previous N whole months for N whole months (so a
    /// quarter compares with the quarter before, whatever the months' lengths), else the same
    /// number of days ending the day before `from`. `None` before the year -9999.
    pub fn previous(&self) -> Option<Period> {
        let last = self.from.yesterday().ok()?;
        let first = match self.whole_months() {
            Some(months) => self.from.checked_sub(months.months()).ok()?,
            None => last.checked_sub((self.days() - 1).days()).ok()?,
        };
        Period::between(first, last, self.tz.clone()).ok()
    }

    /// First day (inclusive).
    pub fn from(&self) -> Date {
        self.from
    }

    /// Last day (inclusive).
    pub fn to(&self) -> Date {
        self.to
    }

    /// The time zone the dates are in.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// 00:00 local time on `from`.
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// 00:00 local time on the day after `to` (exclusive).
    pub fn end(&self) -> Timestamp {
        self.end
    }

    /// Whether `at` falls in the period.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.start <= at && at < self.end
    }

    /// Number of days, both ends counted.
    pub fn days(&self) -> i64 {
        i64::from(self.to.since(self.from).map_or(0, |s| s.get_days())) + 1
    }

    /// The year, when the period is exactly one calendar year.
    pub fn calendar_year(&self) -> Option<i16> {
        let y = self.from.year();
        (self.from == Date::new(y, 1, 1).ok()? && self.to == Date::new(y, 12, 31).ok()?)
            .then_some(y)
    }

    /// The number of months, when the period is made of whole calendar months.
    fn whole_months(&self) -> Option<i32> {
        if self.from.day() != 1 || self.to != self.to.last_of_month() {
            return None;
        }
        let months = (i32::from(self.to.year()) - i32::from(self.from.year())) * 12
            + i32::from(self.to.month())
            - i32::from(self.from.month())
            + 1;
        Some(months)
    }

    /// Every (year, month) the period touches, in order, including months with no complaint.
    pub fn months(&self) -> Vec<(i16, i8)> {
        let mut out = Vec::new();
        let mut m = self.from.first_of_month();
        while m <= self.to {
            out.push((m.year(), m.month()));
            match m.checked_add(1.month()) {
                Ok(next) => m = next,
                Err(_) => break,
            }
        }
        out
    }

    /// The local (year, month) of an instant.
    pub fn month_of(&self, at: Timestamp) -> (i16, i8) {
        let d = self.tz.to_datetime(at).date();
        (d.year(), d.month())
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.from, self.to)
    }
}

/// 00:00 on `date` in `tz` (the first instant of the day where midnight is skipped by DST).
fn local_midnight(tz: &TimeZone, date: Date) -> Option<Timestamp> {
    tz.to_ambiguous_timestamp(DateTime::from_parts(date, Time::midnight()))
        .compatible()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ams() -> TimeZone {
        TimeZone::get("Europe/Amsterdam").unwrap()
    }

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn a_year_runs_from_local_midnight_to_local_midnight() {
        let p = Period::year(2026, ams()).unwrap();
        assert_eq!(
            p.start(),
            "2025-12-31T23:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            p.end(),
            "2026-12-31T23:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert!(p.contains("2025-12-31T23:30:00Z".parse().unwrap()));
        assert!(!p.contains("2026-12-31T23:00:00Z".parse().unwrap()));
        assert_eq!(p.days(), 365);
        assert_eq!(p.calendar_year(), Some(2026));
        assert_eq!(p.months().len(), 12);
    }

    #[test]
    fn the_previous_period_of_a_year_is_the_year_before_even_a_leap_year() {
        let p = Period::year(2025, ams()).unwrap().previous().unwrap();
        assert_eq!(p, Period::year(2024, ams()).unwrap());
        assert_eq!(p.days(), 366);
    }

    #[test]
    fn the_previous_period_of_whole_months_is_as_many_months() {
        let q = Period::between(date("2026-04-01"), date("2026-06-30"), ams()).unwrap();
        let p = q.previous().unwrap();
        assert_eq!((p.from(), p.to()), (date("2026-01-01"), date("2026-03-31")));
    }

    #[test]
    fn the_previous_period_of_loose_days_is_as_many_days() {
        let q = Period::between(date("2026-03-10"), date("2026-03-16"), ams()).unwrap();
        let p = q.previous().unwrap();
        assert_eq!((p.from(), p.to()), (date("2026-03-03"), date("2026-03-09")));
        assert_eq!(p.days(), q.days());
        assert_eq!(q.months(), vec![(2026, 3)]);
    }

    #[test]
    fn a_reversed_period_is_refused() {
        let err = Period::between(date("2026-02-01"), date("2026-01-31"), ams()).unwrap_err();
        assert!(matches!(err, PeriodError::Reversed { .. }));
        assert!(Period::between(date("2026-02-01"), date("2026-02-01"), ams()).is_ok());
    }
}
