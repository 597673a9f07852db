//! The closing sections: recommendations and measures, and the comparison with the previous
//! period.

use std::fmt::Write as _;

use super::Page;
use crate::report::figures::{Bucket, BucketKey, Figures, Milestone};
use crate::report::format::{self, escape};
use crate::report::labels::{code, fill};

pub(super) fn recommendations_and_measures(p: &mut Page, f: &Figures) {
    let l = p.l;
    let tz = f.period.time_zone().clone();
    let day = |p: &Page, t| format::date_short(p.lang, format::local_date(t, &tz));
    p.section("recommendations", l.recommendations);
    if f.recommendations.is_empty() {
        p.note(l.no_recommendations);
    } else {
        let _ = write!(
            p.out,
            "<table data-list=\"recommendations\">\n<thead><tr><th>{}</th><th>{}</th>\
             <th>{}</th></tr></thead>\n<tbody>\n",
            l.date, l.recommendation, l.reference
        );
        for r in &f.recommendations {
            let reference = r.reference.map(|r| r.to_string()).unwrap_or_default();
            let _ = writeln!(
                p.out,
                "<tr><td class=\"ref\">{}</td><td>{}</td><td class=\"ref\">{reference}</td></tr>",
                day(p, r.made_at),
                escape(&r.text)
            );
        }
        p.out.push_str("</tbody>\n</table>\n");
    }
    let _ = writeln!(p.out, "<h2>{}</h2>", l.measures);
    if f.measures.is_empty() {
        p.note(l.no_measures);
        p.end_section();
        return;
    }
    p.note(l.measures_note);
    // Statuses are recorded as words (`decided`, `done`): shown translated where known.
    let summary: Vec<Bucket> = f
        .measures_by_status
        .iter()
        .map(|b| match &b.key {
            BucketKey::Text(status) => Bucket {
                key: BucketKey::Text(code(p.lang, status).unwrap_or(status).to_string()),
                count: b.count,
            },
            _ => b.clone(),
        })
        .collect();
    p.breakdown_of(
        "measure_status",
        l.status,
        &summary,
        f.measures.len(),
        l.measures,
    );
    let _ = write!(
        p.out,
        "<table data-list=\"measures\">\n<thead><tr><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th></tr></thead>\n<tbody>\n",
        l.decided, l.measure, l.status, l.reference
    );
    for m in &f.measures {
        let reference = m.reference.map(|r| r.to_string()).unwrap_or_default();
        let status = code(p.lang, m.status.trim()).unwrap_or(&m.status);
        let _ = writeln!(
            p.out,
            "<tr><td class=\"ref\">{}</td><td>{}</td><td>{}</td><td class=\"ref\">{reference}</td></tr>",
            day(p, m.decided_at),
            escape(&m.text),
            escape(status)
        );
    }
    p.out.push_str("</tbody>\n</table>\n");
    p.end_section();
}

/// One line of the comparison: a label and the value in both periods.
enum Line {
    Count(String, usize, usize),
    Days(String, Option<f64>, Option<f64>),
    Share(String, Option<f64>, Option<f64>),
}

pub(super) fn comparison(p: &mut Page, f: &Figures) {
    let l = p.l;
    p.section("comparison", l.comparison);
    let Some(prev) = f.previous.as_deref() else {
        if let Some(period) = f.period.previous() {
            let note = fill(
                l.no_comparison,
                &[
                    ("from", &format::date_long(p.lang, period.from())),
                    ("to", &format::date_long(p.lang, period.to())),
                ],
            );
            p.note(&note);
        }
        p.end_section();
        return;
    };
    let _ = write!(
        p.out,
        "<table data-list=\"comparison\">\n<thead><tr><th></th><th class=\"num\">{} ({})</th>\
         <th class=\"num\">{} ({})</th><th class=\"num\">{}</th></tr></thead>\n<tbody>\n",
        l.this_period,
        escape(&span(p, &f.period)),
        l.previous_period,
        escape(&span(p, &prev.period)),
        l.change
    );
    for line in lines(p, f, prev) {
        row(p, &line);
    }
    p.out.push_str("</tbody>\n</table>\n");
    p.end_section();
}

fn span(p: &Page, period: &crate::report::Period) -> String {
    match period.calendar_year() {
        Some(y) => y.to_string(),
        None => format!(
            "{} \u{2013} {}",
            format::date_short(p.lang, period.from()),
            format::date_short(p.lang, period.to())
        ),
    }
}

fn lines(p: &Page, f: &Figures, prev: &Figures) -> Vec<Line> {
    let l = p.l;
    let count_of = |fig: &Figures,
                    key: &BucketKey,
                    pick: fn(&Figures) -> &[crate::report::figures::Bucket]| {
        pick(fig)
            .iter()
            .find(|b| &b.key == key)
            .map_or(0, |b| b.count)
    };
    let mut out = vec![Line::Count(l.received.into(), f.total, prev.total)];
    for b in &f.by_channel {
        let n = count_of(prev, &b.key, |x| &x.by_channel);
        out.push(Line::Count(
            format!("{}: {}", l.channel, p.bucket_label(&b.key)),
            b.count,
            n,
        ));
    }
    let structural = BucketKey::Code("structural");
    out.push(Line::Count(
        l.structural_count.into(),
        count_of(f, &structural, |x| &x.by_classification),
        count_of(prev, &structural, |x| &x.by_classification),
    ));
    for b in &f.outcomes.by_outcome {
        let n = count_of(prev, &b.key, |x| &x.outcomes.by_outcome);
        out.push(Line::Count(
            format!("{}: {}", l.outcome, p.bucket_label(&b.key)),
            b.count,
            n,
        ));
    }
    out.push(Line::Count(
        l.still_open.into(),
        f.outcomes.open,
        prev.outcomes.open,
    ));
    let to_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    out.push(Line::Count(
        l.rejected_proposals.into(),
        to_usize(f.outcomes.rejected_proposals),
        to_usize(prev.outcomes.rejected_proposals),
    ));
    out.push(Line::Count(
        l.reopenings.into(),
        to_usize(f.outcomes.reopenings),
        to_usize(prev.outcomes.reopenings),
    ));
    let median = |fig: &Figures, m: Milestone| {
        fig.lead_times
            .iter()
            .find(|t| t.milestone == m)
            .and_then(|t| t.calendar_days)
            .map(|q| q.median)
    };
    for m in [Milestone::Solved, Milestone::Closed] {
        let name = m.as_str();
        let label = format!(
            "{} \u{2192} {}",
            l.median_days,
            code(p.lang, name).unwrap_or(name)
        );
        out.push(Line::Days(label, median(f, m), median(prev, m)));
    }
    for (d, pd) in f.deadlines.iter().zip(&prev.deadlines) {
        let name = d.kind.as_str();
        let label = format!("{}: {}", code(p.lang, name).unwrap_or(name), l.met_share);
        out.push(Line::Share(label, d.met_share(), pd.met_share()));
    }
    out
}

fn row(p: &mut Page, line: &Line) {
    let dash = || "\u{2013}".to_string();
    let (label, now, before, change) = match line {
        Line::Count(label, a, b) => {
            let diff =
                i64::try_from(*a).unwrap_or(i64::MAX) - i64::try_from(*b).unwrap_or(i64::MAX);
            (
                label,
                format::int(p.lang, *a),
                format::int(p.lang, *b),
                format::signed(p.lang, diff),
            )
        }
        Line::Days(label, a, b) => {
            let show = |v: &Option<f64>| v.map_or_else(dash, |v| format::decimal(p.lang, v, 1));
            let change = match (a, b) {
                (Some(a), Some(b)) => signed_decimal(p, a - b),
                _ => dash(),
            };
            (label, show(a), show(b), change)
        }
        Line::Share(label, a, b) => {
            let show = |v: &Option<f64>| v.map_or_else(dash, |v| format::percent(p.lang, v));
            let change = match (a, b) {
                (Some(a), Some(b)) => format!("{} pp", signed_decimal(p, (a - b) * 100.0)),
                _ => dash(),
            };
            (label, show(a), show(b), change)
        }
    };
    let _ = writeln!(
        p.out,
        "<tr><td>{}</td><td class=\"num\">{now}</td><td class=\"num\">{before}</td>\
         <td class=\"num\">{change}</td></tr>",
        escape(label)
    );
}

fn signed_decimal(p: &Page, x: f64) -> String {
    let text = format::decimal(p.lang, x.abs(), 1);
    if text.chars().all(|c| c == '0' || c == ',' || c == '.') {
        return text;
    }
    if x > 0.0 {
        format!("+{text}")
    } else {
        format!("\u{2212}{text}")
    }
}
