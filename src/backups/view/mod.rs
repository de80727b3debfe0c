//! The Backups tab: per service, every backup with its age, size, files and verification
//! state; the findings; a progress gauge while verifying; the record of restore drills.
//! Pure: draws the state, reads nothing. The backup table is in [`table`], the drills in
//! [`drills`].

mod detail;
mod drills;
mod table;

use drills::render_drills;
use table::render_table;

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, List, ListItem, ListState, Paragraph, Wrap};
use ratatui::Frame;

use crate::backups::catalog::{
    BackupEntry, BackupStatus, Catalog, ServiceCatalog, VerificationState,
};
use crate::backups::rules::{self, human_age, human_policy, human_size};
use crate::backups::state::BackupsState;
use crate::config::theme::Theme;
use crate::health::Severity;
use crate::ui::widgets::hints::{self, Hint};

pub const NO_DRILLS: &str = "No restore drills recorded yet";

pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &BackupsState,
    theme: &Theme,
    now: DateTime<Utc>,
    hints: &[Hint],
) {
    if !state.configured {
        render_unconfigured(frame, area, theme);
        return;
    }
    let Some(cat) = state.catalog.as_deref() else {
        let p = Paragraph::new(Line::styled(
            "Scanning the backup roots…",
            theme.style("text.dim"),
        ))
        .block(block(" Backups ", theme));
        frame.render_widget(p, area);
        return;
    };

    let findings = finding_lines(cat, theme, area.width);
    let max_findings = if area.height < 30 { 4 } else { 8 };
    let findings_h = findings.len().min(max_findings) as u16;
    let status_h = u16::from(state.verify.is_some() || state.last_run.is_some());
    let drills_h = 2 + state.drills.len().clamp(1, 3) as u16;
    let [summary_a, findings_a, status_a, table_a, drills_a] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(findings_h),
        Constraint::Length(status_h),
        Constraint::Min(5),
        Constraint::Length(drills_h),
    ])
    .areas(area);

    frame.render_widget(Paragraph::new(summary_line(cat, theme, now)), summary_a);
    let mut shown: Vec<Line> = findings.into_iter().take(max_findings).collect();
    let total = cat.findings.len() + usize::from(!cat.notes.is_empty());
    if total > max_findings && !shown.is_empty() {
        let last = shown.len() - 1;
        shown[last] = Line::styled(
            format!("… and {} more alarms", total - last),
            theme.style("text.dim"),
        );
    }
    frame.render_widget(Paragraph::new(shown), findings_a);
    if status_h > 0 {
        render_status(frame, status_a, state, theme);
    }
    render_table(frame, table_a, state, cat, theme, now, hints);
    render_drills(frame, drills_a, state, theme, hints);
    if let Some(b) = state.selected().filter(|_| state.detail) {
        detail::render(frame, area, state, b, theme, now, hints);
    }
}

fn block<'a>(title: &'a str, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("border"))
        .title(Span::styled(title, theme.style("title")))
}

fn render_unconfigured(frame: &mut Frame, area: Rect, theme: &Theme) {
    let dim = theme.style("text.dim");
    let code = theme.style("text");
    let lines = vec![
        Line::styled("No backup roots configured.", theme.style("empty")),
        Line::raw(""),
        Line::styled(
            "Once configured, this tab lists every backup per service (daily, weekly, pg_dump \
             files) with age, size and checksum verification, and raises alarms when the newest \
             good backup is older than the RPO, jobs fail, the volume fills or retention is not kept.",
            dim,
        ),
        Line::raw(""),
        Line::styled("Add to config.toml:", theme.style("text")),
        Line::raw(""),
        Line::styled("  [backups]", code),
        Line::styled("  roots = [\"/mnt/backup-hdd\"]", code),
        Line::styled("  rpo = \"24h\"", code),
        Line::styled("  retention = { daily = 7, weekly = 4, dump_days = 30 }", code),
        Line::raw(""),
        Line::styled("Layout: <root>/<service>/{daily,weekly}/YYYY-MM-DD/manifest.json", dim),
        Line::styled("    or: <root>/<service>/YYYYMMDD_HHMMSS.sql.gz", dim),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(" Backups ", theme)),
        area,
    );
}

fn severity_style(theme: &Theme, s: Severity) -> Style {
    theme.style(match s {
        Severity::Ok => "status.ok",
        Severity::Warning => "status.warn",
        Severity::Critical => "status.crit",
        Severity::Unknown => "status.unknown",
    })
}

fn severity_tag(s: Severity) -> &'static str {
    match s {
        Severity::Ok => "OK  ",
        Severity::Warning => "WARN",
        Severity::Critical => "CRIT",
        Severity::Unknown => "UNKN",
    }
}

fn summary_line<'a>(cat: &Catalog, theme: &Theme, now: DateTime<Utc>) -> Line<'a> {
    let mut spans = vec![Span::styled(
        format!(
            "{} service{} · {} backup{}",
            cat.services.len(),
            if cat.services.len() == 1 { "" } else { "s" },
            cat.backup_count(),
            if cat.backup_count() == 1 { "" } else { "s" },
        ),
        theme.style("text"),
    )];
    for r in &cat.roots {
        let (text, style) = match (&r.error, r.usage) {
            (Some(e), _) => (
                format!(" · {}: {}", clean(&r.path.display().to_string()), clean(e)),
                theme.style("status.crit"),
            ),
            (None, Some(u)) => {
                let pct = u.used_pct();
                let st = if pct >= r.storage_crit {
                    "status.crit"
                } else if pct >= r.storage_warn {
                    "status.warn"
                } else {
                    "text"
                };
                (
                    format!(" · {} {pct:.0}% full", clean(&r.path.display().to_string())),
                    theme.style(st),
                )
            }
            (None, None) => (
                format!(" · {}", clean(&r.path.display().to_string())),
                theme.style("text"),
            ),
        };
        spans.push(Span::styled(text, style));
    }
    spans.push(Span::styled(
        format!(
            " · scanned {} ago",
            human_age((now - cat.scanned_at).to_std().unwrap_or_default())
        ),
        theme.style("text.dim"),
    ));
    Line::from(spans)
}

fn finding_lines<'a>(cat: &Catalog, theme: &Theme, width: u16) -> Vec<Line<'a>> {
    let room = (width as usize).saturating_sub(5);
    let mut out: Vec<Line> = cat
        .findings
        .iter()
        .map(|f| {
            Line::from(vec![
                Span::styled(severity_tag(f.severity), severity_style(theme, f.severity)),
                Span::styled(
                    format!(" {}", truncate(&clean(&f.message), room)),
                    theme.style("text"),
                ),
            ])
        })
        .collect();
    if out.is_empty() && !cat.services.is_empty() {
        out.push(Line::styled(
            "OK   every backup rule passes (RPO, success rate, storage, retention)",
            theme.style("status.ok"),
        ));
    }
    if let Some(n) = cat.notes.first() {
        out.push(Line::styled(
            format!("note: {}", clean(n)),
            theme.style("text.dim"),
        ));
    }
    out
}

fn render_status(frame: &mut Frame, area: Rect, state: &BackupsState, theme: &Theme) {
    if let Some(run) = &state.verify {
        let ratio = run.ratio();
        let label = match &run.progress {
            Some(p) => format!(
                "{:.0}% · {}/{} backups · verifying {} {} {} · {} of {}",
                ratio * 100.0,
                p.backups_done + 1,
                p.backups_total,
                clean(&p.service),
                clean(&p.name),
                clean(&p.file),
                human_size(p.bytes_done),
                human_size(p.bytes_total),
            ),
            None => format!("verifying {} backups…", run.backups_total),
        };
        frame.render_widget(
            Gauge::default()
                .ratio(ratio)
                .label(Span::styled(label, theme.style("text")))
                .gauge_style(theme.style("gauge.ok")),
            area,
        );
    } else if let Some(s) = &state.last_run {
        let (text, style) = if let Some(e) = &s.error {
            (
                format!("verification: {}", clean(e)),
                theme.style("status.warn"),
            )
        } else if s.cancelled {
            (
                format!(
                    "verification cancelled after {} ok, {} failed",
                    s.ok, s.failed
                ),
                theme.style("status.warn"),
            )
        } else if s.failed > 0 {
            (
                format!("last verification: {} ok, {} FAILED", s.ok, s.failed),
                theme.style("status.crit"),
            )
        } else {
            (
                format!("last verification: {} ok", s.ok),
                theme.style("status.ok"),
            )
        };
        frame.render_widget(Paragraph::new(Line::styled(text, style)), area);
    }
}

/// Column widths; the narrow layout drops files and the job status and shortens the time.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn truncate(s: &str, room: usize) -> String {
    if s.chars().count() <= room {
        return s.to_string();
    }
    if room == 0 {
        return String::new();
    }
    let mut t: String = s.chars().take(room - 1).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests;
