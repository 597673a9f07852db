//! The report's charts, drawn by plotters' SVG backend into strings that the HTML embeds
//! inline (no scripts, no external files; plotters escapes the text it draws).
//!
//! Sizes are in CSS pixels at the page's width (about 860 px between the A4 margins); the
//! HTML lets them scale down on narrow screens. Labels longer than [`MAX_LABEL`] characters
//! are shortened with an ellipsis: the table under each chart has them in full.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Width of every chart.
pub const WIDTH: u32 = 860;
/// Longest label drawn in full.
pub const MAX_LABEL: usize = 34;

const FONT: &str = "sans-serif";
/// Bars of this period.
pub const BLUE: RGBColor = RGBColor(0x2f, 0x6f, 0x9f);
/// The previous period.
pub const ORANGE: RGBColor = RGBColor(0xe0, 0x7b, 0x39);
/// Deadline states, in [`crate::report::figures::DeadlineState::ALL`] order.
pub const STATES: [RGBColor; 4] = [
    RGBColor(0x2e, 0x8b, 0x57),
    RGBColor(0xc0, 0x39, 0x2b),
    RGBColor(0xf0, 0xad, 0x4e),
    RGBColor(0xb0, 0xb7, 0xbf),
];
const AXIS: RGBColor = RGBColor(0x55, 0x5f, 0x69);
const GRID: RGBColor = RGBColor(0xe3, 0xe7, 0xeb);

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Draws on a fresh SVG of `height` and returns its text.
fn svg(height: u32, draw: impl FnOnce(&Area<'_>) -> anyhow::Result<()>) -> anyhow::Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(out)
}

fn style(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&AXIS)
}

/// `label` cut to [`MAX_LABEL`] characters.
pub fn shorten(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL {
        return label.to_string();
    }
    let cut: String = label.chars().take(MAX_LABEL - 1).collect();
    format!("{}…", cut.trim_end())
}

fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[allow(clippy::cast_precision_loss)] // counts are far below 2^53
fn to_f64(n: usize) -> f64 {
    n as f64
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The top of a count axis: room above the largest value for its label, and whole numbers
/// so that the axis never shows "1, 1, 2, 2" for small counts.
fn count_axis_top(largest: usize, headroom: f64) -> u32 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // small, positive
    let with_room = (to_f64(largest.max(1)) * headroom).ceil() as u32;
    with_room.max(to_u32(largest) + 1)
}

/// A column per month (this period), and the previous period as a line with points.
pub fn months(
    labels: &[String],
    current: &[usize],
    previous: Option<&[usize]>,
    legend: (&str, &str),
) -> anyhow::Result<String> {
    let n = to_i32(labels.len().max(1));
    let top = current
        .iter()
        .chain(previous.unwrap_or(&[]))
        .copied()
        .max()
        .unwrap_or(0);
    let y_max = count_axis_top(top, 1.18);
    svg(300, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(48)
            .build_cartesian_2d((0..n).into_segmented(), 0u32..y_max)?;
        let label_of = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| labels.get(i))
                .cloned()
                .unwrap_or_default(),
            SegmentValue::Last => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .axis_style(AXIS)
            .x_labels(labels.len())
            .y_labels(6)
            .x_label_formatter(&label_of)
            .label_style(style(13))
            .draw()?;
        chart.draw_series(current.iter().enumerate().map(|(i, &v)| {
            let i = to_i32(i);
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0),
                    (SegmentValue::Exact(i + 1), to_u32(v)),
                ],
                BLUE.filled(),
            );
            bar.set_margin(0, 0, 6, 6);
            bar
        }))?;
        chart.draw_series(
            current
                .iter()
                .enumerate()
                .filter(|(_, v)| **v > 0)
                .map(|(i, &v)| {
                    let at = (SegmentValue::CenterOf(to_i32(i)), to_u32(v));
                    let pos = Pos::new(HPos::Center, VPos::Bottom);
                    Text::new(v.to_string(), at, style(12).pos(pos))
                }),
        )?;
        if let Some(prev) = previous {
            let points = prev
                .iter()
                .enumerate()
                .map(|(i, &v)| (SegmentValue::CenterOf(to_i32(i)), to_u32(v)));
            chart
                .draw_series(LineSeries::new(points.clone(), ORANGE.stroke_width(2)))?
                .label(legend.1)
                .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], ORANGE.stroke_width(2)));
            chart.draw_series(points.map(|p| Circle::new(p, 3, ORANGE.filled())))?;
            // A zero-size series only to put "this period" in the legend.
            chart
                .draw_series(std::iter::empty::<Rectangle<(SegmentValue<i32>, u32)>>())?
                .label(legend.0)
                .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], BLUE.filled()));
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.9))
                .border_style(GRID)
                .label_font(style(12))
                .draw()?;
        }
        Ok(())
    })
}

/// Horizontal bars, one per `(label, count)`, first at the top, with the count beside each.
pub fn bars(items: &[(String, usize)]) -> anyhow::Result<String> {
    let n = to_i32(items.len().max(1));
    let top = items.iter().map(|(_, v)| *v).max().unwrap_or(0);
    let x_max = count_axis_top(top, 1.12);
    let longest = items
        .iter()
        .map(|(l, _)| shorten(l).chars().count())
        .max()
        .unwrap_or(4);
    let label_width = u32::try_from(longest.clamp(4, MAX_LABEL) * 7 + 16).unwrap_or(260);
    let height = 36 + 26 * u32::try_from(items.len().max(1)).unwrap_or(1);
    // Index 0 is drawn at the bottom of a y axis: item i goes to n - 1 - i.
    let row = move |i: usize| n - 1 - to_i32(i);
    svg(height, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(8)
            .x_label_area_size(22)
            .y_label_area_size(label_width)
            .build_cartesian_2d(0u32..x_max, (0..n).into_segmented())?;
        let label_of = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(r) => usize::try_from(n - 1 - r)
                .ok()
                .and_then(|i| items.get(i))
                .map(|(l, _)| shorten(l))
                .unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .axis_style(AXIS)
            .y_labels(items.len().max(1))
            .x_labels(6)
            .y_label_formatter(&label_of)
            .label_style(style(13))
            .draw()?;
        chart.draw_series(items.iter().enumerate().map(|(i, (_, v))| {
            let r = row(i);
            let mut bar = Rectangle::new(
                [
                    (0, SegmentValue::Exact(r)),
                    (to_u32(*v), SegmentValue::Exact(r + 1)),
                ],
                BLUE.filled(),
            );
            bar.set_margin(4, 4, 0, 0);
            bar
        }))?;
        chart.draw_series(items.iter().enumerate().map(|(i, (_, v))| {
            let at = (to_u32(*v), SegmentValue::CenterOf(row(i)));
            let pos = Pos::new(HPos::Left, VPos::Center);
            Text::new(format!(" {v}"), at, style(12).pos(pos))
        }))?;
        Ok(())
    })
}

/// One 100 % bar per deadline, split into the states' shares, with a legend of the states.
pub fn stacked(rows: &[(String, [usize; 4])], states: [&str; 4]) -> anyhow::Result<String> {
    let n = to_i32(rows.len().max(1));
    let height = 60 + 34 * u32::try_from(rows.len().max(1)).unwrap_or(1);
    svg(height, |root| {
        let (legend_area, plot) = root.split_vertically(30);
        for (k, (name, color)) in states.iter().zip(STATES).enumerate() {
            let x = 12 + 150 * to_i32(k);
            legend_area.draw(&Rectangle::new([(x, 10), (x + 14, 24)], color.filled()))?;
            legend_area.draw(&Text::new(
                name.to_string(),
                (x + 20, 17),
                style(13).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        let mut chart = ChartBuilder::on(&plot)
            .margin(8)
            .margin_right(28)
            .x_label_area_size(22)
            .y_label_area_size(190)
            .build_cartesian_2d(0f64..100f64, (0..n).into_segmented())?;
        let label_of = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(r) => usize::try_from(n - 1 - r)
                .ok()
                .and_then(|i| rows.get(i))
                .map(|(l, _)| shorten(l))
                .unwrap_or_default(),
            _ => String::new(),
        };
        let pct = |x: &f64| format!("{x:.0}%");
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .axis_style(AXIS)
            .y_labels(rows.len().max(1))
            .x_labels(6)
            .y_label_formatter(&label_of)
            .x_label_formatter(&pct)
            .label_style(style(13))
            .draw()?;
        for (i, (_, counts)) in rows.iter().enumerate() {
            let r = n - 1 - to_i32(i);
            let total = to_f64(counts.iter().sum::<usize>().max(1));
            let mut from = 0.0;
            for (count, color) in counts.iter().zip(STATES) {
                let to = from + to_f64(*count) * 100.0 / total;
                let mut bar = Rectangle::new(
                    [
                        (from, SegmentValue::Exact(r)),
                        (to, SegmentValue::Exact(r + 1)),
                    ],
                    color.filled(),
                );
                bar.set_margin(5, 5, 0, 0);
                chart.draw_series(std::iter::once(bar))?;
                from = to;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_escaped_labels() {
        let bars = bars(&[("<script>".into(), 3), ("Levering".into(), 1)]).unwrap();
        assert!(bars.starts_with("<svg"), "{}", &bars[..80]);
        assert!(bars.contains("&lt;script&gt;"));
        assert!(!bars.contains("<script>"));
        let months = months(
            &["jan".into(), "feb".into()],
            &[2, 0],
            Some(&[1, 1]),
            ("2026", "2025"),
        )
        .unwrap();
        assert!(months.contains("<rect") && months.contains("<polyline"));
        let stacked = stacked(&[("Ontvangst".into(), [3, 1, 0, 0])], ["a", "b", "c", "d"]);
        assert!(stacked.unwrap().contains("<rect"));
    }

    #[test]
    fn long_labels_are_shortened() {
        let long = "x".repeat(50);
        assert_eq!(shorten(&long).chars().count(), MAX_LABEL);
        assert_eq!(shorten("kort"), "kort");
    }
}
