//! Deadlines as configured spans, and how a pause moves them.

use std::{ops::Range, time::Duration};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::WorkingCalendar;

/// How far a deadline lies from its start: configured per deadline (acknowledgement,
/// explanation, solution).
///
/// In config: `{ working_days = 10 }`, or `{ calendar = "1 week" }` with any jiff friendly
/// or ISO 8601 duration ("90s", "2 weeks", "PT36H"); days and weeks count as 24 hours and
/// 7 days of elapsed time, months and years are refused as ambiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineSpan {
    /// Exact elapsed time, weekends and nights included: a week is 168 hours, so across a
    /// DST change its clock time moves by an hour. Short ones ("90s") make tests quick.
    Calendar(#[serde(with = "elapsed")] Duration),
    /// Working days, keeping the clock time: see [`WorkingCalendar::add_working_days`].
    WorkingDays(u32),
}

impl WorkingCalendar {
    /// The deadline `span` after `from`; saturates at [`Timestamp::MAX`].
    pub fn deadline(&self, from: Timestamp, span: &DeadlineSpan) -> Timestamp {
        match *span {
            DeadlineSpan::Calendar(elapsed) => from.checked_add(elapsed).unwrap_or(Timestamp::MAX),
            DeadlineSpan::WorkingDays(n) => self.add_working_days(from, n),
        }
    }

    /// `deadline` (computed with `span`) moved for the time the complaint waited on the
    /// complainant, from `paused.start` (we asked) to `paused.end` (they answered).
    ///
    /// A [`DeadlineSpan::Calendar`] deadline moves by exactly the elapsed pause. A
    /// [`DeadlineSpan::WorkingDays`] deadline moves by the whole working days paused, as
    /// counted by [`WorkingCalendar::working_days_between`], keeping its clock time; a part
    /// of a working day does not count, so rounding always favours the complainant. Call it
    /// once per pause, when the pause ends; an empty or reversed pause changes nothing.
    pub fn extend_for_pause(
        &self,
        deadline: Timestamp,
        span: &DeadlineSpan,
        paused: Range<Timestamp>,
    ) -> Timestamp {
        if paused.end <= paused.start {
            return deadline;
        }
        match span {
            DeadlineSpan::Calendar(_) => deadline
                .checked_add(paused.end.duration_since(paused.start))
                .unwrap_or(Timestamp::MAX),
            DeadlineSpan::WorkingDays(_) => {
                let days = self.working_days_between(paused.start, paused.end);
                if days <= 0 {
                    // Adding zero would move a deadline that sits outside working time.
                    return deadline;
                }
                // More than u32::MAX working days is past the year 9999: saturates anyway.
                self.add_working_days(deadline, u32::try_from(days).unwrap_or(u32::MAX))
            }
        }
    }
}

/// Serde for [`DeadlineSpan::Calendar`]: a human duration string, because the serde default
/// for `Duration` (`{ secs, nanos }`) is unreadable in a config file.
mod elapsed {
    use std::time::Duration;

    use jiff::{Span, SpanRelativeTo};
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    /// Writes the compact friendly form, e.g. "168h", which [`deserialize`] reads back.
    pub fn serialize<S: Serializer>(duration: &Duration, se: S) -> Result<S::Ok, S::Error> {
        jiff::fmt::serde::unsigned_duration::friendly::compact::required::serialize(duration, se)
    }

    /// Reads a jiff `Span` ("1 week", "90s", "P7D") and fixes days at 24 hours, since
    /// calendar deadlines are elapsed time.
    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
        let span = Span::deserialize(de)?;
        let signed = span
            .to_duration(SpanRelativeTo::days_are_24_hours())
            .map_err(D::Error::custom)?;
        Duration::try_from(signed)
            .map_err(|_| D::Error::custom("a deadline span cannot be negative"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::{Error, MapAccessDeserializer, MapDeserializer};

    fn parse<V>(key: &'static str, value: V) -> Result<DeadlineSpan, Error>
    where
        V: for<'de> serde::de::IntoDeserializer<'de, Error>,
    {
        let map = MapDeserializer::new([(key, value)].into_iter());
        DeadlineSpan::deserialize(MapAccessDeserializer::new(map))
    }

    #[test]
    fn working_days_deserialize_from_a_number() {
        assert_eq!(
            parse("working_days", 10u32),
            Ok(DeadlineSpan::WorkingDays(10))
        );
    }

    #[test]
    fn calendar_spans_deserialize_from_friendly_and_iso_durations() {
        let week = DeadlineSpan::Calendar(Duration::from_secs(7 * 24 * 3600));
        assert_eq!(parse("calendar", "1 week"), Ok(week));
        assert_eq!(parse("calendar", "P7D"), Ok(week));
        assert_eq!(
            parse("calendar", "90s"),
            Ok(DeadlineSpan::Calendar(Duration::from_secs(90)))
        );
    }

    #[test]
    fn calendar_spans_refuse_negative_and_month_durations() {
        assert!(parse("calendar", "-5s").is_err());
        assert!(parse("calendar", "1 month").is_err());
        assert!(parse("fortnight", "2 weeks").is_err());
    }
}
