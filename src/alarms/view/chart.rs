//! The alarm's metric over the chart window with its threshold as a straight line across,
//! in braille (readable at 80x24), times in the configured zone.

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, LegendPosition, Paragraph};
use ratatui::Frame;

use crate::alarms::detail::{Detail, Load};
use crate::alarms::model::Alarm;
use crate::config::theme::Theme;

use super::{block, fit, num};

pub fn render(
    frame: &mut Frame,
    area: Rect,
    alarm: &Alarm,
    detail: &Detail,
    theme: &Theme,
    tz: chrono_tz::Tz,
) {
    let title = match &alarm.threshold {
        Some(t) => format!(
            "Metric · threshold {} {}",
            t.comparison.symbol(),
            num(t.value)
        ),
        None => "Metric".to_string(),
    };
    let b = block(title, theme);
    let inner = b.inner(area);
    let series = match &detail.chart {
        Load::Ready(s) => s,
        other => {
            frame.render_widget(b, area);
            let (text, style) = match other {
                Load::Loading => ("loading…".to_string(), "text.dim"),
                Load::Failed(e) => (format!("chart unavailable: {e}"), "status.warn"),
                Load::None(why) => (why.clone(), "empty"),
                Load::Ready(_) => unreachable!("matched above"),
            };
            frame.render_widget(
                Paragraph::new(Line::from(Span::styled(
                    fit(&text, inner.width as usize * inner.height.max(1) as usize),
                    theme.style(style),
                )))
                .wrap(ratatui::widgets::Wrap { trim: true }),
                inner,
            );
            return;
        }
    };
    let x0 = detail.from.timestamp() as f64;
    let x1 = detail.to.timestamp() as f64;
    let data: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| {
            s.points
                .iter()
                .map(|(t, v)| (t.timestamp() as f64, *v))
                .filter(|(x, _)| *x >= x0 && *x <= x1)
                .collect()
        })
        .collect();
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for (_, v) in data.iter().flatten() {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    if let Some(t) = &alarm.threshold {
        lo = lo.min(t.value);
        hi = hi.max(t.value);
    }
    if !lo.is_finite() || !hi.is_finite() {
        lo = 0.0;
        hi = 1.0;
    }
    if (hi - lo).abs() < f64::EPSILON {
        hi = lo + 1.0;
    }
    let pad_y = (hi - lo) * 0.08;
    let (lo, hi) = (
        if lo >= 0.0 {
            (lo - pad_y).max(0.0)
        } else {
            lo - pad_y
        },
        hi + pad_y,
    );
    let threshold: Vec<(f64, f64)> = alarm
        .threshold
        .as_ref()
        .map(|t| vec![(x0, t.value), (x1, t.value)])
        .unwrap_or_default();
    let styles = ["chart.line", "chart.line.2", "chart.line.3", "chart.line.4"];
    let mut datasets: Vec<Dataset> = data
        .iter()
        .zip(series)
        .enumerate()
        .map(|(i, (d, s))| {
            Dataset::default()
                .name(fit(&s.label, 30))
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(theme.style(styles[i % styles.len()]))
                .data(d)
        })
        .collect();
    if !threshold.is_empty() {
        let t = alarm.threshold.as_ref().expect("threshold");
        datasets.push(
            Dataset::default()
                .name(format!("{} {}", t.comparison.symbol(), num(t.value)))
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(theme.style("chart.threshold"))
                .data(&threshold),
        );
    }
    let at = |x: f64| {
        DateTime::<Utc>::from_timestamp(x as i64, 0)
            .map(|t| t.with_timezone(&tz).format("%H:%M").to_string())
            .unwrap_or_default()
    };
    let axis = theme.style("chart.axis");
    let chart = Chart::new(datasets)
        .block(b)
        .legend_position(Some(LegendPosition::TopLeft))
        .x_axis(Axis::default().style(axis).bounds([x0, x1]).labels([
            at(x0),
            at((x0 + x1) / 2.0),
            at(x1),
        ]))
        .y_axis(Axis::default().style(axis).bounds([lo, hi]).labels([
            num(lo),
            num((lo + hi) / 2.0),
            num(hi),
        ]));
    frame.render_widget(chart, area);
}
