//! The Backups tab: per service, every backup with its age, size, files and verification
//! state; the findings; a progress gauge while verifying; the record of restore drills.
//! Pure: draws the state, reads nothing.

use chrono::{DateTime, Local, Utc};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, List, ListItem, ListState, Paragraph, Wrap};
use ratatui::Frame;

use crate::action::Action;
use crate::backups::catalog::{
    BackupEntry, BackupStatus, Catalog, ServiceCatalog, VerificationState,
};
use crate::backups::rules::{self, human_age, human_policy, human_size, human_span};
use crate::backups::state::{BackupsState, DrillResult};
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
struct Cols {
    wide: bool,
    when: usize,
}

impl Cols {
    fn for_width(w: u16) -> Cols {
        let wide = w >= 110;
        Cols {
            wide,
            when: if wide { 16 } else { 11 },
        }
    }
}

fn render_table(
    frame: &mut Frame,
    area: Rect,
    state: &BackupsState,
    cat: &Catalog,
    theme: &Theme,
    now: DateTime<Utc>,
    hints: &[Hint],
) {
    let inner_w = area.width.saturating_sub(2);
    let cols = Cols::for_width(inner_w);
    let mut items: Vec<ListItem> = Vec::new();
    let mut selected_row = None;
    let mut n = 0usize;
    if cat.services.is_empty() {
        items.push(ListItem::new(Line::styled(
            "No backups found under the roots (expected <root>/<service>/{daily,weekly}/YYYY-MM-DD/ or *.sql.gz dumps)",
            theme.style("empty"),
        )));
    }
    for s in &cat.services {
        items.push(ListItem::new(service_header(s, theme, now)));
        if s.backups.is_empty() {
            items.push(ListItem::new(Line::styled(
                "   no backups",
                theme.style("text.dim"),
            )));
        }
        let mut gaps = missing_daily(s, now).into_iter().peekable();
        for b in &s.backups {
            let day = b.time.with_timezone(&Local).date_naive();
            while let Some(g) = gaps.next_if(|g| *g > day) {
                items.push(ListItem::new(gap_line(g, theme)));
            }
            if n == state.selected {
                selected_row = Some(items.len());
            }
            n += 1;
            items.push(ListItem::new(backup_line(
                b,
                &cols,
                inner_w as usize,
                theme,
                now,
            )));
        }
        items.extend(gaps.map(|g| ListItem::new(gap_line(g, theme))));
    }
    let outer = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("border"))
        .title(Span::styled(" Backups ", theme.style("title")))
        .title_bottom(Line::styled(hints::join(hints), theme.style("text.dim")));
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    let [head_a, list_a] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    frame.render_widget(
        Paragraph::new(Line::styled(column_header(&cols), theme.style("header"))),
        head_a,
    );
    let list = List::new(items).highlight_style(theme.style("selection"));
    let mut ls = ListState::default().with_selected(selected_row);
    frame.render_stateful_widget(list, list_a, &mut ls);
}

/// Days within the daily retention with no daily backup at all, newest first (a day whose
/// backup exists but is bad shows as that backup).
fn missing_daily(s: &ServiceCatalog, now: DateTime<Utc>) -> Vec<chrono::NaiveDate> {
    let present: std::collections::BTreeSet<chrono::NaiveDate> = s
        .backups
        .iter()
        .filter(|b| b.kind == crate::backups::catalog::BackupKind::Daily)
        .map(|b| b.time.with_timezone(&Local).date_naive())
        .collect();
    if present.is_empty() {
        return Vec::new();
    }
    let mut days = rules::missing_days(s, now, s.policy.retention.daily);
    days.retain(|d| !present.contains(d));
    days.reverse();
    days
}

fn gap_line<'a>(day: chrono::NaiveDate, theme: &Theme) -> Line<'a> {
    Line::styled(
        format!(
            "✗ {:<7} {}  no backup this day",
            "daily",
            day.format("%Y-%m-%d")
        ),
        theme.style("status.warn"),
    )
}

fn column_header(c: &Cols) -> String {
    let mut s = format!(
        "  {:<7} {:<w$} {:>7} {:>9}",
        "kind",
        "time",
        "age",
        "size",
        w = c.when
    );
    if c.wide {
        s.push_str(&format!(" {:>5} {:<10}", "files", "job"));
    }
    s.push_str(" verification");
    s
}

fn service_header<'a>(s: &ServiceCatalog, theme: &Theme, now: DateTime<Utc>) -> Line<'a> {
    let newest = s.newest_good();
    let age = newest.map(|b| b.age(now));
    let sev = rules::rpo_severity(age, s.policy.rpo);
    let freshness = match age {
        Some(a) => format!(
            "newest good {} ago · RPO {}",
            human_age(a),
            human_policy(s.policy.rpo)
        ),
        None => format!("no good backup · RPO {}", human_policy(s.policy.rpo)),
    };
    let (ok, failed) = rules::job_counts(s, now);
    let mut spans = vec![
        Span::styled(format!("{} ", clean(&s.name)), theme.style("header")),
        Span::styled(
            format!("{} {freshness}", severity_tag(sev).trim_end()),
            severity_style(theme, sev),
        ),
    ];
    if ok + failed > 0 {
        let rate = ok as f64 * 100.0 / (ok + failed) as f64;
        let st = if rate < s.policy.success_rate {
            "status.warn"
        } else {
            "text.dim"
        };
        spans.push(Span::styled(
            format!(
                " · jobs {rate:.0}% ok ({})",
                human_policy(s.policy.success_window)
            ),
            theme.style(st),
        ));
    }
    Line::from(spans)
}

fn backup_line<'a>(
    b: &BackupEntry,
    c: &Cols,
    width: usize,
    theme: &Theme,
    now: DateTime<Utc>,
) -> Line<'a> {
    let local = b.time.with_timezone(&Local);
    let when = if c.wide {
        local.format("%Y-%m-%d %H:%M").to_string()
    } else {
        local.format("%m-%d %H:%M").to_string()
    };
    let (mark, mark_style) = if b.newest_good {
        ("★ ", theme.style("status.ok"))
    } else if !b.problems.is_empty()
        || b.verification.is_failed()
        || !matches!(b.status, BackupStatus::Success | BackupStatus::Unchecked)
    {
        ("✗ ", theme.style("status.crit"))
    } else {
        ("  ", theme.style("text"))
    };
    let mut spans = vec![
        Span::styled(mark, mark_style),
        Span::styled(
            format!(
                "{:<7} {:<w$} {:>7} {:>9}",
                b.kind.as_str(),
                when,
                human_age(b.age(now)),
                human_size(b.size),
                w = c.when
            ),
            theme.style("text"),
        ),
    ];
    if c.wide {
        let job_style = match b.status {
            BackupStatus::Success => theme.style("text"),
            BackupStatus::Unknown | BackupStatus::Unchecked => theme.style("status.unknown"),
            _ => theme.style("status.crit"),
        };
        spans.push(Span::styled(
            format!(" {:>5}", b.files),
            theme.style("text"),
        ));
        spans.push(Span::styled(
            format!(" {:<10}", b.status.as_str()),
            job_style,
        ));
    }
    let (text, style) = check_text(b, c.wide, theme, now);
    let used: usize = spans.iter().map(|s| s.width()).sum::<usize>() + 1;
    let room = width.saturating_sub(used);
    spans.push(Span::styled(format!(" {}", truncate(&text, room)), style));
    Line::from(spans)
}

/// The last column: what most needs saying about this backup.
fn check_text(b: &BackupEntry, wide: bool, theme: &Theme, now: DateTime<Utc>) -> (String, Style) {
    if let Some(p) = b.problems.first() {
        let more = if b.problems.len() > 1 {
            format!(" (+{})", b.problems.len() - 1)
        } else {
            String::new()
        };
        return (
            format!("{}{more}", clean(&p.message)),
            theme.style("status.crit"),
        );
    }
    if b.status == BackupStatus::Unchecked {
        return ("checking the gzip stream…".into(), theme.style("text.dim"));
    }
    if !wide && b.status != BackupStatus::Success {
        return (
            format!("job {}", b.status.as_str()),
            theme.style("status.crit"),
        );
    }
    match &b.verification {
        VerificationState::Never => ("not verified".into(), theme.style("text.dim")),
        VerificationState::Ok { at } => (
            format!(
                "ok {} ago",
                human_age((now - *at).to_std().unwrap_or_default())
            ),
            theme.style("status.ok"),
        ),
        VerificationState::Failed { at, what } => (
            format!(
                "FAILED {} ago: {}",
                human_age((now - *at).to_std().unwrap_or_default()),
                clean(what)
            ),
            theme.style("status.crit"),
        ),
    }
}

fn render_drills(
    frame: &mut Frame,
    area: Rect,
    state: &BackupsState,
    theme: &Theme,
    hints: &[Hint],
) {
    let lines: Vec<Line> = if state.drills.is_empty() {
        let how = hints::key_of(hints, Action::Drill)
            .map(|k| format!(" — run one with `{k}` on a backup"))
            .unwrap_or_default();
        vec![Line::styled(
            format!("{NO_DRILLS}{how}"),
            theme.style("empty"),
        )]
    } else {
        state
            .drills
            .iter()
            .rev()
            .take(3)
            .map(|d| {
                let (res, st) = match &d.result {
                    DrillResult::Passed => ("passed".to_string(), "status.ok"),
                    DrillResult::Failed { why } => {
                        (format!("FAILED: {}", clean(why)), "status.crit")
                    }
                    DrillResult::Aborted => ("aborted".to_string(), "status.warn"),
                };
                Line::from(vec![
                    Span::styled(
                        format!(
                            "{}  {} {}  RTO {}  ",
                            d.at.with_timezone(&Local).format("%Y-%m-%d %H:%M"),
                            clean(&d.service),
                            clean(&d.backup),
                            human_span(d.duration)
                        ),
                        theme.style("text"),
                    ),
                    Span::styled(res, theme.style(st)),
                ])
            })
            .collect()
    };
    frame.render_widget(
        Paragraph::new(lines).block(block(" Restore drills ", theme)),
        area,
    );
}

/// Names and messages come from disk: no control characters reach the terminal.
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
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use chrono::TimeZone;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    use super::*;
    use crate::backups::catalog::{BackupKind, Problem, ProblemKind, RootStatus, Usage};
    use crate::backups::config::BackupsConfig;
    use crate::backups::state::DrillRecord;
    use crate::providers::backups::{BackupsUpdate, VerifyProgress, VerifyTarget};

    fn now() -> DateTime<Utc> {
        // Times are shown in local time; pin it so snapshots do not depend on the machine.
        std::env::set_var("TZ", "UTC");
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap()
    }

    fn entry(service: &str, kind: BackupKind, name: &str, age_h: i64, size: u64) -> BackupEntry {
        BackupEntry {
            id: format!("/mnt/backup-hdd/{service}/{kind}/{name}"),
            service: service.into(),
            kind,
            name: name.into(),
            path: format!("/mnt/backup-hdd/{service}/{name}").into(),
            time: now() - chrono::Duration::hours(age_h),
            size,
            files: 3,
            status: BackupStatus::Success,
            problems: vec![],
            verification: VerificationState::Never,
            newest_good: false,
        }
    }

    fn catalog_with_corruption_and_gap() -> Catalog {
        let n = now();
        let mut mail = Vec::new();
        for day in [0i64, 1, 3, 4, 5, 6] {
            let t = n - chrono::Duration::hours(24 * day + 6);
            let mut e = entry(
                "mailserver",
                BackupKind::Daily,
                &t.format("%Y-%m-%d").to_string(),
                24 * day + 6,
                48 << 20,
            );
            if day == 0 {
                e.verification = VerificationState::Ok {
                    at: n - chrono::Duration::hours(1),
                };
            }
            if day == 1 {
                e.verification = VerificationState::Failed {
                    at: n - chrono::Duration::minutes(20),
                    what: "mail-data.tar.gz: checksum mismatch: sha256 3f1c0aa9e2b1…, manifest says 9a0e44c1d7f2…".into(),
                };
            }
            mail.push(e);
        }
        for w in 0..4i64 {
            let t = n - chrono::Duration::hours(24 * 7 * w + 31);
            mail.push(entry(
                "mailserver",
                BackupKind::Weekly,
                &t.format("%Y-%m-%d").to_string(),
                24 * 7 * w + 31,
                310 << 20,
            ));
        }
        let mut db = Vec::new();
        for (i, d) in [6i64, 30, 54].iter().enumerate() {
            let t = n - chrono::Duration::hours(*d);
            let mut e = entry(
                "db",
                BackupKind::Dump,
                &format!("{}.sql.gz", t.format("%Y%m%d_%H%M%S")),
                *d,
                5 << 20,
            );
            e.files = 1;
            if i == 0 {
                e.status = BackupStatus::Incomplete;
                e.problems.push(Problem::new(
                    ProblemKind::IncompleteGzip,
                    "gzip stream ends early (truncated)",
                ));
            }
            db.push(e);
        }
        let cfg = BackupsConfig::default();
        let mut c = Catalog {
            scanned_at: n - chrono::Duration::minutes(2),
            scan_duration: Duration::from_millis(40),
            roots: vec![RootStatus {
                path: "/mnt/backup-hdd".into(),
                error: None,
                usage: Some(Usage {
                    total: 1000,
                    used: 620,
                    available: 380,
                }),
                storage_warn: 80.0,
                storage_crit: 95.0,
            }],
            services: vec![
                ServiceCatalog {
                    name: "db".into(),
                    root: "/mnt/backup-hdd".into(),
                    policy: cfg.policy("db"),
                    backups: db,
                },
                ServiceCatalog {
                    name: "mailserver".into(),
                    root: "/mnt/backup-hdd".into(),
                    policy: cfg.policy("mailserver"),
                    backups: mail,
                },
            ],
            findings: vec![],
            notes: vec![],
            pending_checks: 0,
        };
        c.mark_newest_good();
        c.findings = rules::evaluate(&c, n);
        c
    }

    fn draw(state: &BackupsState, w: u16, h: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        let theme = Theme::fallback();
        use crate::config::keymap::{KeyContext, Keymap};
        let km = Keymap::builtin_default();
        let ctx = [KeyContext::Backups, KeyContext::List];
        let hints: Vec<Hint> = [
            (Action::Verify, "verify"),
            (Action::VerifyAll, "verify service"),
            (Action::Restore, "restore"),
            (Action::Drill, "drill"),
        ]
        .into_iter()
        .map(|(action, label)| Hint {
            action,
            key: km
                .key_for(&ctx, action)
                .expect("bound in the default keymap"),
            label: label.into(),
        })
        .collect();
        t.draw(|f| render(f, f.area(), state, &theme, now(), &hints))
            .unwrap();
        t.backend().to_string()
    }

    fn corrupt_state() -> BackupsState {
        let mut s = BackupsState::new(true);
        s.apply(BackupsUpdate::Catalog(Arc::new(
            catalog_with_corruption_and_gap(),
        )));
        s.select_next();
        s.select_next();
        s.select_next();
        s
    }

    #[test]
    fn backups_empty_80x24() {
        insta::assert_snapshot!(draw(&BackupsState::new(false), 80, 24));
    }

    #[test]
    fn backups_empty_160x48() {
        insta::assert_snapshot!(draw(&BackupsState::new(false), 160, 48));
    }

    #[test]
    fn backups_corrupt_and_gap_80x24() {
        let out = draw(&corrupt_state(), 80, 24);
        assert!(out.contains("retention not met"), "{out}");
        assert!(out.contains("2026-11-21  no backup this day"), "{out}");
        assert!(
            out.contains(NO_DRILLS.split(" — ").next().unwrap()),
            "{out}"
        );
        insta::assert_snapshot!(out);
    }

    #[test]
    fn backups_corrupt_and_gap_160x48() {
        let mut s = corrupt_state();
        s.drills.push(DrillRecord {
            at: now() - chrono::Duration::days(20),
            service: "mailserver".into(),
            backup: "2026-11-02".into(),
            duration: Duration::from_secs(252),
            result: crate::backups::state::DrillResult::Passed,
        });
        let out = draw(&s, 160, 48);
        assert!(out.contains("checksum mismatch"), "{out}");
        assert!(out.contains("RTO 4m"), "{out}");
        insta::assert_snapshot!(out);
    }

    fn verifying_state() -> BackupsState {
        let mut s = corrupt_state();
        s.apply(BackupsUpdate::VerifyStarted {
            target: VerifyTarget::Service("mailserver".into()),
            backups: 10,
            bytes: 1528 << 20,
        });
        s.apply(BackupsUpdate::VerifyProgress(VerifyProgress {
            target: VerifyTarget::Service("mailserver".into()),
            backup_id: "x".into(),
            service: "mailserver".into(),
            name: "2026-11-19".into(),
            file: "mail-data.tar.gz".into(),
            backups_done: 3,
            backups_total: 10,
            bytes_done: 573 << 20,
            bytes_total: 1528 << 20,
        }));
        s
    }

    #[test]
    fn backups_verifying_80x24() {
        let out = draw(&verifying_state(), 80, 24);
        assert!(out.contains("4/10 backups"), "{out}");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn backups_verifying_160x48() {
        insta::assert_snapshot!(draw(&verifying_state(), 160, 48));
    }

    #[test]
    fn escape_sequences_from_disk_are_made_inert() {
        let mut c = catalog_with_corruption_and_gap();
        c.services[0].name = "evil\x1b[2J".into();
        let mut s = BackupsState::new(true);
        s.apply(BackupsUpdate::Catalog(Arc::new(c)));
        let out = draw(&s, 80, 24);
        assert!(!out.contains('\x1b'));
        assert!(out.contains("evil?[2J"), "{out}");
    }
}
