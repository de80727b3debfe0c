//! The top line: name, host, tabs with their number keys, and the alarm count.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::config::theme::Theme;
use crate::health::Severity;
use crate::state::tabs::Tab;
use crate::state::State;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    // Every source counts (toban's own checks, CloudWatch, Alertmanager); an acknowledged
    // or silenced alarm is someone's already and does not.
    let open = state.alarm_list.open_alarms();
    let crit = open
        .iter()
        .filter(|a| a.level == Severity::Critical)
        .count();
    let warn = open.iter().filter(|a| a.level == Severity::Warning).count();
    let summary = match (crit, warn) {
        (0, 0) => Span::styled(" ● all clear ", theme.style("status.ok")),
        (0, w) => Span::styled(format!(" ▲ {w} warn "), theme.style("status.warn")),
        (c, 0) => Span::styled(format!(" ■ {c} crit "), theme.style("status.crit")),
        (c, w) => Span::styled(format!(" ■ {c} crit {w} warn "), theme.style("status.crit")),
    };
    // A newly firing alarm is named on every tab while it is the newest unhandled one,
    // as far as the width left by the tabs allows.
    let summary = match state.alarm_list.top_bar().newest {
        Some(n) if area.width >= 60 => {
            let room = (area.width as usize).saturating_sub(58 + summary.width());
            let name = crate::ui::widgets::format::fit_middle(&n.name, room.saturating_sub(6));
            if room >= 12 {
                Span::styled(format!("{}new {name} ", summary.content), summary.style)
            } else {
                summary
            }
        }
        _ => summary,
    };
    let summary_w = summary.width() as u16;
    let [left, right] =
        Layout::horizontal([Constraint::Min(10), Constraint::Length(summary_w)]).areas(area);

    let narrow = area.width < 100;
    let mut spans = vec![Span::styled(" toban ", theme.style("title"))];
    if !narrow && !state.hostname.is_empty() {
        spans.push(Span::styled(
            format!("{} ", state.hostname),
            theme.style("text.dim"),
        ));
    }
    if state.read_only {
        spans.push(Span::styled("RO ", theme.style("status.warn")));
    }
    if state.demo {
        spans.push(Span::styled("DEMO ", theme.style("status.unknown")));
    }
    let run = run_badge(state);
    // Too narrow still (alarms counted on the right): the other tabs' titles shorten.
    let used: usize = spans.iter().map(|s| s.width()).sum::<usize>()
        + Tab::ALL.iter().map(|t| t.title().len() + 3).sum::<usize>();
    let cramped = narrow && used > left.width as usize;
    for t in Tab::ALL {
        // Narrow terminals lose the padding first, never a tab; with a run open, the
        // other tabs' titles give way to it.
        let label = if narrow && run.is_some() && t != state.tab {
            format!("{} ", t.index() + 1)
        } else if cramped && t != state.tab {
            format!(
                "{} {} ",
                t.index() + 1,
                &t.title()[..t.title().len().min(4)]
            )
        } else if narrow {
            format!("{} {} ", t.index() + 1, t.title())
        } else {
            format!(" {} {} ", t.index() + 1, t.title())
        };
        let style = if t == state.tab {
            theme.style("tab.active")
        } else {
            theme.style("tab")
        };
        spans.push(Span::styled(label, style));
    }
    if let Some((text, style)) = run {
        spans.push(Span::styled(text, theme.style(style)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), left);
    frame.render_widget(Paragraph::new(Line::from(summary)), right);
}

/// The open run, on every tab: which runbook, which step of how many, for how long, and
/// the key that returns to it when it is out of sight.
fn run_badge(state: &State) -> Option<(String, &'static str)> {
    // In sight, the wizard says all this itself.
    let w = state.wizard.as_deref().filter(|_| state.wizard_hidden)?;
    let e = &w.engine;
    let step = e.state.current.map(|i| i + 1).unwrap_or(0);
    let since = w
        .running_since()
        .or_else(|| chrono::DateTime::from_timestamp_millis(e.state.started_ms))
        .map(|t| format!(" {}", crate::ui::widgets::format::age(state.now - t)))
        .unwrap_or_default();
    let (mark, style) = match e.state.status {
        s if s.is_finished() => ("■", "text.dim"),
        _ if w.waiting_on_original() || w.waiting() == crate::runbook::engine::Waiting::Outcome => {
            ("▶", "wizard.step.running")
        }
        _ => ("‖", "status.warn"),
    };
    let back = state
        .keymap
        .key_for(
            &[crate::config::keymap::KeyContext::Global],
            crate::action::Action::Runbooks,
        )
        .map(|k| format!(" ({k} returns)"))
        .unwrap_or_default();
    Some((
        format!(
            " {mark} {} {step}/{}{since}{back} ",
            e.spec.name,
            e.state.steps.len()
        ),
        style,
    ))
}
