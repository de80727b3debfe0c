//! The month grid: six weeks around the cursor's month, each day with the symbol of the
//! state that matters most that day (`!` overdue, `x` missed, `*` due, `✓` all done, `·`
//! to come). On a wide terminal each day also lists its duties. Below it, today's counts
//! and the legend.

use chrono::{DateTime, Datelike, Utc};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{fit, pad, panel, state_style};
use crate::calendar::book::OccState;
use crate::calendar::state::{CalendarState, GridDay};
use crate::config::theme::Theme;
use crate::sanitize::strip_escapes;

const NARROW_CELL: u16 = 4;
const WIDE_CELL: u16 = 10;
const WIDE_CELL_LINES: u16 = 5;

fn wide(area: Rect) -> bool {
    area.width >= 140 && area.height >= 40
}

/// The width the grid column takes in `area` (the tab's whole area).
pub fn width_for(area: Rect) -> u16 {
    let cell = if wide(area) { WIDE_CELL } else { NARROW_CELL };
    (7 * cell + 2).min(area.width)
}

pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &CalendarState,
    theme: &Theme,
    _now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) {
    let wide = area.height >= 40 && area.width >= 7 * WIDE_CELL + 2;
    let (cell_w, cell_h) = if wide {
        (WIDE_CELL, WIDE_CELL_LINES)
    } else {
        (NARROW_CELL, 1)
    };
    let grid_h = (2 + 1 + 6 * cell_h).min(area.height);
    let [grid_area, summary_area] =
        Layout::vertical([Constraint::Length(grid_h), Constraint::Min(0)]).areas(area);

    let month = state.cursor;
    let mut title = month.format("%B %Y").to_string();
    let zone = tz.name();
    if title.len() + zone.len() + 5 <= grid_area.width as usize {
        title = format!("{title} · {zone}");
    }
    let block = panel(title, theme);
    let inner = block.inner(grid_area);
    frame.render_widget(block, grid_area);

    let mut lines = vec![Line::from(
        ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
            .iter()
            .map(|d| Span::styled(pad(d, cell_w as usize), theme.style("header")))
            .collect::<Vec<_>>(),
    )];
    for week in state.grid.chunks(7) {
        for line in 0..cell_h {
            let spans: Vec<Span> = week
                .iter()
                .flat_map(|g| cell_line(g, line, cell_w as usize, state, theme))
                .collect();
            lines.push(Line::from(spans));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
    summary(frame, summary_area, state, theme);
}

fn day_style(g: &GridDay, state: &CalendarState, theme: &Theme) -> Style {
    let mut style = if g.day.month() != state.cursor.month() {
        theme.style("calendar.outside")
    } else {
        theme.style("text")
    };
    if g.day == state.today() {
        style = style.patch(theme.style("calendar.today"));
    }
    if g.day == state.cursor {
        style = style.patch(theme.style("selection"));
    }
    style
}

/// Line `line` of one day's cell, `width` columns.
fn cell_line<'a>(
    g: &GridDay,
    line: u16,
    width: usize,
    state: &CalendarState,
    theme: &Theme,
) -> Vec<Span<'a>> {
    let worst = g.mark.worst;
    if line == 0 {
        let mut spans = vec![Span::styled(
            format!("{:>2}", g.day.day()),
            day_style(g, state, theme),
        )];
        let symbol = match worst {
            // A day where everything was done reads as done, not by its last state.
            Some(OccState::Done | OccState::Skipped) => OccState::Done.symbol(),
            Some(s) => s.symbol(),
            None => " ",
        };
        let style = worst.map_or(theme.style("text"), |s| state_style(theme, s));
        spans.push(Span::styled(symbol.to_string(), style));
        let mut used = 3;
        if width > NARROW_CELL as usize {
            for (n, s) in [
                (g.mark.open, OccState::Due),
                (g.mark.missed, OccState::Missed),
                (g.mark.done, OccState::Done),
                (g.mark.upcoming, OccState::Upcoming),
            ] {
                let text = format!(" {}{n}", s.symbol());
                if n == 0 || used + text.chars().count() >= width {
                    continue;
                }
                used += text.chars().count();
                spans.push(Span::styled(text, state_style(theme, s)));
            }
        }
        spans.push(Span::raw(" ".repeat(width.saturating_sub(used))));
        return spans;
    }
    // Wide cells list the day's duties, most urgent first.
    let rows = WIDE_CELL_LINES as usize - 1;
    let i = line as usize - 1;
    let more = g.items.len().saturating_sub(rows);
    if more > 0 && i == rows - 1 {
        return vec![Span::styled(
            pad(&format!(" +{} more", more + 1), width),
            theme.style("text.dim"),
        )];
    }
    match g.items.get(i) {
        Some(o) => {
            let title = strip_escapes(&state.book.duties[o.duty].title);
            vec![
                Span::styled(o.state.symbol().to_string(), state_style(theme, o.state)),
                Span::styled(
                    pad(&fit(&title, width - 2), width - 1),
                    theme.style("text.dim"),
                ),
            ]
        }
        None => vec![Span::raw(" ".repeat(width))],
    }
}

/// Today's counts, the legend, and the last thing recorded.
fn summary(frame: &mut Frame, area: Rect, state: &CalendarState, theme: &Theme) {
    if area.height < 3 {
        return;
    }
    let s = &state.summary;
    let today = state.today();
    let block = panel(format!("Today {}", today.format("%a %d %b")), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let count = |st: OccState| s.today.iter().filter(|o| o.state == st).count();
    let n = |st: OccState, n: usize, label: &str| {
        vec![
            Span::styled(format!("{} {n} ", st.symbol()), state_style(theme, st)),
            Span::styled(format!("{label}  "), theme.style("text")),
        ]
    };
    let mut lines = vec![
        Line::from(
            [
                n(OccState::Overdue, s.overdue, "overdue"),
                n(OccState::Due, s.due, "due"),
            ]
            .concat(),
        ),
        Line::from(
            [
                n(
                    OccState::Done,
                    count(OccState::Done) + count(OccState::Skipped),
                    "done",
                ),
                n(OccState::Upcoming, count(OccState::Upcoming), "to come"),
            ]
            .concat(),
        ),
    ];
    if let Some(next) = &s.next {
        let d = &state.book.duties[next.duty];
        lines.push(Line::from(Span::styled(
            fit(
                &format!(
                    "next {} {}",
                    next.at.with_timezone(&state.zone).format("%a %H:%M"),
                    strip_escapes(&d.title)
                ),
                inner.width as usize,
            ),
            theme.style("text.dim"),
        )));
    }
    lines.push(Line::raw(""));
    let legend = [
        OccState::Overdue,
        OccState::Due,
        OccState::Missed,
        OccState::Done,
        OccState::Snoozed,
        OccState::Skipped,
    ];
    let per_row = (inner.width as usize / 12).max(1);
    for row in legend.chunks(per_row) {
        let spans: Vec<Span> = row
            .iter()
            .flat_map(|st| {
                [
                    Span::styled(st.symbol().to_string(), state_style(theme, *st)),
                    Span::styled(format!(" {:<10}", st.label()), theme.style("text.dim")),
                ]
            })
            .collect();
        lines.push(Line::from(spans));
    }
    if !state.problems.is_empty() {
        lines.push(Line::from(Span::styled(
            fit(
                &format!(
                    "{} dut{} left out: toban config check",
                    state.problems.len(),
                    if state.problems.len() == 1 {
                        "y"
                    } else {
                        "ies"
                    }
                ),
                inner.width as usize,
            ),
            theme.style("status.warn"),
        )));
    }
    if let Some(notice) = &state.notice {
        // Wrapped: what a follow-up's action did, or why it refused, is read in full.
        let style = if notice.contains(" not done") || notice.contains(" not recorded") {
            theme.style("status.warn")
        } else {
            theme.style("status.ok")
        };
        let text = strip_escapes(notice);
        for l in crate::ui::widgets::format::wrap_at_separators(&text, inner.width as usize) {
            lines.push(Line::from(Span::styled(l.trim().to_string(), style)));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
