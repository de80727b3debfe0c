//! Logs Insights in the Logs tab: the saved queries (the selected one's text below the list),
//! a query running, why one failed, or its results as a table whose columns share the width
//! (every column but the last at most what its values need, 30 at most; the last the rest).

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use super::insights::QueryResult;
use super::state::{Insights, LogsState};
use super::text;
use crate::config::theme::Theme;
use crate::ui::widgets::format::{age, fit};

pub fn render(
    f: &mut Frame,
    area: Rect,
    s: &LogsState,
    view: &Insights,
    theme: &Theme,
    now: DateTime<Utc>,
) {
    let w = area.width as usize;
    let dim = theme.style("text.dim");
    let lines: Vec<Line> = match view {
        Insights::List { selected } => {
            let groups = s.query_groups();
            let mut out = vec![Line::styled(
                fit(
                    &format!(
                        "Logs Insights · saved queries · over {}",
                        if groups.is_empty() {
                            "(no CloudWatch group open)".to_string()
                        } else {
                            text::inert(groups.join(", ").as_bytes())
                        }
                    ),
                    w,
                ),
                theme.style("header"),
            )];
            for (i, q) in s.queries.iter().enumerate() {
                let mark = if i == *selected { "> " } else { "  " };
                let style = if i == *selected {
                    theme.style("selection")
                } else {
                    theme.style("text")
                };
                let label = format!(
                    "{mark}{} (last {})",
                    text::inert(q.name.as_bytes()),
                    humantime::format_duration(q.since)
                );
                out.push(Line::styled(fit(&label, w), style));
            }
            out.push(Line::raw(""));
            if let Some(q) = s.queries.get(*selected) {
                for l in q.query.lines() {
                    out.push(Line::styled(
                        fit(&format!("  {}", text::inert(l.as_bytes())), w),
                        dim,
                    ));
                }
            }
            out
        }
        Insights::Running {
            name,
            groups,
            started,
            ..
        } => vec![Line::styled(
            fit(
                &format!(
                    "Running “{}” over {}… ({})",
                    text::inert(name.as_bytes()),
                    text::inert(groups.join(", ").as_bytes()),
                    age(now - *started)
                ),
                w,
            ),
            theme.style("text"),
        )],
        Insights::Failed { name, error } => vec![
            Line::styled(
                fit(&format!("“{}” failed:", text::inert(name.as_bytes())), w),
                theme.style("status.crit"),
            ),
            Line::styled(fit(&text::inert(error.as_bytes()), w), theme.style("text")),
        ],
        Insights::Results {
            name,
            groups,
            result,
            top,
            left,
            at,
        } => table(
            name,
            groups,
            result,
            (*top, *left),
            *at,
            area.height as usize,
            w,
            theme,
        ),
    };
    f.render_widget(Paragraph::new(lines), area);
}

#[allow(clippy::too_many_arguments)]
fn table<'a>(
    name: &str,
    groups: &[String],
    r: &QueryResult,
    (top, left): (usize, usize),
    at: DateTime<Utc>,
    height: usize,
    w: usize,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let mut stats = format!("{} rows", r.rows.len());
    if r.records_scanned > 0.0 {
        stats.push_str(&format!(
            ", {} of {} records matched",
            r.records_matched, r.records_scanned
        ));
    }
    if r.status != "Complete" {
        stats.push_str(&format!(" ({})", r.status));
    }
    let left = left.min(r.columns.len().saturating_sub(1));
    if left > 0 {
        stats.push_str(&format!(
            " · columns {}–{} of {}",
            left + 1,
            r.columns.len(),
            r.columns.len()
        ));
    }
    let mut out = vec![Line::styled(
        fit(
            &format!(
                "“{}” · {stats} · {} · ran {} UTC",
                text::inert(name.as_bytes()),
                text::inert(groups.join(", ").as_bytes()),
                at.format("%H:%M:%S")
            ),
            w,
        ),
        theme.style("header"),
    )];
    if r.rows.is_empty() {
        out.push(Line::styled("no rows", theme.style("empty")));
        return out;
    }
    let widths = widths(r, left, w);
    let row = |cells: &[String], style: Style| {
        let spans: Vec<Span> = cells
            .iter()
            .skip(left)
            .zip(&widths)
            .map(|(c, &cw)| {
                let cell = fit(c, cw);
                let pad = cw.saturating_sub(cell.width());
                Span::styled(format!("{cell}{} ", " ".repeat(pad)), style)
            })
            .collect();
        Line::from(spans)
    };
    out.push(row(&r.columns, theme.style("header")));
    let room = height.saturating_sub(out.len());
    let style = theme.style("text");
    for cells in r.rows.iter().skip(top).take(room) {
        out.push(row(cells, style));
    }
    out
}

/// Widths of the columns from `left` on (without the space after each) that fit `w`.
fn widths(r: &QueryResult, left: usize, w: usize) -> Vec<usize> {
    let n = r.columns.len() - left;
    let natural: Vec<usize> = (left..r.columns.len())
        .map(|i| {
            r.rows
                .iter()
                .take(200)
                .map(|row| row.get(i).map_or(0, |c| c.width()))
                .chain(std::iter::once(r.columns[i].width()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out: Vec<usize> = natural.iter().map(|&c| c.clamp(1, 30)).collect();
    if let Some(last) = out.last_mut() {
        let used: usize = natural[..n - 1].iter().map(|&c| c.clamp(1, 30) + 1).sum();
        *last = w.saturating_sub(used + 1).max(natural[n - 1].min(10));
    }
    out
}
