//! The Logs tab: a status line (lines, dropped, filter, follow), the errors-per-hour strip
//! with the threshold marked, and the lines, levels coloured and matches highlighted. Only
//! the lines on screen are made drawable (and only their head: a 10 MB line costs what a
//! screenful does).

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use unicode_width::UnicodeWidthChar;

use super::level::Level;
use super::state::LogsState;
use super::text;
use crate::config::theme::Theme;
use crate::ui::widgets::hints::{self, Hint};
use crate::ui::widgets::panel::panel;

/// Hours the strip shows, ending at the current hour.
const STRIP_HOURS: i64 = 24;

pub fn render(
    f: &mut Frame,
    area: Rect,
    s: &LogsState,
    theme: &Theme,
    now: DateTime<Utc>,
    keys: &[Hint],
) {
    let title = match s.source() {
        Some(v) if s.sources.len() > 1 && !s.is_merged() => {
            format!(
                "Logs · {} ({}/{})",
                text::inert(v.name.as_bytes()),
                s.selected + 1,
                s.sources.len()
            )
        }
        Some(v) => format!("Logs · {}", text::inert(v.name.as_bytes())),
        None => "Logs".to_string(),
    };
    let block = panel(title, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [status, strip, body, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let foot_text = crate::ui::widgets::format::fit(hints::join(keys).trim(), foot.width as usize);
    f.render_widget(
        Paragraph::new(Line::styled(foot_text, theme.style("text.dim"))),
        foot,
    );
    if let Some(view) = &s.insights {
        let area = Rect {
            height: inner.height.saturating_sub(1),
            ..inner
        };
        super::insights_view::render(f, area, s, view, theme, now);
        return;
    }
    let Some(v) = s.source() else {
        let open = match hints::key_of(keys, crate::action::Action::Open) {
            Some(k) => {
                format!("Press {k} to open a file (or container:NAME, journal:PATH, cw:GROUP),")
            }
            None => "Open a file (or container:NAME, journal:PATH, cw:GROUP),".to_string(),
        };
        let lines = vec![
            Line::styled("No log source yet.", theme.style("empty")),
            Line::raw(""),
            Line::styled(open, theme.style("text")),
            Line::styled(
                "or list sources under [logs] in config.toml:",
                theme.style("text"),
            ),
            Line::styled("  [logs]", theme.style("help.key")),
            Line::styled(
                "  files = [\"/srv/app/logs/*/*.log\"]",
                theme.style("help.key"),
            ),
        ];
        f.render_widget(Paragraph::new(lines), body);
        return;
    };
    f.render_widget(Paragraph::new(status_line(s, theme, now)), status);
    f.render_widget(
        Paragraph::new(strip_line(s, theme, now, strip.width as usize)),
        strip,
    );
    if let Some(e) = &v.error {
        if v.store.is_empty() {
            f.render_widget(
                Paragraph::new(Line::styled(
                    format!("cannot read: {e}"),
                    theme.style("status.crit"),
                )),
                body,
            );
            return;
        }
    }
    f.render_widget(Paragraph::new(body_lines(s, theme, body)), body);
}

fn status_line<'a>(s: &LogsState, theme: &Theme, now: DateTime<Utc>) -> Line<'a> {
    let v = s.source().expect("a source");
    let dim = theme.style("text.dim");
    let mut spans = vec![Span::styled(
        format!("{} lines", thousands(v.store.len() as u64)),
        theme.style("text"),
    )];
    if !v.complete {
        spans.push(Span::styled(" (indexing…)", dim));
    }
    if v.store.dropped() > 0 {
        spans.push(Span::styled(
            format!(
                " · {} older dropped (cap {})",
                thousands(v.store.dropped()),
                thousands(v.store.cap() as u64)
            ),
            theme.style("status.warn"),
        ));
    }
    if let Some(l) = s.level() {
        spans.push(Span::styled(format!(" · level ≥ {l}"), theme.style("text")));
    }
    if !s.filter.is_empty() {
        let count = if s.searching && s.rows.is_none() {
            "searching…".to_string()
        } else if s.searching {
            format!("{}+ rows, searching…", thousands(s.row_count() as u64))
        } else {
            format!("{} rows", thousands(s.row_count() as u64))
        };
        spans.push(Span::styled(
            format!(" · /{} {count}", text::inert(s.filter.as_bytes())),
            theme.style("text"),
        ));
    } else if s.level().is_some() {
        spans.push(Span::styled(
            format!(" {} rows", thousands(s.row_count() as u64)),
            theme.style("text"),
        ));
    }
    if v.rotations > 0 {
        spans.push(Span::styled(format!(" · rotated {}×", v.rotations), dim));
    }
    if let Some(e) = &v.error {
        let age = v
            .updated
            .map(|t| format!(", data {} old", crate::ui::widgets::format::age(now - t)))
            .unwrap_or_default();
        spans.push(Span::styled(
            format!(" · down: {e}{age}"),
            theme.style("status.crit"),
        ));
    }
    spans.push(Span::raw(" · "));
    if s.follow {
        spans.push(Span::styled("FOLLOWING", theme.style("status.ok")));
    } else {
        spans.push(Span::styled("PAUSED", theme.style("status.warn")));
    }
    if s.wrap {
        spans.push(Span::styled(" · wrap", dim));
    } else if s.hscroll > 0 {
        spans.push(Span::styled(format!(" · →{}", s.hscroll), dim));
    }
    Line::from(spans)
}

/// `errors/h ▁▁▃█▁ ≤10` with the hours over the threshold in the critical style.
fn strip_line<'a>(s: &LogsState, theme: &Theme, now: DateTime<Utc>, width: usize) -> Line<'a> {
    let v = s.source().expect("a source");
    let by_hour = v.store.errors_by_hour();
    let hour = now.timestamp().div_euclid(3600) * 3600;
    let hours = STRIP_HOURS.min(((width.saturating_sub(40)) as i64).max(6));
    // The loaded window: it ends now, or at the last hour with errors when the file is older.
    let last = match by_hour.keys().next_back() {
        Some(&h) if h < hour - (hours - 1) * 3600 => h,
        _ => hour,
    };
    let counts: Vec<(i64, u32)> = (0..hours)
        .map(|i| {
            let h = last - (hours - 1 - i) * 3600;
            (h, by_hour.get(&h).copied().unwrap_or(0))
        })
        .collect();
    let max = counts
        .iter()
        .map(|c| c.1)
        .max()
        .unwrap_or(0)
        .max(s.threshold + 1);
    let blocks = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let mut spans = vec![Span::styled("errors/h ", theme.style("text.dim"))];
    for &(_, n) in &counts {
        let c = if n == 0 {
            '·'
        } else {
            blocks[((n as usize * 7) / max as usize).min(7)]
        };
        let style = if n > s.threshold {
            theme.style("status.crit")
        } else {
            theme.style("sparkline")
        };
        spans.push(Span::styled(c.to_string(), style));
    }
    let over: Vec<&(i64, u32)> = counts.iter().filter(|c| c.1 > s.threshold).collect();
    let now_n = by_hour.get(&hour).copied().unwrap_or(0);
    spans.push(Span::styled(
        format!(" threshold {}/h", s.threshold),
        theme.style("text.dim"),
    ));
    spans.push(Span::styled(
        format!(" · this hour {now_n}"),
        theme.style(if now_n > s.threshold {
            "status.crit"
        } else {
            "text"
        }),
    ));
    if let Some(worst) = over.iter().max_by_key(|c| c.1) {
        let at = DateTime::from_timestamp(worst.0, 0)
            .map(|t| t.format("%m-%d %H:00").to_string())
            .unwrap_or_default();
        spans.push(Span::styled(
            format!(
                " · {} hour(s) over, worst {} at {at} UTC",
                over.len(),
                worst.1
            ),
            theme.style("status.crit"),
        ));
    }
    Line::from(spans)
}

fn level_style(theme: &Theme, l: Option<Level>) -> Style {
    match l {
        Some(Level::Error) => theme.style("status.crit"),
        Some(Level::Warn) => theme.style("status.warn"),
        Some(Level::Debug) => theme.style("text.dim"),
        _ => theme.style("text"),
    }
}

fn body_lines<'a>(s: &LogsState, theme: &Theme, area: Rect) -> Vec<Line<'a>> {
    let v = s.source().expect("a source");
    let height = area.height as usize;
    let width = area.width as usize;
    let n = s.row_count();
    if n == 0 {
        let msg = if s.searching {
            "searching…"
        } else if s.query.is_empty() {
            "(no lines yet)"
        } else {
            "no line matches"
        };
        return vec![Line::styled(msg, theme.style("text.dim"))];
    }
    let mut first = if s.follow {
        n.saturating_sub(height)
    } else {
        s.first_row()
    };
    if s.follow && s.wrap {
        // Following with wrap: the newest line must stay in sight, so start as far back as
        // the last rows' wrapped heights allow.
        let mut used = 0;
        let mut lines = v.store.lines();
        first = n;
        while first > 0 {
            let Some(li) = s.row_line(first - 1) else {
                break;
            };
            let cols: usize = text::inert(lines.get(li))
                .chars()
                .filter_map(|c| c.width())
                .sum();
            let h = cols.div_ceil(width.max(1)).max(1);
            if used + h > height {
                break;
            }
            used += h;
            first -= 1;
        }
    }
    let d = v.store.dropped();
    let mut out: Vec<Line> = Vec::with_capacity(height);
    let mut lines = v.store.lines();
    let mut r = first;
    while out.len() < height && r < n {
        let Some(li) = s.row_line(r) else { break };
        r += 1;
        let raw = lines.get(li);
        let lv = v.store.level(li);
        let base = level_style(theme, lv);
        let text = text::inert(raw);
        let cut = if raw.len() > text::DRAW_LIMIT {
            " …"
        } else {
            ""
        };
        let is_cursor = s.cursor == Some(li as u64 + d);
        let ranges = s
            .matcher()
            .map(|m| m.ranges(text.as_bytes()))
            .unwrap_or_default();
        let spans = highlighted(&text, &ranges, base, theme.style("selection"));
        if s.wrap {
            for piece in wrap_spans(spans, width.max(1)) {
                if out.len() == height {
                    break;
                }
                out.push(mark(Line::from(piece), is_cursor));
            }
        } else {
            let mut spans = skip_cols(spans, s.hscroll);
            if !cut.is_empty() {
                spans.push(Span::styled(cut, theme.style("text.dim")));
            }
            out.push(mark(Line::from(spans), is_cursor));
        }
    }
    out
}

fn mark(line: Line<'_>, cursor: bool) -> Line<'_> {
    if cursor {
        line.patch_style(Style::default().add_modifier(Modifier::REVERSED))
    } else {
        line
    }
}

fn highlighted<'a>(
    text: &str,
    ranges: &[(usize, usize)],
    base: Style,
    hit: Style,
) -> Vec<Span<'a>> {
    let mut spans = Vec::new();
    let mut at = 0;
    for &(a, b) in ranges {
        if a < at || !text.is_char_boundary(a) || !text.is_char_boundary(b) {
            continue;
        }
        if a > at {
            spans.push(Span::styled(text[at..a].to_string(), base));
        }
        spans.push(Span::styled(
            text[a..b].to_string(),
            hit.add_modifier(Modifier::BOLD),
        ));
        at = b;
    }
    if at < text.len() {
        spans.push(Span::styled(text[at..].to_string(), base));
    }
    spans
}

/// Drops the first `cols` columns (horizontal scroll).
fn skip_cols<'a>(spans: Vec<Span<'a>>, cols: usize) -> Vec<Span<'a>> {
    let mut left = cols;
    let mut out = Vec::new();
    for sp in spans {
        if left == 0 {
            out.push(sp);
            continue;
        }
        let mut kept = String::new();
        for c in sp.content.chars() {
            let w = c.width().unwrap_or(0);
            if left > 0 {
                left = left.saturating_sub(w.max(1));
            } else {
                kept.push(c);
            }
        }
        if !kept.is_empty() {
            out.push(Span::styled(kept, sp.style));
        }
    }
    out
}

/// Splits spans into rows of `width` columns.
fn wrap_spans<'a>(spans: Vec<Span<'a>>, width: usize) -> Vec<Vec<Span<'a>>> {
    let mut rows = vec![Vec::new()];
    let mut col = 0;
    for sp in spans {
        let mut cur = String::new();
        for c in sp.content.chars() {
            let w = c.width().unwrap_or(0);
            if col + w > width {
                if !cur.is_empty() {
                    rows.last_mut()
                        .expect("a row")
                        .push(Span::styled(std::mem::take(&mut cur), sp.style));
                }
                rows.push(Vec::new());
                col = 0;
            }
            cur.push(c);
            col += w;
        }
        if !cur.is_empty() {
            rows.last_mut()
                .expect("a row")
                .push(Span::styled(cur, sp.style));
        }
    }
    rows
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
