//! Charts drawn on the server as SVG with `plotters` (ADR 0013): horizontal bars for a
//! funnel or a breakdown, lines for series by year. Labels arrive translated; every chart
//! is shown with a table of the same numbers beneath it, so the SVG is one picture
//! (`role="img"` with a label), not the only way to read the numbers.

use plotters::prelude::*;

/// Colours that stay apart for the common colour-vision deficiencies (Okabe–Ito); series are
/// also told apart by their marker shape and by the legend, never by colour alone.
const BLUE: RGBColor = RGBColor(0, 114, 178);
const ORANGE: RGBColor = RGBColor(213, 94, 0);
const GREEN: RGBColor = RGBColor(0, 158, 115);
const INK: RGBColor = RGBColor(33, 37, 41);
const FONT: &str = "sans-serif";

/// Sets the picture's accessible name and lets it scale to its container.
fn finish(svg: String, label: &str) -> String {
    let label = maud::html! { (label) }.into_string();
    svg.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{label}\" preserveAspectRatio=\"xMinYMin meet\" "),
        1,
    )
}

/// A horizontal bar per `(label, value)`, the value written at the end of its bar.
pub fn bars(label: &str, rows: &[(String, i64)]) -> String {
    let mut svg = String::new();
    let height = 40 + 34 * rows.len().max(1) as u32;
    if draw_bars(&mut svg, rows, height).is_err() {
        return String::new();
    }
    finish(svg, label)
}

fn draw_bars(out: &mut String, rows: &[(String, i64)], height: u32) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(out, (760, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let n = rows.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(26)
        .y_label_area_size(300)
        .build_cartesian_2d(0..(max + max / 8 + 1), (0..n).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .x_labels(6)
        .label_style((FONT, 14).into_font().color(&INK))
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => rows.get(*i).map(|r| r.0.clone()).unwrap_or_default(),
            _ => String::new(),
        })
        .x_label_formatter(&|v| v.to_string())
        .draw()?;
    chart.draw_series(
        Histogram::horizontal(&chart)
            .style(BLUE.filled())
            .margin(6)
            .data(rows.iter().enumerate().map(|(i, r)| (i, r.1))),
    )?;
    chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
        Text::new(format!(" {}", r.1), (r.1, SegmentValue::CenterOf(i)), (FONT, 14).into_font().color(&INK))
    }))?;
    root.present()?;
    Ok(())
}

/// One line per series over `years`, each with its own marker (circle, triangle, square).
pub fn lines(label: &str, years: &[i32], series: &[(String, Vec<i64>)]) -> String {
    let mut svg = String::new();
    if years.is_empty() || draw_lines(&mut svg, years, series).is_err() {
        return String::new();
    }
    finish(svg, label)
}

fn draw_lines(
    out: &mut String,
    years: &[i32],
    series: &[(String, Vec<i64>)],
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(out, (760, 340)).into_drawing_area();
    root.fill(&WHITE)?;
    let max = series.iter().flat_map(|s| s.1.iter().copied()).max().unwrap_or(0).max(1);
    let (first, last) = (years[0], years[years.len() - 1]);
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(44)
        .build_cartesian_2d(first..(last.max(first + 1)), 0..(max + max / 8 + 1))?;
    chart
        .configure_mesh()
        .x_labels(years.len().min(12))
        .y_labels(6)
        .label_style((FONT, 14).into_font().color(&INK))
        .x_label_formatter(&|y| y.to_string())
        .draw()?;
    let colours = [BLUE, ORANGE, GREEN];
    for (n, (name, values)) in series.iter().enumerate() {
        let colour = colours[n % colours.len()];
        let points: Vec<(i32, i64)> = years.iter().copied().zip(values.iter().copied()).collect();
        match n % 3 {
            0 => chart.draw_series(points.iter().map(|p| Circle::new(*p, 5, colour.filled())))?,
            1 => chart.draw_series(points.iter().map(|p| TriangleMarker::new(*p, 7, colour.filled())))?,
            _ => chart
                .draw_series(points.iter().map(|p| Rectangle::new([(p.0, p.1), (p.0, p.1)], colour.stroke_width(8))))?,
        };
        let line = chart.draw_series(LineSeries::new(points, colour.stroke_width(3)))?.label(name.clone());
        match n % 3 {
            0 => line.legend(move |(x, y)| Circle::new((x + 10, y), 5, colour.filled())),
            1 => line.legend(move |(x, y)| TriangleMarker::new((x + 10, y), 7, colour.filled())),
            _ => line.legend(move |(x, y)| Rectangle::new([(x + 5, y - 5), (x + 15, y + 5)], colour.filled())),
        };
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(INK)
        .label_font((FONT, 14).into_font().color(&INK))
        .draw()?;
    root.present()?;
    Ok(())
}
