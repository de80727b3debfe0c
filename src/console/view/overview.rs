//! Overview: "is everything fine?" — host health against thresholds, alarms firing, and
//! what is not configured yet, each card leading to its tab.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};
use ratatui::Frame;

use super::alarms::severity_span;
use crate::config::theme::Theme;
use crate::config::Threshold;
use crate::state::State;
use crate::tab::Tab;
use crate::ui::widgets::bar::bar;
use crate::ui::widgets::format;
use crate::ui::widgets::panel::panel;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let disks = state
        .host
        .latest()
        .map(|s| s.disks.len())
        .unwrap_or(0)
        .max(1) as u16;
    let services = state
        .backups
        .catalog
        .as_ref()
        .map(|c| c.services.len())
        .unwrap_or(1)
        .max(1) as u16;
    let backups_h = services.min(4) + 2;
    if area.width >= 120 {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
                .areas(area);
        let svc_h = services_height(state);
        let [host, svc, fs] = Layout::vertical([
            Constraint::Length(5),
            Constraint::Length(svc_h),
            Constraint::Min(3),
        ])
        .areas(left);
        services_card(frame, svc, state, theme);
        let [alarms, rest] =
            Layout::vertical([Constraint::Percentage(60), Constraint::Min(4)]).areas(right);
        host_card(frame, host, state, theme);
        fs_card(frame, fs, state, theme);
        let [alarms, duties] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(3)]).areas(alarms);
        alarms_card(frame, alarms, state, theme);
        duties_card(frame, duties, state, theme);
        later_card(frame, rest, state, theme);
    } else {
        let [host, fs, alarms, duties, svc, rest] = Layout::vertical([
            Constraint::Length(5),
            Constraint::Length((disks + 2).min(10)),
            Constraint::Min(3),
            Constraint::Length(3),
            Constraint::Length(services_height(state).min(6)),
            Constraint::Length(backups_h),
        ])
        .areas(area);
        services_card(frame, svc, state, theme);
        host_card(frame, host, state, theme);
        fs_card(frame, fs, state, theme);
        alarms_card(frame, alarms, state, theme);
        duties_card(frame, duties, state, theme);
        later_card(frame, rest, state, theme);
    }
}

fn host_card(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let block = panel("Host", theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(s) = state.host.latest() else {
        frame.render_widget(
            Paragraph::new(Span::styled("measuring…", theme.style("text.dim"))),
            inner,
        );
        return;
    };
    let rows = Layout::vertical([Constraint::Length(1); 3]).split(inner);
    let cfg = &state.host_config;
    let mem = format!(
        "{}/{}",
        format::bytes(s.mem_used),
        format::bytes(s.mem_total)
    );
    metric_row(
        frame,
        rows[0],
        "CPU",
        s.cpu_pct,
        cfg.cpu,
        &format!("{} cores", s.cores),
        state,
        theme,
        |h| h.cpu_pct,
    );
    metric_row(
        frame,
        rows[1],
        "MEM",
        s.mem_pct(),
        cfg.memory,
        &mem,
        state,
        theme,
        |h| h.mem_pct(),
    );
    let load = Line::from(vec![
        Span::styled("LOAD ", theme.style("header")),
        Span::styled(
            format!("{:.2} {:.2} {:.2}", s.load[0], s.load[1], s.load[2]),
            theme.style("text"),
        ),
        Span::styled("  1/5/15 min", theme.style("text.dim")),
    ]);
    frame.render_widget(Paragraph::new(load), rows[2]);
}

#[allow(clippy::too_many_arguments)]
fn metric_row(
    frame: &mut Frame,
    area: Rect,
    label: &str,
    value: f64,
    t: Threshold,
    detail: &str,
    state: &State,
    theme: &Theme,
    series: impl Fn(&crate::providers::host_types::HostSample) -> f64,
) {
    let bar_w: u16 = if area.width >= 70 { 20 } else { 12 };
    let detail_w = (detail.len() as u16 + 1).min(14);
    let [l, b, p, d, spark] = Layout::horizontal([
        Constraint::Length(5),
        Constraint::Length(bar_w),
        Constraint::Length(6),
        Constraint::Length(detail_w),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Span::styled(label, theme.style("header"))),
        l,
    );
    frame.render_widget(
        Paragraph::new(Line::from(bar(theme, value, t, bar_w as usize))),
        b,
    );
    frame.render_widget(
        Paragraph::new(Span::styled(
            format::pct(value),
            crate::ui::widgets::bar::level_style(theme, value, t),
        )),
        p,
    );
    frame.render_widget(
        Paragraph::new(Span::styled(detail.to_string(), theme.style("text.dim"))),
        d,
    );
    if spark.width > 2 {
        let data = state.host.series(spark.width as usize, series);
        frame.render_widget(
            Sparkline::default()
                .data(&data)
                .max(100)
                .style(theme.style("sparkline")),
            spark,
        );
    }
}

fn fs_card(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let block = panel("Filesystems", theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(s) = state.host.latest() else {
        return;
    };
    if s.disks.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "no filesystems found",
                theme.style("text.dim"),
            )),
            inner,
        );
        return;
    }
    let mount_w = (inner.width as usize / 3).clamp(8, 28);
    let bar_w = if inner.width >= 70 { 20 } else { 12 };
    let mut disks: Vec<_> = s.disks.iter().collect();
    // Fullest first, so what is about to fill up is never cut off on a small screen.
    disks.sort_by(|a, b| b.pct().total_cmp(&a.pct()));
    let lines: Vec<Line> = disks
        .iter()
        .take(inner.height as usize)
        .map(|d| {
            let t = state
                .host_config
                .disk_threshold(std::path::Path::new(&d.mount));
            let mut spans = vec![Span::styled(
                format!("{:<w$} ", format::fit(&d.mount, mount_w), w = mount_w),
                theme.style("text"),
            )];
            spans.extend(bar(theme, d.pct(), t, bar_w));
            spans.push(Span::styled(
                format!(" {} ", format::pct(d.pct())),
                crate::ui::widgets::bar::level_style(theme, d.pct(), t),
            ));
            spans.push(Span::styled(
                format!(
                    "{}/{} {}",
                    format::bytes(d.used),
                    format::bytes(d.total),
                    d.fs_type
                ),
                theme.style("text.dim"),
            ));
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn alarms_card(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let open = state.alarm_list.open_alarms();
    let n = open.len();
    let block = panel(leads_to(format!("Alarms ({n})"), state, Tab::Alarms), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if n == 0 {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "Nothing firing. Local thresholds: CPU/memory 80/95 %, disks 70/85 %.",
                theme.style("status.ok"),
            )),
            inner,
        );
        return;
    }
    let lines: Vec<Line> = open
        .into_iter()
        .take(inner.height as usize)
        .map(|a| {
            let text = if a.reason.is_empty() || a.kind != crate::alarms::model::AlarmKind::Local {
                a.name.clone()
            } else {
                a.reason.clone()
            };
            Line::from(vec![
                severity_span(a.level, theme),
                Span::raw(" "),
                Span::styled(
                    format::fit(&text, inner.width.saturating_sub(12) as usize),
                    theme.style("text"),
                ),
                Span::styled(
                    format!(" {}", format::age(state.now - a.since)),
                    theme.style("text.dim"),
                ),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Backups per service (newest good age against the RPO) and what is not configured.
fn later_card(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let block = panel(leads_to("Backups".into(), state, Tab::Backups), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = Vec::new();
    match state.backups.catalog.as_deref() {
        _ if !state.backups.configured => lines.push(Line::from(Span::styled(
            "not configured: add [backups] roots to config.toml",
            theme.style("text.dim"),
        ))),
        None => lines.push(Line::from(Span::styled(
            "scanning…",
            theme.style("text.dim"),
        ))),
        Some(cat) => {
            let summaries = crate::backups::rules::summaries(cat, state.now);
            if summaries.is_empty() {
                lines.push(Line::from(Span::styled(
                    "no services found under the backup roots",
                    theme.style("status.warn"),
                )));
            }
            let room = inner.height.max(1) as usize;
            for s in summaries.iter().take(room) {
                let age = match s.newest_good_age {
                    Some(a) => format!("newest good {} ago", crate::backups::rules::human_age(a)),
                    None => "no good backup".to_string(),
                };
                lines.push(Line::from(vec![
                    severity_span(s.severity, theme),
                    Span::styled(
                        format!(" {:<16}", format::fit(&s.service, 16)),
                        theme.style("text"),
                    ),
                    Span::styled(age, theme.style("text")),
                    Span::styled(
                        format!("  RPO {}", crate::backups::rules::human_policy(s.rpo)),
                        theme.style("text.dim"),
                    ),
                ]));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Today's duties: how many, how many overdue or due, and the next one.
fn duties_card(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let s = &state.calendar.summary;
    let block = panel(leads_to("Duties".into(), state, Tab::Calendar), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut spans = vec![Span::styled(
        format!("{} today", s.today.len()),
        theme.style("text"),
    )];
    if s.overdue > 0 {
        spans.push(Span::styled(
            format!("  {} overdue", s.overdue),
            theme.style("status.warn"),
        ));
    }
    if s.due > 0 {
        spans.push(Span::styled(
            format!("  {} due", s.due),
            theme.style("text"),
        ));
    }
    if let Some(n) = &s.next {
        let title = state
            .calendar
            .book
            .duties
            .get(n.duty)
            .map(|d| d.title.as_str())
            .unwrap_or("");
        let when = state.zone.show_as(n.at, "%a %H:%M");
        let room = (inner.width as usize)
            .saturating_sub(spans.iter().map(|x| x.width()).sum::<usize>() + 9 + when.len());
        spans.push(Span::styled(
            format!("  next {when} {}", format::fit(title, room)),
            theme.style("text.dim"),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), inner);
}

/// A card's title with the key of the tab it leads to: `Alarms (2) — 2`.
fn leads_to(title: String, state: &State, tab: Tab) -> String {
    match crate::console::hints::tab_key(&state.keymap, tab) {
        Some(k) => format!("{title} — {k}"),
        None => title,
    }
}

/// The Services card's rows: none when nothing is configured to watch.
fn services_height(state: &State) -> u16 {
    let s = &state.services;
    if !s.configured && s.containers.is_empty() {
        return 0;
    }
    crate::services::view::card::wanted_height(s)
}

fn services_card(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if area.height < 3 {
        return;
    }
    crate::services::view::card::render(
        frame,
        area,
        &state.services,
        theme,
        state.now,
        state.zone.tz(),
        leads_to("Services".into(), state, Tab::Services),
    );
}
