//! The sections on how complaints were handled: outcomes, lead times, deadlines and root
//! causes.

use std::fmt::Write as _;

use super::Page;
use super::sections::CHART_TOP;
use crate::report::charts;
use crate::report::figures::{Bucket, BucketKey, DeadlineState, Figures};
use crate::report::format::{self, escape};
use crate::report::labels::{code, fill};

/// How many references a root-cause line lists before "and n more".
const REFERENCES_SHOWN: usize = 12;

pub(super) fn outcomes(p: &mut Page, f: &Figures) -> anyhow::Result<()> {
    let l = p.l;
    p.section("outcomes", l.outcomes);
    let mut buckets = f.outcomes.by_outcome.clone();
    buckets.push(Bucket {
        key: BucketKey::Code("open"),
        count: f.outcomes.open,
    });
    let label = |p: &Page, key: &BucketKey| match key {
        BucketKey::Code("open") => l.still_open.to_string(),
        other => p.bucket_label(other),
    };
    if f.total > 0 {
        let items: Vec<(String, usize)> = buckets
            .iter()
            .map(|b| (label(p, &b.key), b.count))
            .collect();
        p.chart(&charts::bars(&items)?, l.outcomes);
    }
    // The table by hand: "open" is no vocabulary value, so it needs its own label.
    let _ = write!(
        p.out,
        "<table class=\"breakdown\" data-dim=\"outcome\">\n<thead><tr><th>{}</th>\
         <th class=\"num\">{}</th><th class=\"num\">{}</th></tr></thead>\n<tbody>\n",
        l.outcome, l.count, l.share
    );
    for b in &buckets {
        let key = match &b.key {
            BucketKey::Code(c) => *c,
            _ => "",
        };
        let _ = write!(
            p.out,
            "<tr data-dim=\"outcome\" data-key=\"{key}\"><td>{}</td>",
            escape(&label(p, &b.key))
        );
        p.num_cell(b.count);
        let share = p.share(b.count, f.total);
        let _ = writeln!(p.out, "<td class=\"num\">{share}</td></tr>");
    }
    let _ = write!(p.out, "</tbody>\n<tfoot><tr><td>{}</td>", l.complaints);
    p.num_cell(f.total);
    let share = p.share(f.total, f.total);
    let _ = writeln!(
        p.out,
        "<td class=\"num\">{share}</td></tr></tfoot>\n</table>"
    );
    let o = &f.outcomes;
    let lines = [
        (
            "rejected-proposals",
            l.rejected_proposals,
            o.rejected_proposals,
            o.complaints_with_rejections,
        ),
        (
            "reopenings",
            l.reopenings,
            o.reopenings,
            o.complaints_reopened,
        ),
    ];
    p.out.push_str("<table data-list=\"rework\">\n<tbody>\n");
    for (id, label, n, complaints) in lines {
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        let _ = write!(
            p.out,
            "<tr data-dim=\"rework\" data-key=\"{id}\"><td>{label}</td>"
        );
        p.num_cell(n);
        let within = fill(l.in_complaints, &[("n", &format::int(p.lang, complaints))]);
        let _ = writeln!(p.out, "<td>{within}</td></tr>");
    }
    p.out.push_str("</tbody>\n</table>\n");
    p.end_section();
    Ok(())
}

pub(super) fn lead_times(p: &mut Page, f: &Figures) {
    let l = p.l;
    p.section("lead-times", l.lead_times);
    p.note(l.lead_note);
    let _ = write!(
        p.out,
        "<table data-list=\"lead-times\">\n<thead><tr><th>{}</th><th class=\"num\">{}</th>\
         <th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th>\
         <th class=\"num\">{}</th></tr></thead>\n<tbody>\n",
        l.milestone, l.reached, l.median_days, l.p90_days, l.median_working, l.p90_working
    );
    for t in &f.lead_times {
        let name = t.milestone.as_str();
        let _ = write!(
            p.out,
            "<tr data-dim=\"lead\" data-key=\"{name}\"><td>{}</td>",
            code(p.lang, name).unwrap_or(name)
        );
        p.num_cell(t.count);
        for (q, places) in [(t.calendar_days, 1), (t.working_days, 1)] {
            for v in [q.map(|q| q.median), q.map(|q| q.p90)] {
                let text = v.map_or("\u{2013}".into(), |v| format::decimal(p.lang, v, places));
                let raw = v.map_or(String::new(), |v| format!("{v}"));
                let _ = write!(p.out, "<td class=\"num\" data-v=\"{raw}\">{text}</td>");
            }
        }
        p.out.push_str("</tr>\n");
    }
    p.out.push_str("</tbody>\n</table>\n");
    p.end_section();
}

pub(super) fn deadlines(p: &mut Page, f: &Figures) -> anyhow::Result<()> {
    let l = p.l;
    p.section("deadlines", l.deadlines);
    let states = DeadlineState::ALL.map(|s| code(p.lang, s.as_str()).unwrap_or(s.as_str()));
    if f.total > 0 {
        let rows: Vec<(String, [usize; 4])> = f
            .deadlines
            .iter()
            .map(|d| {
                let n = d.kind.as_str();
                (code(p.lang, n).unwrap_or(n).to_string(), d.counts)
            })
            .collect();
        p.chart(&charts::stacked(&rows, states)?, l.deadlines);
    }
    let _ = write!(
        p.out,
        "<table data-list=\"deadlines\">\n<thead><tr><th>{}</th>",
        l.deadline
    );
    for s in states {
        let _ = write!(p.out, "<th class=\"num\">{s}</th>");
    }
    let _ = writeln!(
        p.out,
        "<th class=\"num\">{}</th></tr></thead>\n<tbody>",
        l.met_share
    );
    for d in &f.deadlines {
        let name = d.kind.as_str();
        let _ = write!(
            p.out,
            "<tr data-dim=\"deadline\" data-key=\"{name}\"><td>{}</td>",
            code(p.lang, name).unwrap_or(name)
        );
        for n in d.counts {
            p.num_cell(n);
        }
        let share = d
            .met_share()
            .map_or("\u{2013}".into(), |s| format::percent(p.lang, s));
        let _ = writeln!(p.out, "<td class=\"num\">{share}</td></tr>");
    }
    p.out.push_str("</tbody>\n</table>\n");
    p.note(l.deadline_note);
    p.end_section();
    Ok(())
}

pub(super) fn root_causes(p: &mut Page, f: &Figures) -> anyhow::Result<()> {
    let l = p.l;
    p.section("root-causes", l.root_causes);
    if f.root_causes.is_empty() {
        p.note(l.no_root_causes);
    } else {
        let items: Vec<(String, usize)> = f
            .root_causes
            .iter()
            .take(CHART_TOP)
            .map(|g| (g.cause.clone(), g.references.len()))
            .collect();
        p.chart(&charts::bars(&items)?, l.root_causes);
        let _ = write!(
            p.out,
            "<table class=\"breakdown\" data-dim=\"root_cause\">\n<thead><tr><th>{}</th>\
             <th class=\"num\">{}</th><th>{}</th></tr></thead>\n<tbody>\n",
            l.root_cause, l.count, l.complaints
        );
        for g in &f.root_causes {
            let _ = write!(
                p.out,
                "<tr data-dim=\"root_cause\" data-key=\"{0}\"><td>{0}</td>",
                escape(&g.cause)
            );
            p.num_cell(g.references.len());
            let mut refs: Vec<String> = g
                .references
                .iter()
                .take(REFERENCES_SHOWN)
                .map(ToString::to_string)
                .collect();
            if g.references.len() > REFERENCES_SHOWN {
                let more = format::int(p.lang, g.references.len() - REFERENCES_SHOWN);
                refs.push(fill(l.and_more, &[("n", &more)]));
            }
            let _ = writeln!(
                p.out,
                "<td class=\"refs\">{}</td></tr>",
                escape(&refs.join(", "))
            );
        }
        p.out.push_str("</tbody>\n</table>\n");
    }
    let _ = writeln!(
        p.out,
        "<p data-dim=\"root_cause\" data-key=\"\">{}: <span data-n=\"{}\">{}</span></p>",
        l.without_root_cause,
        f.without_root_cause,
        format::int(p.lang, f.without_root_cause)
    );
    p.end_section();
    Ok(())
}
