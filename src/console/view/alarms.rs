//! Alarms tab: every alarm in one list (CloudWatch, Alertmanager and toban's own checks),
//! worst first; `Enter` opens one in full, `S` the Alertmanager silences. The hint line is
//! read from the keymap.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::action::Action;
use crate::config::theme::Theme;
use crate::health::Severity;
use crate::state::State;
use crate::ui::widgets::format;

pub fn severity_span(sev: Severity, theme: &Theme) -> Span<'static> {
    match sev {
        Severity::Critical => Span::styled("CRIT", theme.style("status.crit")),
        Severity::Warning => Span::styled("WARN", theme.style("status.warn")),
        Severity::Unknown => Span::styled("UNKN", theme.style("status.unknown")),
        Severity::Ok => Span::styled(" OK ", theme.style("status.ok")),
    }
}

pub const LIST_HINTS: &[(Action, &str)] = &[
    (Action::Select, "details"),
    (Action::Run, "runbook"),
    (Action::Acknowledge, "ack"),
    (Action::Silence, "silence"),
    (Action::Unsilence, "lift"),
    (Action::Filter, "filter"),
    (Action::Silences, "silences"),
];

const DETAIL_HINTS: &[(Action, &str)] = &[
    (Action::Run, "runbook"),
    (Action::Acknowledge, "ack"),
    (Action::Silence, "silence"),
    (Action::Unsilence, "lift"),
    (Action::Back, "back"),
];

const DETAIL_LOGS_HINTS: &[(Action, &str)] = &[
    (Action::OpenLogs, "logs"),
    (Action::Run, "runbook"),
    (Action::Acknowledge, "ack"),
    (Action::Silence, "silence"),
    (Action::Unsilence, "lift"),
    (Action::Back, "back"),
];

const SILENCE_HINTS: &[(Action, &str)] = &[(Action::Unsilence, "expire"), (Action::Back, "back")];

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let [body, foot] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
    let a = &state.alarm_list;
    let tz = state.zone.tz();
    let wanted = if a.silences_open.is_some() {
        crate::alarms::view::silences::render(frame, body, a, theme, state.now, tz);
        SILENCE_HINTS
    } else if a.detail.is_some() {
        crate::alarms::view::detail::render(frame, body, a, theme, state.now, tz);
        if a.detail_alarm()
            .and_then(crate::console::alarms::logs_source)
            .is_some()
        {
            DETAIL_LOGS_HINTS
        } else {
            DETAIL_HINTS
        }
    } else {
        crate::alarms::view::list::render(frame, body, a, theme, state.now, tz);
        LIST_HINTS
    };
    let contexts = crate::console::tabs::def(crate::tab::Tab::Alarms).contexts;
    let hints = crate::console::hints::resolve(&state.keymap, contexts, wanted);
    frame.render_widget(
        Paragraph::new(Line::styled(
            format::fit(
                crate::ui::widgets::hints::join(&hints).trim(),
                foot.width as usize,
            ),
            theme.style("text.dim"),
        )),
        foot,
    );
}
