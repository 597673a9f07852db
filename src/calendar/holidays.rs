//! Dutch public holidays ("feestdagen"), computed per year from rules, never listed per year.

use jiff::{ToSpan, civil::Date};
use serde::{Deserialize, Serialize};

/// Which years count Bevrijdingsdag (5 May) as a day off.
///
/// Liberation Day is a national holiday every year, but most Dutch collective labour
/// agreements (CAO's) give the day off only in lustrum years, hence the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiberationDay {
    /// Only in years divisible by five (2020, 2025, 2030, ...).
    #[default]
    Lustrum,
    /// Every year.
    EveryYear,
    /// Never a day off.
    Never,
}

impl LiberationDay {
    /// Whether 5 May of `year` is a day off under this rule.
    pub fn applies_in(self, year: i16) -> bool {
        match self {
            LiberationDay::Lustrum => year.rem_euclid(5) == 0,
            LiberationDay::EveryYear => true,
            LiberationDay::Never => false,
        }
    }
}

/// The holidays that differ between employers; the fixed ones are always days off.
///
/// Deserializes from config such as `liberation_day = "every_year"`, `good_friday = true`;
/// a missing field takes its default, an unknown one is an error so a typo cannot
/// silently change the deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HolidayRules {
    /// When Bevrijdingsdag (5 May) is a day off. Default: lustrum years only.
    pub liberation_day: LiberationDay,
    /// Whether Goede Vrijdag is a day off. Default: no (it is not in most CAO's).
    pub good_friday: bool,
}

impl Default for HolidayRules {
    fn default() -> Self {
        HolidayRules {
            liberation_day: LiberationDay::Lustrum,
            good_friday: false,
        }
    }
}

/// Easter Sunday of `year` in the Gregorian calendar, by the anonymous Gregorian
/// (Meeus/Jones/Butcher) algorithm.
///
/// `None` for years outside jiff's range (-9999..=9999). Years before 1583 get the
/// proleptic Gregorian date, not the Julian one the church used then.
pub fn easter_sunday(year: i16) -> Option<Date> {
    // Euclidean division keeps every intermediate in range for negative years too.
    let y = i32::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    // month is 3 or 4 and day 1..=31 by construction; Date::new still checks.
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// The Dutch public holidays of `year` that are days off under `rules`, sorted by date,
/// each with its Dutch name (e.g. "Koningsdag").
///
/// Eerste Paasdag and Eerste Pinksterdag are listed although they are Sundays anyway.
/// When two holidays fall on one date (Hemelvaartsdag on 5 May, as in 2016) both are
/// listed. Koningsdag follows the rule in force since 2014 (27 April, 26 April when the
/// 27th is a Sunday) for every year; older years are not modelled historically.
/// Empty for years outside jiff's range (-9999..=9999).
pub fn dutch_public_holidays(year: i16, rules: &HolidayRules) -> Vec<(Date, &'static str)> {
    let Some(easter) = easter_sunday(year) else {
        return Vec::new();
    };
    let fixed = |month: i8, day: i8| Date::new(year, month, day).ok();
    // Easter-relative dates stay within March..June, so the additions cannot overflow.
    let from_easter = |days: i64| easter.checked_add(days.days()).ok();
    let kings_day = match fixed(4, 27) {
        Some(date) if date.weekday() == jiff::civil::Weekday::Sunday => fixed(4, 26),
        other => other,
    };
    let candidates = [
        (fixed(1, 1), "Nieuwjaarsdag"),
        (
            from_easter(-2).filter(|_| rules.good_friday),
            "Goede Vrijdag",
        ),
        (Some(easter), "Eerste Paasdag"),
        (from_easter(1), "Tweede Paasdag"),
        (kings_day, "Koningsdag"),
        (
            fixed(5, 5).filter(|_| rules.liberation_day.applies_in(year)),
            "Bevrijdingsdag",
        ),
        (from_easter(39), "Hemelvaartsdag"),
        (from_easter(49), "Eerste Pinksterdag"),
        (from_easter(50), "Tweede Pinksterdag"),
        (fixed(12, 25), "Eerste Kerstdag"),
        (fixed(12, 26), "Tweede Kerstdag"),
    ];
    let mut holidays: Vec<(Date, &'static str)> = candidates
        .into_iter()
        .filter_map(|(date, name)| date.map(|date| (date, name)))
        .collect();
    // Stable sort: same-day holidays keep the order above.
    holidays.sort_by_key(|&(date, _)| date);
    holidays
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{Weekday, date};
    use serde::de::{IntoDeserializer, value};

    fn dates(year: i16, rules: &HolidayRules) -> Vec<(String, &'static str)> {
        dutch_public_holidays(year, rules)
            .into_iter()
            .map(|(d, name)| (d.to_string(), name))
            .collect()
    }

    fn expected(list: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
        list.iter().map(|&(d, n)| (d.to_string(), n)).collect()
    }

    #[test]
    fn easter_matches_the_published_dates() {
        let known = [
            (2024, date(2024, 3, 31)),
            (2025, date(2025, 4, 20)),
            (2026, date(2026, 4, 5)),
            (2027, date(2027, 3, 28)),
            (2030, date(2030, 4, 21)),
            // The earliest and latest possible dates.
            (1818, date(1818, 3, 22)),
            (2285, date(2285, 3, 22)),
            (1943, date(1943, 4, 25)),
            (2038, date(2038, 4, 25)),
        ];
        for (year, easter) in known {
            assert_eq!(easter_sunday(year), Some(easter), "{year}");
        }
    }

    #[test]
    fn easter_is_always_a_sunday_between_22_march_and_25_april() {
        for year in 1583..=4099 {
            let easter = easter_sunday(year).expect("year in range");
            assert_eq!(easter.weekday(), Weekday::Sunday, "{year}");
            assert!(
                easter >= date(year, 3, 22) && easter <= date(year, 4, 25),
                "{year}"
            );
        }
    }

    #[test]
    fn holidays_2024_with_default_rules() {
        let want = expected(&[
            ("2024-01-01", "Nieuwjaarsdag"),
            ("2024-03-31", "Eerste Paasdag"),
            ("2024-04-01", "Tweede Paasdag"),
            ("2024-04-27", "Koningsdag"),
            ("2024-05-09", "Hemelvaartsdag"),
            ("2024-05-19", "Eerste Pinksterdag"),
            ("2024-05-20", "Tweede Pinksterdag"),
            ("2024-12-25", "Eerste Kerstdag"),
            ("2024-12-26", "Tweede Kerstdag"),
        ]);
        assert_eq!(dates(2024, &HolidayRules::default()), want);
    }

    #[test]
    fn holidays_2025_have_kings_day_on_saturday_and_liberation_day() {
        let want = expected(&[
            ("2025-01-01", "Nieuwjaarsdag"),
            ("2025-04-20", "Eerste Paasdag"),
            ("2025-04-21", "Tweede Paasdag"),
            ("2025-04-26", "Koningsdag"),
            ("2025-05-05", "Bevrijdingsdag"),
            ("2025-05-29", "Hemelvaartsdag"),
            ("2025-06-08", "Eerste Pinksterdag"),
            ("2025-06-09", "Tweede Pinksterdag"),
            ("2025-12-25", "Eerste Kerstdag"),
            ("2025-12-26", "Tweede Kerstdag"),
        ]);
        assert_eq!(dates(2025, &HolidayRules::default()), want);
    }

    #[test]
    fn holidays_2026_have_no_liberation_day_by_default() {
        let want = expected(&[
            ("2026-01-01", "Nieuwjaarsdag"),
            ("2026-04-05", "Eerste Paasdag"),
            ("2026-04-06", "Tweede Paasdag"),
            ("2026-04-27", "Koningsdag"),
            ("2026-05-14", "Hemelvaartsdag"),
            ("2026-05-24", "Eerste Pinksterdag"),
            ("2026-05-25", "Tweede Pinksterdag"),
            ("2026-12-25", "Eerste Kerstdag"),
            ("2026-12-26", "Tweede Kerstdag"),
        ]);
        assert_eq!(dates(2026, &HolidayRules::default()), want);
    }

    #[test]
    fn holidays_2027_with_good_friday_and_liberation_day_every_year() {
        let rules = HolidayRules {
            liberation_day: LiberationDay::EveryYear,
            good_friday: true,
        };
        let want = expected(&[
            ("2027-01-01", "Nieuwjaarsdag"),
            ("2027-03-26", "Goede Vrijdag"),
            ("2027-03-28", "Eerste Paasdag"),
            ("2027-03-29", "Tweede Paasdag"),
            ("2027-04-27", "Koningsdag"),
            ("2027-05-05", "Bevrijdingsdag"),
            ("2027-05-06", "Hemelvaartsdag"),
            ("2027-05-16", "Eerste Pinksterdag"),
            ("2027-05-17", "Tweede Pinksterdag"),
            ("2027-12-25", "Eerste Kerstdag"),
            ("2027-12-26", "Tweede Kerstdag"),
        ]);
        assert_eq!(dates(2027, &rules), want);
    }

    #[test]
    fn holidays_2030_are_a_lustrum_year() {
        let want = expected(&[
            ("2030-01-01", "Nieuwjaarsdag"),
            ("2030-04-21", "Eerste Paasdag"),
            ("2030-04-22", "Tweede Paasdag"),
            ("2030-04-27", "Koningsdag"),
            ("2030-05-05", "Bevrijdingsdag"),
            ("2030-05-30", "Hemelvaartsdag"),
            ("2030-06-09", "Eerste Pinksterdag"),
            ("2030-06-10", "Tweede Pinksterdag"),
            ("2030-12-25", "Eerste Kerstdag"),
            ("2030-12-26", "Tweede Kerstdag"),
        ]);
        assert_eq!(dates(2030, &HolidayRules::default()), want);
    }

    #[test]
    fn kings_day_moves_to_saturday_when_27_april_is_a_sunday() {
        for year in [2014, 2025, 2031, 2036] {
            assert_eq!(date(year, 4, 27).weekday(), Weekday::Sunday, "{year}");
            let kings_day = dutch_public_holidays(year, &HolidayRules::default())
                .into_iter()
                .find(|&(_, name)| name == "Koningsdag");
            assert_eq!(kings_day, Some((date(year, 4, 26), "Koningsdag")), "{year}");
        }
    }

    #[test]
    fn liberation_day_rules_select_the_years() {
        let has = |year, liberation_day| {
            let rules = HolidayRules {
                liberation_day,
                good_friday: false,
            };
            dutch_public_holidays(year, &rules).contains(&(date(year, 5, 5), "Bevrijdingsdag"))
        };
        assert!(has(2025, LiberationDay::Lustrum));
        assert!(!has(2026, LiberationDay::Lustrum));
        assert!(has(2020, LiberationDay::Lustrum));
        assert!(has(2026, LiberationDay::EveryYear));
        assert!(!has(2025, LiberationDay::Never));
    }

    #[test]
    fn good_friday_is_a_holiday_only_when_configured() {
        let with = HolidayRules {
            good_friday: true,
            ..HolidayRules::default()
        };
        let good_friday = (date(2026, 4, 3), "Goede Vrijdag");
        assert!(dutch_public_holidays(2026, &with).contains(&good_friday));
        assert!(!dutch_public_holidays(2026, &HolidayRules::default()).contains(&good_friday));
    }

    #[test]
    fn coinciding_holidays_are_both_listed() {
        let rules = HolidayRules {
            liberation_day: LiberationDay::EveryYear,
            good_friday: false,
        };
        let may_5: Vec<_> = dutch_public_holidays(2016, &rules)
            .into_iter()
            .filter(|&(d, _)| d == date(2016, 5, 5))
            .map(|(_, name)| name)
            .collect();
        assert_eq!(may_5, ["Bevrijdingsdag", "Hemelvaartsdag"]);
    }

    #[test]
    fn years_outside_the_supported_range_have_no_holidays() {
        assert!(dutch_public_holidays(10_000, &HolidayRules::default()).is_empty());
        assert!(dutch_public_holidays(i16::MIN, &HolidayRules::default()).is_empty());
        assert_eq!(
            dutch_public_holidays(9999, &HolidayRules::default()).len(),
            9
        );
    }

    #[test]
    fn rules_deserialize_from_snake_case_with_defaults() {
        let map = value::MapDeserializer::<_, value::Error>::new(
            [("liberation_day", "every_year")].into_iter(),
        );
        let rules = HolidayRules::deserialize(map).expect("valid rules");
        assert_eq!(rules.liberation_day, LiberationDay::EveryYear);
        assert!(!rules.good_friday);

        let never: value::StrDeserializer<'_, value::Error> = "never".into_deserializer();
        assert_eq!(LiberationDay::deserialize(never), Ok(LiberationDay::Never));
    }

    #[test]
    fn rules_reject_unknown_fields() {
        let map =
            value::MapDeserializer::<_, value::Error>::new([("goede_vrijdag", "true")].into_iter());
        assert!(HolidayRules::deserialize(map).is_err());
    }
}
