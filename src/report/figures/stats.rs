//! Small statistics: quantiles, and grouping of free text that people typed by hand.

use std::collections::HashMap;

/// The `q`-quantile (0..=1) of `values`, interpolating linearly between the two nearest
/// ranks: rank `q * (n - 1)` of the sorted values. This is Excel's `PERCENTILE.INC` (and
/// `MEDIAN` for 0.5), so the officer gets the same number from the CSV column. Sorts
/// `values` in place; `None` when empty.
pub fn quantile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(quantile_sorted(values, q))
}

/// [`quantile`] of values already sorted ascending (not empty).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let last = sorted.len() - 1;
    // Ranks are small whole numbers: the casts are exact.
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let (lo, frac) = {
        let rank = q.clamp(0.0, 1.0) * last as f64;
        let lo = rank.floor() as usize;
        (lo, rank - lo as f64)
    };
    match sorted.get(lo + 1) {
        Some(&hi) if frac > 0.0 => sorted[lo] + (hi - sorted[lo]) * frac,
        _ => sorted[lo.min(last)],
    }
}

/// The key under which hand-typed text is grouped: lower case, inner whitespace collapsed,
/// surrounding quotes and trailing punctuation removed. "Levering te laat." and
/// " levering  te LAAT" are one group. `None` for text that is empty after that.
pub fn normalise(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let joined = words.join(" ").to_lowercase();
    let trimmed = joined
        .trim_matches(|c: char| matches!(c, '"' | '\'' | '“' | '”' | '‘' | '’'))
        .trim_end_matches(['.', '!', ';', ':', ',', '?'])
        .trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// Counts of hand-typed text grouped by [`normalise`], each shown in the spelling used most
/// often (ties: the spelling first seen). Empty text is not counted.
///
/// Each distinct raw text is normalised once: a register repeats the same few categories and
/// causes many thousand times.
#[derive(Debug)]
pub struct TextGroups<T> {
    /// Raw text -> index in `spellings`.
    raw: HashMap<String, usize>,
    /// Distinct raw texts in the order first seen.
    spellings: Vec<Spelling>,
    /// Normalised key -> index in `groups`.
    keys: HashMap<String, usize>,
    /// (normalised key, members).
    groups: Vec<(String, Vec<T>)>,
}

#[derive(Debug)]
struct Spelling {
    /// The raw text with its whitespace collapsed.
    text: String,
    /// Its group; `None` for text that is empty once normalised.
    group: Option<usize>,
    count: usize,
}

impl<T> Default for TextGroups<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> TextGroups<T> {
    /// No groups yet.
    pub fn new() -> Self {
        TextGroups {
            raw: HashMap::new(),
            spellings: Vec::new(),
            keys: HashMap::new(),
            groups: Vec::new(),
        }
    }

    /// Adds `member` under `text`; returns false (and adds nothing) for empty text.
    pub fn add(&mut self, text: &str, member: T) -> bool {
        let index = match self.raw.get(text) {
            Some(&i) => i,
            None => self.first_sight(text),
        };
        let spelling = &mut self.spellings[index];
        let Some(group) = spelling.group else {
            return false;
        };
        spelling.count += 1;
        self.groups[group].1.push(member);
        true
    }

    fn first_sight(&mut self, text: &str) -> usize {
        let group = normalise(text).map(|key| match self.keys.get(&key) {
            Some(&g) => g,
            None => {
                self.groups.push((key.clone(), Vec::new()));
                self.keys.insert(key, self.groups.len() - 1);
                self.groups.len() - 1
            }
        });
        self.spellings.push(Spelling {
            text: text.split_whitespace().collect::<Vec<_>>().join(" "),
            group,
            count: 0,
        });
        self.raw.insert(text.to_string(), self.spellings.len() - 1);
        self.spellings.len() - 1
    }

    /// The spelling each group is shown in, by group index: the one used most often (raw
    /// texts that differ only in whitespace are one spelling), ties to the first seen.
    fn best_spellings(&self) -> Vec<String> {
        let mut counts: Vec<HashMap<&str, (usize, usize)>> =
            (0..self.groups.len()).map(|_| HashMap::new()).collect();
        for (order, s) in self.spellings.iter().enumerate() {
            if let Some(g) = s.group {
                counts[g].entry(s.text.as_str()).or_insert((0, order)).0 += s.count;
            }
        }
        counts
            .into_iter()
            .map(|spellings| {
                spellings
                    .into_iter()
                    .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))
                    .map(|(s, _)| s.to_string())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// Each raw text added, mapped to the spelling its group is shown in (empty texts are
    /// left out): what the CSV writes, so its rows count up to the report's groups.
    pub fn shown_as(&self) -> HashMap<String, String> {
        let best = self.best_spellings();
        self.raw
            .iter()
            .filter_map(|(raw, &i)| {
                let group = self.spellings[i].group?;
                Some((raw.clone(), best[group].clone()))
            })
            .collect()
    }

    /// The groups as (spelling, members), largest first, then alphabetically by key.
    pub fn into_sorted(self) -> Vec<(String, Vec<T>)> {
        let best = self.best_spellings();
        let mut out: Vec<(String, String, Vec<T>)> = self
            .groups
            .into_iter()
            .zip(best)
            .map(|((key, members), spelling)| (key, spelling, members))
            .collect();
        out.sort_by(|a, b| b.2.len().cmp(&a.2.len()).then_with(|| a.0.cmp(&b.0)));
        out.into_iter().map(|(_, s, m)| (s, m)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_excel_percentile_inc() {
        let mut v = vec![4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(&mut v, 0.5), Some(2.5));
        // rank 0.9 * 3 = 2.7: 3 + 0.7 * (4 - 3)
        assert!((quantile(&mut v, 0.9).unwrap() - 3.7).abs() < 1e-9);
        assert_eq!(quantile(&mut [7.0], 0.9), Some(7.0));
        assert_eq!(quantile(&mut [], 0.5), None);
        let mut ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert!((quantile(&mut ten, 0.9).unwrap() - 9.1).abs() < 1e-9);
    }

    #[test]
    fn hand_typed_text_is_grouped_in_its_most_common_spelling() {
        assert_eq!(
            normalise("  Levering  te LAAT. ").as_deref(),
            Some("levering te laat")
        );
        assert_eq!(normalise(" . "), None);
        let mut g = TextGroups::new();
        for (text, n) in [
            ("Levering te laat", 1),
            ("levering te laat.", 2),
            ("levering te laat.", 3),
            ("Verkeerd adres", 4),
            ("", 5),
        ] {
            g.add(text, n);
        }
        let shown = g.shown_as();
        assert_eq!(shown["Levering te laat"], "levering te laat.");
        assert!(!shown.contains_key(""));
        let sorted = g.into_sorted();
        assert_eq!(sorted.len(), 2);
        assert_eq!(sorted[0].0, "levering te laat.");
        assert_eq!(sorted[0].1, vec![1, 2, 3]);
        assert_eq!(sorted[1], ("Verkeerd adres".to_string(), vec![4]));
    }
}
