//! The backup table: a header per service (newest good, RPO, job success), a row per backup,
//! and the days a daily backup is missing.

use super::*;

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

pub(super) fn render_table(
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
        items.push(ListItem::new(service_header(s, cat, theme, now)));
        if s.backups.is_empty() {
            items.push(ListItem::new(Line::styled(
                "   no backups",
                theme.style("text.dim"),
            )));
        }
        let mut gaps = missing_daily(s, now, state.zone).into_iter().peekable();
        for b in &s.backups {
            let day = state.zone.local(b.time).date_naive();
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
                state.zone,
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
fn missing_daily(
    s: &ServiceCatalog,
    now: DateTime<Utc>,
    zone: crate::time::Zone,
) -> Vec<chrono::NaiveDate> {
    let present: std::collections::BTreeSet<chrono::NaiveDate> = s
        .backups
        .iter()
        .filter(|b| b.kind == crate::backups::catalog::BackupKind::Daily)
        .map(|b| zone.local(b.time).date_naive())
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

fn service_header<'a>(
    s: &ServiceCatalog,
    cat: &Catalog,
    theme: &Theme,
    now: DateTime<Utc>,
) -> Line<'a> {
    let newest = s.newest_good();
    let age = newest.map(|b| b.age(now));
    // The service's worst finding, as Overview says it: a fresh backup does not make a
    // service short of its retention "OK".
    let sev = cat
        .findings
        .iter()
        .filter(|f| f.subject == s.name)
        .map(|f| f.severity)
        .fold(rules::rpo_severity(age, s.policy.rpo), Severity::worst);
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
    zone: crate::time::Zone,
) -> Line<'a> {
    let local = zone.local(b.time);
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
