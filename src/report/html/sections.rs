//! The first sections of the HTML report: key figures, months, where complaints came from,
//! what they were about, incident or structural.

use std::fmt::Write as _;

use super::Page;
use crate::report::Period;
use crate::report::charts;
use crate::report::figures::{BucketKey, Figures, Milestone};
use crate::report::format::{self, escape};
use crate::report::labels::code;

/// How many bars a chart of hand-typed values shows (the table shows them all).
pub(super) const CHART_TOP: usize = 15;

pub(super) fn key_figures(p: &mut Page, f: &Figures) {
    let l = p.l;
    p.section("key-figures", l.key_figures);
    if f.total == 0 {
        p.note(l.no_complaints);
    }
    let dash = "\u{2013}".to_string();
    let ack = f.deadlines.first().and_then(|d| d.met_share());
    let to_solution = f
        .lead_times
        .iter()
        .find(|t| t.milestone == Milestone::Solved)
        .and_then(|t| t.calendar_days);
    let cards = [
        ("total", l.received.to_string(), Some(f.total)),
        (
            "structural",
            l.structural_count.to_string(),
            Some(structural(f)),
        ),
        (
            "closed",
            l.closed.to_string(),
            Some(f.total - f.outcomes.open),
        ),
        ("open", l.still_open.to_string(), Some(f.outcomes.open)),
        (
            "acknowledged-in-time",
            format!(
                "{}: {}",
                code(p.lang, "acknowledge").unwrap_or(""),
                l.met_share
            ),
            None,
        ),
        ("median-to-solution", l.median_to_solution.to_string(), None),
    ];
    p.out.push_str("<div class=\"cards\">\n");
    for (id, label, n) in cards {
        let value = match (id, n) {
            (_, Some(n)) => format!("<span data-n=\"{n}\">{}</span>", format::int(p.lang, n)),
            ("acknowledged-in-time", _) => ack.map_or(dash.clone(), |s| format::percent(p.lang, s)),
            _ => to_solution.map_or(dash.clone(), |q| {
                format!("{} {}", format::decimal(p.lang, q.median, 1), l.days)
            }),
        };
        let _ = writeln!(
            p.out,
            "<div class=\"card\" data-figure=\"{id}\"><div class=\"value\">{value}</div>\
             <div class=\"label\">{}</div></div>",
            escape(&label)
        );
    }
    p.out.push_str("</div>\n");
}

fn structural(f: &Figures) -> usize {
    f.by_classification
        .iter()
        .find(|b| b.key == BucketKey::Code("structural"))
        .map_or(0, |b| b.count)
}

/// "2026" for a calendar year, else "1 jan 2026 – 30 jun 2026".
fn period_label(p: &Page, period: &Period) -> String {
    match period.calendar_year() {
        Some(y) => y.to_string(),
        None => format!(
            "{} \u{2013} {}",
            format::date_short(p.lang, period.from()),
            format::date_short(p.lang, period.to())
        ),
    }
}

pub(super) fn per_month(p: &mut Page, f: &Figures) -> anyhow::Result<()> {
    let l = p.l;
    let many_years = f.per_month.first().map(|m| m.year) != f.per_month.last().map(|m| m.year);
    let labels: Vec<String> = f
        .per_month
        .iter()
        .map(|m| match many_years {
            true => format!("{} {}", format::month_short(p.lang, m.month), m.year % 100),
            false => format::month_short(p.lang, m.month).to_string(),
        })
        .collect();
    let current: Vec<usize> = f.per_month.iter().map(|m| m.count).collect();
    let previous: Option<Vec<usize>> = f
        .previous
        .as_ref()
        .filter(|prev| prev.per_month.len() == f.per_month.len())
        .map(|prev| prev.per_month.iter().map(|m| m.count).collect());
    let this = period_label(p, &f.period);
    let before = f
        .period
        .previous()
        .map_or_else(String::new, |prev| period_label(p, &prev));
    let svg = charts::months(&labels, &current, previous.as_deref(), (&this, &before))?;
    let _ = writeln!(p.out, "<h3>{}</h3>", l.per_month);
    p.chart(&svg, l.per_month);
    let _ = write!(
        p.out,
        "<table data-dim=\"month\">\n<thead><tr><th>{}</th><th class=\"num\">{}</th>",
        l.month,
        escape(&this)
    );
    if previous.is_some() {
        let _ = write!(p.out, "<th class=\"num\">{}</th>", escape(&before));
    }
    p.out.push_str("</tr></thead>\n<tbody>\n");
    for (i, m) in f.per_month.iter().enumerate() {
        let _ = write!(
            p.out,
            "<tr data-dim=\"month\" data-key=\"{:04}-{:02}\"><td>{} {}</td>",
            m.year,
            m.month,
            format::month_name(p.lang, m.month),
            m.year
        );
        p.num_cell(m.count);
        if let Some(prev) = &previous {
            p.num_cell(prev[i]);
        }
        p.out.push_str("</tr>\n");
    }
    let _ = write!(p.out, "</tbody>\n<tfoot><tr><td>{}</td>", l.complaints);
    p.num_cell(f.total);
    if let Some(prev) = &previous {
        p.num_cell(prev.iter().sum());
    }
    p.out.push_str("</tr></tfoot>\n</table>\n");
    p.end_section();
    Ok(())
}

/// A breakdown under its own heading: a bar chart (the largest [`CHART_TOP`]) and the table.
fn dimension(
    p: &mut Page,
    dim: &str,
    heading: &str,
    buckets: &[crate::report::figures::Bucket],
    total: usize,
) -> anyhow::Result<()> {
    let _ = writeln!(p.out, "<h3>{}</h3>", escape(heading));
    if total > 0 {
        let items: Vec<(String, usize)> = buckets
            .iter()
            .take(CHART_TOP)
            .map(|b| (p.bucket_label(&b.key), b.count))
            .collect();
        let svg = charts::bars(&items)?;
        p.chart(&svg, heading);
    }
    p.breakdown(dim, heading, buckets, total);
    Ok(())
}

pub(super) fn sources(p: &mut Page, f: &Figures) -> anyhow::Result<()> {
    let l = p.l;
    p.section("sources", l.sources);
    dimension(p, "channel", l.channel, &f.by_channel, f.total)?;
    dimension(p, "origin", l.origin, &f.by_origin, f.total)?;
    dimension(
        p,
        "customer_type",
        l.customer_type,
        &f.by_customer_type,
        f.total,
    )?;
    p.end_section();
    Ok(())
}

pub(super) fn subjects(p: &mut Page, f: &Figures) -> anyhow::Result<()> {
    let l = p.l;
    p.section("subjects", l.subjects);
    dimension(p, "category", l.category, &f.by_category, f.total)?;
    dimension(p, "department", l.department, &f.by_department, f.total)?;
    p.end_section();
    Ok(())
}

pub(super) fn classification(p: &mut Page, f: &Figures) -> anyhow::Result<()> {
    let l = p.l;
    p.section("classification", l.incident_structural);
    dimension(
        p,
        "classification",
        l.classification,
        &f.by_classification,
        f.total,
    )?;
    let _ = writeln!(p.out, "<h3>{}</h3>", escape(l.structural_list));
    if f.structural.is_empty() {
        p.note(l.no_structural);
        p.end_section();
        return Ok(());
    }
    let _ = write!(
        p.out,
        "<table class=\"list\" data-list=\"structural\">\n<thead><tr><th>{}</th><th>{}</th>\
         <th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>",
        l.reference, l.date, l.subject, l.category, l.department, l.status, l.root_cause
    );
    if p.with_names {
        let _ = write!(p.out, "<th>{}</th>", l.complainant);
    }
    p.out.push_str("</tr></thead>\n<tbody>\n");
    let tz = f.period.time_zone().clone();
    for c in &f.structural {
        let state = match c.outcome {
            Some(o) => code(p.lang, o.as_str()).unwrap_or(o.as_str()),
            None => code(p.lang, c.status.as_str()).unwrap_or(c.status.as_str()),
        };
        let _ = write!(
            p.out,
            "<tr><td class=\"ref\">{}</td><td class=\"ref\">{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td>",
            c.reference,
            format::date_short(p.lang, format::local_date(c.received_at, &tz)),
            escape(&c.subject),
            escape(c.category.as_deref().unwrap_or("")),
            escape(c.department.as_deref().unwrap_or("")),
            escape(state),
            escape(c.root_cause.as_deref().unwrap_or("")),
        );
        if p.with_names {
            let who = &c.complainant;
            let parts: Vec<&str> = [
                who.name.as_deref(),
                who.email.as_ref().map(AsRef::as_ref),
                who.phone.as_deref(),
                who.organisation.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect();
            let _ = write!(p.out, "<td>{}</td>", escape(&parts.join(", ")));
        }
        p.out.push_str("</tr>\n");
    }
    p.out.push_str("</tbody>\n</table>\n");
    p.end_section();
    Ok(())
}
