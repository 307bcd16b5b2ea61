//! Charts as inline SVG text: lines with confidence bands, grouped bars with interval whiskers, forest plots and heatmaps.
//!
//! Output is deterministic text (the same data gives the same bytes), with
//! no script and no external resource. Every data mark has the class
//! `mark`, every chart the class `chart`, an `id` and a `data-marks` count,
//! so that tests (and a browser) can check that a chart is present and not
//! empty. Axes name their unit.

use std::fmt::Write;

/// Tier colours, fixed across every chart: province, district, commune, then overall.
pub const TIER_COLOURS: [(&str, &str); 4] = [
    ("province", "#1f5fa8"),
    ("district", "#d9822b"),
    ("commune", "#2e8b57"),
    ("overall", "#444444"),
];

/// Colours for other series (reforms, pools, axes values), in order.
pub const PALETTE: [&str; 8] = [
    "#1f5fa8", "#d9822b", "#2e8b57", "#b03a48", "#7b4fa0", "#6b8e23", "#c71585", "#555555",
];

/// The colour of a tier (or `overall`).
pub fn tier_colour(tier: &str) -> &'static str {
    TIER_COLOURS
        .iter()
        .find(|(t, _)| *t == tier)
        .map_or("#444444", |(_, c)| c)
}

/// Escapes text for HTML and SVG.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A value with its 95% interval (the bounds may be `NaN`: no interval).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Mean.
    pub mean: f64,
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

/// A named series of points, one per category (a missing point is `None`).
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// Colour.
    pub colour: String,
    /// One point per category.
    pub points: Vec<Option<Point>>,
}

const W: f64 = 760.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 34.0;
const FONT: &str = "font-family=\"'Noto Sans','DejaVu Sans',Arial,sans-serif\"";

fn f(x: f64) -> String {
    format!("{x:.1}")
}

/// Nice tick values covering `[lo, hi]` (about `n` of them).
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let start = (lo / step).floor() * step;
    (0..=n + 2)
        .map(|i| start + i as f64 * step)
        .filter(|t| *t >= lo - 1e-12 && *t <= hi + 1e-12)
        .collect()
}

/// The y range covering every point's interval, from 0 when all are ≥ 0, padded.
fn y_range(series: &[&[Option<Point>]]) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for s in series {
        for p in s.iter().flatten() {
            for v in [p.mean, p.lo, p.hi] {
                if v.is_finite() {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if lo >= 0.0 {
        lo = 0.0;
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    (lo, hi + (hi - lo) * 0.05)
}

/// The y range covering every point's interval, padded on both sides.
fn fitted_range(series: &[&[Option<Point>]]) -> (f64, f64) {
    let (lo0, hi) = y_range(series);
    let mut lo = f64::INFINITY;
    for s in series {
        for p in s.iter().flatten() {
            for v in [p.mean, p.lo, p.hi] {
                if v.is_finite() {
                    lo = lo.min(v);
                }
            }
        }
    }
    if !lo.is_finite() {
        return (lo0, hi);
    }
    let pad = ((hi - lo) * 0.1).max(1e-9);
    (
        (lo - pad).max(if lo >= 0.0 { 0.0 } else { f64::NEG_INFINITY }),
        hi,
    )
}

/// Formats a tick label with `scale` (100 for percent) and the right decimals.
fn tick_label(t: f64, scale: f64, step: f64) -> String {
    let v = t * scale;
    let d = (-(step * scale).log10().floor()).max(0.0) as usize;
    format!("{v:.d$}")
}

fn open(id: &str, title: &str, h: f64, marks: usize) -> String {
    format!(
        "<svg class=\"chart\" id=\"{}\" data-marks=\"{marks}\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {W} {h}\" width=\"{W}\" height=\"{h}\" xmlns=\"http://www.w3.org/2000/svg\" {FONT} font-size=\"12\">\n<title>{}</title>\n<text x=\"{}\" y=\"18\" font-size=\"14\" font-weight=\"600\">{}</text>\n",
        esc(id),
        esc(title),
        esc(title),
        LEFT,
        esc(title)
    )
}

fn y_axis(
    out: &mut String,
    lo: f64,
    hi: f64,
    y: &dyn Fn(f64) -> f64,
    scale: f64,
    title: &str,
    h: f64,
) {
    let ts = ticks(lo, hi, 5);
    let step = if ts.len() > 1 { ts[1] - ts[0] } else { 1.0 };
    for t in &ts {
        let yy = y(*t);
        let _ = writeln!(
            out,
            "<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            f(LEFT),
            f(W - RIGHT),
            f(yy),
            f(yy),
            f(LEFT - 6.0),
            f(yy + 4.0),
            tick_label(*t, scale, step)
        );
    }
    let _ = writeln!(
        out,
        "<text transform=\"translate(14,{}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        f((TOP + h - 48.0) / 2.0),
        esc(title)
    );
}

fn legend(out: &mut String, items: &[(&str, &str)], y: f64) {
    let mut x = LEFT;
    for (name, colour) in items {
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{colour}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            f(x),
            f(y - 10.0),
            f(x + 16.0),
            f(y),
            esc(name)
        );
        x += 30.0 + 7.6 * name.chars().count() as f64;
    }
}

/// A line chart over categories (months, days), one line per series, each
/// with its 95% band. `scale` multiplies values for the axis labels (100 for
/// percent); `every` labels every n-th category; with `from_zero` the axis
/// starts at 0, else it fits the data (to show a dip of a few points).
#[allow(clippy::too_many_arguments)]
pub fn lines(
    id: &str,
    title: &str,
    categories: &[String],
    series: &[Series],
    y_title: &str,
    scale: f64,
    every: usize,
    from_zero: bool,
) -> String {
    let h = 300.0;
    let bottom = h - 56.0;
    let n = categories.len().max(1);
    let all: Vec<&[Option<Point>]> = series.iter().map(|s| s.points.as_slice()).collect();
    let (lo, hi) = if from_zero {
        y_range(&all)
    } else {
        fitted_range(&all)
    };
    let x = |i: usize| LEFT + 8.0 + (W - LEFT - RIGHT - 16.0) * (i as f64 + 0.5) / n as f64;
    let y = |v: f64| bottom - (bottom - TOP) * (v - lo) / (hi - lo);
    let marks: usize = series
        .iter()
        .map(|s| s.points.iter().flatten().count())
        .sum();
    let mut out = open(id, title, h, marks);
    y_axis(&mut out, lo, hi, &y, scale, y_title, h);
    for (i, c) in categories.iter().enumerate() {
        if i % every.max(1) == 0 {
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\">{}</text>",
                f(x(i)),
                f(bottom + 14.0),
                esc(c)
            );
        }
    }
    for s in series {
        // The band: upper bounds forward, lower bounds back.
        let band: Vec<(usize, Point)> = s
            .points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                p.filter(|p| p.lo.is_finite() && p.hi.is_finite())
                    .map(|p| (i, p))
            })
            .collect();
        if band.len() > 1 {
            let mut d = String::new();
            for (k, (i, p)) in band.iter().enumerate() {
                let _ = write!(
                    d,
                    "{}{},{} ",
                    if k == 0 { "M" } else { "L" },
                    f(x(*i)),
                    f(y(p.hi))
                );
            }
            for (i, p) in band.iter().rev() {
                let _ = write!(d, "L{},{} ", f(x(*i)), f(y(p.lo)));
            }
            let _ = writeln!(
                out,
                "<path class=\"band\" d=\"{}Z\" fill=\"{}\" fill-opacity=\"0.18\" stroke=\"none\"/>",
                d, s.colour
            );
        }
        let mut d = String::new();
        let mut first = true;
        for (i, p) in s.points.iter().enumerate() {
            if let Some(p) = p.filter(|p| p.mean.is_finite()) {
                let _ = write!(
                    d,
                    "{}{},{} ",
                    if first { "M" } else { "L" },
                    f(x(i)),
                    f(y(p.mean))
                );
                first = false;
            }
        }
        let _ = writeln!(
            out,
            "<path class=\"line\" d=\"{d}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
            s.colour
        );
        // Points as marks (small, so that dense daily series stay readable).
        let r = if n > 60 { 0.8 } else { 2.5 };
        for (i, p) in s.points.iter().enumerate() {
            if let Some(p) = p.filter(|p| p.mean.is_finite()) {
                let _ = writeln!(
                    out,
                    "<circle class=\"mark\" cx=\"{}\" cy=\"{}\" r=\"{r}\" fill=\"{}\"><title>{}: {}</title></circle>",
                    f(x(i)),
                    f(y(p.mean)),
                    s.colour,
                    esc(&s.name),
                    esc(&categories[i.min(categories.len().saturating_sub(1))])
                );
            }
        }
    }
    let items: Vec<(&str, &str)> = series
        .iter()
        .map(|s| (s.name.as_str(), s.colour.as_str()))
        .collect();
    legend(&mut out, &items, h - 12.0);
    out.push_str("</svg>\n");
    out
}

/// Grouped bars with 95% whiskers: one group per category, one bar per series.
pub fn bars(
    id: &str,
    title: &str,
    categories: &[String],
    series: &[Series],
    y_title: &str,
    scale: f64,
) -> String {
    let h = 300.0;
    let bottom = h - 56.0;
    let n = categories.len().max(1);
    let all: Vec<&[Option<Point>]> = series.iter().map(|s| s.points.as_slice()).collect();
    let (lo, hi) = y_range(&all);
    let group = (W - LEFT - RIGHT) / n as f64;
    let bw = (group * 0.8 / series.len().max(1) as f64).min(60.0);
    let y = |v: f64| bottom - (bottom - TOP) * (v - lo) / (hi - lo);
    let marks: usize = series
        .iter()
        .map(|s| s.points.iter().flatten().count())
        .sum();
    let mut out = open(id, title, h, marks);
    y_axis(&mut out, lo, hi, &y, scale, y_title, h);
    for (i, c) in categories.iter().enumerate() {
        let cx = LEFT + group * (i as f64 + 0.5);
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            f(cx),
            f(bottom + 16.0),
            esc(c)
        );
        let x0 = cx - bw * series.len() as f64 / 2.0;
        for (k, s) in series.iter().enumerate() {
            let Some(p) = s
                .points
                .get(i)
                .copied()
                .flatten()
                .filter(|p| p.mean.is_finite())
            else {
                continue;
            };
            let x = x0 + bw * k as f64;
            let (top, base) = (y(p.mean.max(lo)), y(0f64.max(lo)));
            let _ = writeln!(
                out,
                "<rect class=\"mark\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} {}: {}</title></rect>",
                f(x + 1.0),
                f(top.min(base)),
                f(bw - 2.0),
                f((base - top).abs()),
                s.colour,
                esc(&s.name),
                esc(c),
                p.mean * scale
            );
            if p.lo.is_finite() && p.hi.is_finite() {
                let mx = x + bw / 2.0;
                let _ = writeln!(
                    out,
                    "<path class=\"whisker\" d=\"M{},{} L{},{} M{},{} L{},{} M{},{} L{},{}\" stroke=\"#222\" fill=\"none\"/>",
                    f(mx),
                    f(y(p.lo)),
                    f(mx),
                    f(y(p.hi)),
                    f(mx - 4.0),
                    f(y(p.lo)),
                    f(mx + 4.0),
                    f(y(p.lo)),
                    f(mx - 4.0),
                    f(y(p.hi)),
                    f(mx + 4.0),
                    f(y(p.hi))
                );
            }
        }
    }
    let items: Vec<(&str, &str)> = series
        .iter()
        .map(|s| (s.name.as_str(), s.colour.as_str()))
        .collect();
    legend(&mut out, &items, h - 12.0);
    out.push_str("</svg>\n");
    out
}

/// A forest plot: one row per labelled estimate with its 95% interval, on a
/// common horizontal axis, with a reference line at zero when `zero`.
pub fn forest(
    id: &str,
    title: &str,
    rows: &[(String, String, Point)],
    x_title: &str,
    scale: f64,
    zero: bool,
) -> String {
    let row_h = 20.0;
    let label_w = 230.0;
    let h = TOP + 20.0 + row_h * rows.len().max(1) as f64 + 44.0;
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for (_, _, p) in rows {
        for v in [p.mean, p.lo, p.hi] {
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    if zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if !lo.is_finite() || hi <= lo {
        lo = -1.0;
        hi = 1.0;
    }
    let pad = (hi - lo) * 0.06;
    let (lo, hi) = (lo - pad, hi + pad);
    let x0 = LEFT + label_w;
    let x = |v: f64| x0 + (W - RIGHT - x0) * (v - lo) / (hi - lo);
    let mut out = open(id, title, h, rows.len());
    let plot_bottom = TOP + 12.0 + row_h * rows.len() as f64;
    let ts = ticks(lo, hi, 5);
    let step = if ts.len() > 1 { ts[1] - ts[0] } else { 1.0 };
    for t in &ts {
        let _ = writeln!(
            out,
            "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#ddd\"/><text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>",
            f(x(*t)),
            f(TOP + 6.0),
            f(plot_bottom),
            f(plot_bottom + 14.0),
            tick_label(*t, scale, step)
        );
    }
    if zero {
        let _ = writeln!(
            out,
            "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#222\" stroke-dasharray=\"4 3\"/>",
            f(x(0.0)),
            f(TOP + 6.0),
            f(plot_bottom)
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        f((x0 + W - RIGHT) / 2.0),
        f(plot_bottom + 32.0),
        esc(x_title)
    );
    for (k, (label, colour, p)) in rows.iter().enumerate() {
        let yy = TOP + 20.0 + row_h * k as f64;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            f(x0 - 8.0),
            f(yy + 4.0),
            esc(label)
        );
        if p.lo.is_finite() && p.hi.is_finite() {
            let _ = writeln!(
                out,
                "<line class=\"whisker\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{colour}\" stroke-width=\"2\"/>",
                f(x(p.lo)),
                f(x(p.hi)),
                f(yy),
                f(yy)
            );
        }
        if p.mean.is_finite() {
            let _ = writeln!(
                out,
                "<rect class=\"mark\" x=\"{}\" y=\"{}\" width=\"8\" height=\"8\" fill=\"{colour}\"><title>{}: {}</title></rect>",
                f(x(p.mean) - 4.0),
                f(yy - 4.0),
                esc(label),
                p.mean * scale
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

/// A heatmap of `values[row][column]`, coloured from light (low) to dark (high).
#[allow(clippy::too_many_arguments)]
pub fn heatmap(
    id: &str,
    title: &str,
    columns: &[String],
    rows: &[String],
    values: &[Vec<Option<f64>>],
    x_title: &str,
    y_title: &str,
    scale: f64,
) -> String {
    let cell_h = 26.0;
    let h = TOP + 20.0 + cell_h * rows.len().max(1) as f64 + 48.0;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.iter().flatten().flatten() {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    if !lo.is_finite() || hi <= lo {
        hi = lo + 1.0;
    }
    let cw = (W - LEFT - RIGHT) / columns.len().max(1) as f64;
    let marks = values.iter().flatten().flatten().count();
    let mut out = open(id, title, h, marks);
    for (r, label) in rows.iter().enumerate() {
        let yy = TOP + 12.0 + cell_h * r as f64;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            f(LEFT - 6.0),
            f(yy + cell_h / 2.0 + 4.0),
            esc(label)
        );
        for (c, v) in values.get(r).into_iter().flatten().enumerate() {
            let Some(v) = v else { continue };
            let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
            // From #f2f5fb to #1f3f78.
            let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
            let colour = format!(
                "#{:02x}{:02x}{:02x}",
                mix(242.0, 31.0),
                mix(245.0, 63.0),
                mix(251.0, 120.0)
            );
            let text = if t > 0.55 { "#fff" } else { "#111" };
            let _ = writeln!(
                out,
                "<rect class=\"mark\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{colour}\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{text}\" font-size=\"11\">{:.2}</text>",
                f(LEFT + cw * c as f64),
                f(yy),
                f(cw - 1.0),
                f(cell_h - 1.0),
                f(LEFT + cw * (c as f64 + 0.5)),
                f(yy + cell_h / 2.0 + 4.0),
                v * scale
            );
        }
    }
    let bottom = TOP + 12.0 + cell_h * rows.len() as f64;
    for (c, label) in columns.iter().enumerate() {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            f(LEFT + cw * (c as f64 + 0.5)),
            f(bottom + 14.0),
            esc(label)
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text><text transform=\"translate(14,{}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        f((LEFT + W - RIGHT) / 2.0),
        f(bottom + 34.0),
        esc(x_title),
        f((TOP + bottom) / 2.0),
        esc(y_title)
    );
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(
            ticks(0.0, 1.0, 5),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        let t = ticks(0.0, 0.073, 5);
        assert!(t.first() == Some(&0.0) && t.len() >= 4, "{t:?}");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(esc("Tỉnh A, 2025"), "Tỉnh A, 2025");
    }

    #[test]
    fn a_chart_counts_its_marks() {
        let s = Series {
            name: "x".into(),
            colour: "#000".into(),
            points: vec![
                Some(Point {
                    mean: 1.0,
                    lo: 0.5,
                    hi: 1.5,
                }),
                None,
                Some(Point {
                    mean: 2.0,
                    lo: f64::NAN,
                    hi: f64::NAN,
                }),
            ],
        };
        let svg = bars(
            "b",
            "t",
            &["a".into(), "b".into(), "c".into()],
            &[s],
            "u",
            1.0,
        );
        assert!(svg.contains("data-marks=\"2\""));
        assert_eq!(svg.matches("class=\"mark\"").count(), 2);
    }
}
