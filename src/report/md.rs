//! The report as Markdown: the same figures as the HTML, as tables without charts, for a
//! mail body, a wiki or a terminal. Text from the register is escaped (`|`, `*`, `_`, `[`,
//! `<` and the like) so it cannot break a table or turn into a link.

use std::fmt::Write as _;

use super::Options;
use super::figures::{Bucket, BucketKey, DeadlineState, Figures};
use super::format;
use super::html::title;
use super::labels::{Labels, code, labels};
use crate::config::Language;

/// Renders the figures as Markdown.
pub fn render(f: &Figures, options: &Options) -> String {
    let lang = options.language;
    let l = labels(lang);
    let mut out = String::with_capacity(16 * 1024);
    let _ = writeln!(out, "# {}\n", escape(&title(f, lang)));
    let tz = f.period.time_zone();
    let _ = writeln!(
        out,
        "{} · {}\n",
        escape(&options.organisation),
        format::date_long(lang, format::local_date(f.as_of, tz))
    );
    let privacy = if options.with_names {
        l.with_names
    } else {
        l.without_names
    };
    let _ = writeln!(out, "{privacy}\n");
    let n = |x: usize| format::int(lang, x);

    let _ = writeln!(out, "## {}\n", l.per_month);
    let _ = writeln!(out, "| {} | {} |\n| --- | ---: |", l.month, l.count);
    for m in &f.per_month {
        let month = format::month_name(lang, m.month);
        let _ = writeln!(out, "| {month} {} | {} |", m.year, n(m.count));
    }
    let _ = writeln!(out, "| **{}** | **{}** |\n", l.complaints, n(f.total));

    for (heading, buckets) in [
        (l.channel, &f.by_channel),
        (l.origin, &f.by_origin),
        (l.customer_type, &f.by_customer_type),
        (l.category, &f.by_category),
        (l.department, &f.by_department),
        (l.classification, &f.by_classification),
    ] {
        breakdown(&mut out, lang, l, heading, buckets);
    }

    let mut outcomes = f.outcomes.by_outcome.clone();
    outcomes.push(Bucket {
        key: BucketKey::Text(l.still_open.into()),
        count: f.outcomes.open,
    });
    breakdown(&mut out, lang, l, l.outcomes, &outcomes);
    let o = &f.outcomes;
    let _ = writeln!(
        out,
        "- {}: {}\n- {}: {}\n",
        l.rejected_proposals, o.rejected_proposals, l.reopenings, o.reopenings
    );

    lead_and_deadlines(&mut out, f, lang, l);

    let _ = writeln!(out, "## {}\n", l.root_causes);
    let _ = writeln!(out, "| {} | {} |\n| --- | ---: |", l.root_cause, l.count);
    for g in &f.root_causes {
        let _ = writeln!(out, "| {} | {} |", escape(&g.cause), n(g.references.len()));
    }
    let _ = writeln!(
        out,
        "| {} | {} |\n",
        l.without_root_cause,
        n(f.without_root_cause)
    );

    let _ = writeln!(out, "## {}\n", l.recommendations);
    for r in &f.recommendations {
        let _ = writeln!(out, "- {}", escape(&r.text));
    }
    let _ = writeln!(out, "\n## {}\n", l.measures);
    for m in &f.measures {
        let status = code(lang, m.status.trim()).unwrap_or(&m.status);
        let _ = writeln!(out, "- {} ({})", escape(&m.text), escape(status));
    }
    if let Some(prev) = &f.previous {
        let _ = writeln!(
            out,
            "\n## {}\n\n| | {} | {} |\n| --- | ---: | ---: |\n| {} | {} | {} |",
            l.comparison,
            l.this_period,
            l.previous_period,
            l.received,
            n(f.total),
            n(prev.total)
        );
    }
    out
}

fn breakdown(out: &mut String, lang: Language, l: &Labels, heading: &str, buckets: &[Bucket]) {
    let _ = writeln!(out, "## {heading}\n\n| | {} |\n| --- | ---: |", l.count);
    for b in buckets {
        let label = match &b.key {
            BucketKey::Code(c) => code(lang, c).unwrap_or(c).to_string(),
            BucketKey::Text(t) => t.clone(),
            BucketKey::NotSet => l.not_set.to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} |",
            escape(&label),
            format::int(lang, b.count)
        );
    }
    out.push('\n');
}

fn lead_and_deadlines(out: &mut String, f: &Figures, lang: Language, l: &Labels) {
    let _ = writeln!(
        out,
        "## {}\n\n| {} | {} | {} | {} | {} | {} |\n| --- | ---: | ---: | ---: | ---: | ---: |",
        l.lead_times,
        l.milestone,
        l.reached,
        l.median_days,
        l.p90_days,
        l.median_working,
        l.p90_working
    );
    let dec = |v: Option<f64>| v.map_or("\u{2013}".into(), |v| format::decimal(lang, v, 1));
    for t in &f.lead_times {
        let name = t.milestone.as_str();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            code(lang, name).unwrap_or(name),
            t.count,
            dec(t.calendar_days.map(|q| q.median)),
            dec(t.calendar_days.map(|q| q.p90)),
            dec(t.working_days.map(|q| q.median)),
            dec(t.working_days.map(|q| q.p90)),
        );
    }
    let states = DeadlineState::ALL.map(|s| code(lang, s.as_str()).unwrap_or(s.as_str()));
    let _ = writeln!(
        out,
        "\n## {}\n\n| {} | {} | {} | {} | {} | {} |\n| --- | ---: | ---: | ---: | ---: | ---: |",
        l.deadlines, l.deadline, states[0], states[1], states[2], states[3], l.met_share
    );
    for d in &f.deadlines {
        let name = d.kind.as_str();
        let share = d
            .met_share()
            .map_or("\u{2013}".into(), |s| format::percent(lang, s));
        let [a, b, c, e] = d.counts;
        let label = code(lang, name).unwrap_or(name);
        let _ = writeln!(out, "| {label} | {a} | {b} | {c} | {e} | {share} |");
    }
    out.push('\n');
}

/// Register text made inert for Markdown: one line, no table breaks, links or HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' | '*' | '_' | '[' | ']' | '`' | '\\' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_text_cannot_break_a_table_or_make_a_link() {
        assert_eq!(escape("a|b [x](y) <b>\nz"), "a\\|b \\[x\\](y) &lt;b&gt; z");
    }
}
