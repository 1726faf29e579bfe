//! The league table's charts, drawn on the server as SVG with `plotters` (SVG backend, no font
//! crates: the browser sets the text). Each chart is an image with a text name for assistive
//! technology; the page's table holds the same figures as text.

use plotters::prelude::*;
use staydown_domain::helpline::league::LeagueRow;

/// Outcome colours (honoured, refused, unanswered, pending): each has at least 3:1 contrast on
/// white (WCAG 1.4.11) and they differ in lightness as well as hue.
const COLOURS: [RGBColor; 4] =
    [RGBColor(0, 97, 48), RGBColor(178, 34, 34), RGBColor(92, 92, 92), RGBColor(31, 84, 168)];

/// Escapes text for the attributes this module adds (plotters escapes the text it writes).
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Marks the SVG as one image named by `label` (`role="img"`, `<title>`), hides the drawing's own
/// text from assistive technology, and lets it scale to the page width.
fn as_image(svg: &str, label: &str) -> String {
    let label = escape(label);
    let svg = svg.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{label}\" preserveAspectRatio=\"xMinYMin meet\" class=\"chart\" "),
        1,
    );
    match svg.find('>') {
        Some(end) => format!("{}<title>{label}</title>{}", &svg[..=end], &svg[end + 1..]),
        None => svg,
    }
}

/// The platform name under the middle of its bar.
fn label_of(names: &[String], v: &SegmentValue<i32>) -> String {
    match v {
        SegmentValue::CenterOf(i) => usize::try_from(*i).ok().and_then(|i| names.get(i)).cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

/// Stacked bars per platform: honoured, refused, unanswered and pending requests. `labels` are
/// the chart's name and the four outcome names in the page language.
pub fn outcomes(rows: &[LeagueRow], labels: [&str; 5]) -> Result<String, String> {
    let mut svg = String::new();
    let n = rows.len().max(1);
    let width = (160 + 110 * n).clamp(420, 1100) as u32;
    let max = rows.iter().map(|r| r.requests).max().unwrap_or(1).max(1);
    {
        let root = SVGBackend::with_string(&mut svg, (width, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(40)
            .build_cartesian_2d((0..n as i32).into_segmented(), 0f64..(max as f64 * 1.1))
            .map_err(|e| e.to_string())?;
        let names: Vec<String> = rows.iter().map(|r| r.platform.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_label_formatter(&|v| label_of(&names, v))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, r) in rows.iter().enumerate() {
            let mut base = 0f64;
            for (k, v) in [r.honoured, r.refused, r.unanswered, r.pending].into_iter().enumerate() {
                if v == 0 {
                    continue;
                }
                let top = base + v as f64;
                let mut bar = Rectangle::new(
                    [(SegmentValue::Exact(i as i32), base), (SegmentValue::Exact(i as i32 + 1), top)],
                    COLOURS[k].filled(),
                );
                bar.set_margin(0, 0, 14, 14);
                chart.draw_series(std::iter::once(bar)).map_err(|e| e.to_string())?;
                base = top;
            }
        }
        for (k, name) in labels[1..].iter().enumerate() {
            let x = 50 + (k as i32) * ((width as i32 - 60) / 4);
            root.draw(&Rectangle::new([(x, 4), (x + 12, 16)], COLOURS[k].filled())).map_err(|e| e.to_string())?;
            root.draw(&Text::new(name.to_string(), (x + 16, 4), ("sans-serif", 13).into_font().color(&BLACK)))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(as_image(&svg, labels[0]))
}

/// Bars of the median hours to removal per platform (none drawn where nothing was removed).
pub fn median_hours(rows: &[LeagueRow], label: &str) -> Result<String, String> {
    let mut svg = String::new();
    let n = rows.len().max(1);
    let width = (160 + 110 * n).clamp(420, 1100) as u32;
    let max = rows.iter().filter_map(|r| r.median_hours_to_removal).fold(1f64, f64::max);
    {
        let root = SVGBackend::with_string(&mut svg, (width, 280)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(48)
            .build_cartesian_2d((0..n as i32).into_segmented(), 0f64..(max * 1.1))
            .map_err(|e| e.to_string())?;
        let names: Vec<String> = rows.iter().map(|r| r.platform.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_label_formatter(&|v| label_of(&names, v))
            .y_label_formatter(&|y| format!("{y:.0} h"))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(rows.iter().enumerate().filter_map(|(i, r)| {
                let h = r.median_hours_to_removal?;
                let mut bar = Rectangle::new(
                    [(SegmentValue::Exact(i as i32), 0.0), (SegmentValue::Exact(i as i32 + 1), h)],
                    COLOURS[3].filled(),
                );
                bar.set_margin(0, 0, 18, 18);
                Some(bar)
            }))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(as_image(&svg, label))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, honoured: u64, refused: u64, median: Option<f64>) -> LeagueRow {
        LeagueRow {
            platform: name.into(),
            trusted_flagger: false,
            requests: honoured + refused,
            honoured,
            refused,
            unanswered: 0,
            pending: 0,
            honoured_share: None,
            median_hours_to_removal: median,
            p90_hours_to_removal: None,
        }
    }

    #[test]
    fn charts_are_named_images_with_one_bar_per_outcome_and_escaped_names() {
        let rows = [row("A<script>", 2, 1, Some(5.0)), row("B & co", 0, 0, None)];
        let svg = outcomes(&rows, ["Outcomes", "Honoured", "Refused", "Unanswered", "Pending"]).expect("svg");
        assert!(svg.starts_with("<svg role=\"img\" aria-label=\"Outcomes\""), "{}", &svg[..120.min(svg.len())]);
        assert!(svg.contains("<title>Outcomes</title>"));
        assert!(!svg.contains("<script>") && svg.contains("A&lt;script&gt;") && svg.contains("B &amp; co"), "{svg}");
        // Two stacked segments for A (honoured, refused), four legend swatches.
        let filled = |c: RGBColor| svg.matches(&format!("fill=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2)).count();
        assert_eq!((filled(COLOURS[0]), filled(COLOURS[1])), (2, 2), "{svg}");
        let hours = median_hours(&rows, "Median").expect("svg");
        assert_eq!(filled_in(&hours, COLOURS[3]), 1, "one bar: B removed nothing");
    }

    fn filled_in(svg: &str, c: RGBColor) -> usize {
        svg.matches(&format!("fill=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2)).count()
    }
}
