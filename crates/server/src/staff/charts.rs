//! Server-rendered SVG charts for the staff dashboard (issue 12), drawn with `plotters` (SVG
//! backend only, no fonts or system libraries). No JavaScript: a chart is an `<img>` whose source
//! is the SVG as a `data:` URL, so the page's strict Content-Security-Policy (no inline styles)
//! does not apply inside it, and every chart on the page has a table beside it with the same
//! figures (WCAG 1.1.1: the text alternative of a chart is its data).
//!
//! Colours are the dark half of a colour-blind-safe palette, each at least 4.5:1 against white
//! (WCAG 1.4.11 asks 3:1 for graphics); line series also differ in marker shape.

use base64::Engine as _;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

/// Width and height of every chart, in SVG user units (the page scales it down on phones).
const SIZE: (u32, u32) = (720, 320);

/// Series colours: dark blue, dark orange, dark green, purple, dark red, teal.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0x0b, 0x53, 0x94),
    RGBColor(0x9c, 0x4a, 0x00),
    RGBColor(0x27, 0x6a, 0x1f),
    RGBColor(0x6a, 0x1b, 0x9a),
    RGBColor(0xa4, 0x00, 0x1d),
    RGBColor(0x00, 0x63, 0x6b),
];

/// One line of a line chart: its name and one value per x label (`None`: nothing measured).
#[derive(Debug, Clone)]
pub struct Series {
    /// Shown in the legend.
    pub name: String,
    /// One value per x label.
    pub values: Vec<Option<f64>>,
}

/// A line chart of `series` over the `x` labels (e.g. weeks), `y` in `unit` (shown on the axis).
/// Returns the SVG document; an empty `x` gives a chart with axes only.
pub fn line_chart(title: &str, unit: &str, x: &[String], series: &[Series]) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let _ = draw_lines(&root, title, unit, x, series);
        let _ = root.present();
    }
    svg
}

fn draw_lines(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    title: &str,
    unit: &str,
    x: &[String],
    series: &[Series],
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    root.fill(&WHITE)?;
    let max = series.iter().flat_map(|s| s.values.iter().flatten()).fold(0.0_f64, |m, v| m.max(*v));
    let top = nice_top(max);
    let n = x.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d((0..n).into_segmented(), 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => x.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .y_desc(unit)
        .y_label_formatter(&|v| format_value(*v))
        .label_style(("sans-serif", 13))
        .draw()?;
    for (si, s) in series.iter().enumerate() {
        let colour = PALETTE[si % PALETTE.len()];
        let points: Vec<(SegmentValue<usize>, f64)> =
            s.values.iter().enumerate().filter_map(|(i, v)| v.map(|v| (SegmentValue::CenterOf(i), v))).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
            .label(s.name.clone())
            .legend(move |(lx, ly)| PathElement::new(vec![(lx, ly), (lx + 18, ly)], colour.stroke_width(2)));
        // Markers differ per series, so the lines are told apart without colour (WCAG 1.4.1).
        for (px, py) in points {
            match si % 3 {
                0 => chart.draw_series(std::iter::once(Circle::new((px, py), 4, colour.filled())))?,
                1 => chart.draw_series(std::iter::once(TriangleMarker::new((px, py), 5, colour.filled())))?,
                _ => chart.draw_series(std::iter::once(Cross::new((px, py), 4, colour.stroke_width(2))))?,
            };
        }
    }
    if !series.is_empty() {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font(("sans-serif", 13))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
    }
    Ok(())
}

/// A horizontal bar chart: one bar per `(label, value)`, values in `unit`.
pub fn bar_chart(title: &str, unit: &str, bars: &[(String, f64)]) -> String {
    let mut svg = String::new();
    {
        let height = SIZE.1.max(80 + 28 * bars.len() as u32);
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, height)).into_drawing_area();
        let _ = draw_bars(&root, title, unit, bars);
        let _ = root.present();
    }
    svg
}

fn draw_bars(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    title: &str,
    unit: &str,
    bars: &[(String, f64)],
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    root.fill(&WHITE)?;
    let max = bars.iter().fold(0.0_f64, |m, (_, v)| m.max(*v));
    let top = nice_top(max);
    let n = bars.len().max(1);
    let label_width = bars.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(4).clamp(4, 28) as u32 * 8 + 12;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(label_width)
        .build_cartesian_2d(0.0..top, (0..n).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => bars.get(*i).map(|(l, _)| truncate(l, 28)).unwrap_or_default(),
            _ => String::new(),
        })
        .x_desc(unit)
        .x_label_formatter(&|v| format_value(*v))
        .label_style(("sans-serif", 13))
        .draw()?;
    chart.draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
        let mut bar =
            Rectangle::new([(0.0, SegmentValue::Exact(i)), (*v, SegmentValue::Exact(i + 1))], PALETTE[0].filled());
        bar.set_margin(4, 4, 0, 0);
        bar
    }))?;
    Ok(())
}

/// A round upper bound for an axis holding values up to `max` (1, 2 or 5 × 10ⁿ; 1 when empty).
fn nice_top(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|t| *t >= max).unwrap_or(10.0 * magnitude)
}

/// An axis value without needless decimals.
fn format_value(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 { format!("{v:.0}") } else { format!("{v:.1}") }
}

fn truncate(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_owned()
    } else {
        format!("{}…", label.chars().take(max - 1).collect::<String>())
    }
}

/// The chart as a `data:` URL for an `<img src>` (the page's CSP allows `img-src data:`).
pub fn data_url(svg: &str) -> String {
    format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(svg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_chart_draws_every_series_and_label() {
        let x = vec!["2026-11-02".to_owned(), "2026-11-09".to_owned()];
        let svg = line_chart(
            "Time to action",
            "hours",
            &x,
            &[
                Series { name: "p50".into(), values: vec![Some(1.5), Some(3.0)] },
                Series { name: "p90".into(), values: vec![None, Some(7.25)] },
            ],
        );
        assert!(svg.starts_with("<svg"), "{svg}");
        for text in ["Time to action", "hours", "2026-11-02", "2026-11-09", "p50", "p90"] {
            assert!(svg.contains(text), "{text} missing from the chart");
        }
        assert!(svg.contains("<polyline"), "the lines are drawn");
    }

    #[test]
    fn a_bar_chart_has_one_bar_per_value_and_escapes_labels() {
        let svg = bar_chart("Matches", "screenings", &[("a<b".into(), 3.0), ("second".into(), 0.0)]);
        assert!(svg.contains("second"));
        assert!(!svg.contains("a<b"), "labels are escaped");
        assert!(data_url(&svg).starts_with("data:image/svg+xml;base64,"));
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_top(0.0), 1.0);
        assert_eq!(nice_top(3.2), 5.0);
        assert_eq!(nice_top(47.0), 50.0);
        assert_eq!(nice_top(100.0), 100.0);
    }
}
