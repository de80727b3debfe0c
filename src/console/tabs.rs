//! The tab registry: every tab is one entry here — the keymap contexts its keys are looked up
//! in, the hints it shows, how it is drawn and what it does with an action. The tab bar, the
//! footer, the help overlay, key handling and the tests all read this list.
//!
//! Adding a tab: a variant in `crate::tab::Tab` (title and name), a `KeyContext` if it has
//! keys of its own (and a section in the shipped keymaps), and one entry below pointing at
//! the capability's view and action handler.

use ratatui::layout::Rect;
use ratatui::Frame;

use crate::action::Action;
use crate::config::keymap::KeyContext;
use crate::config::theme::Theme;
use crate::state::{Effect, State};
use crate::tab::Tab;

pub struct TabDef {
    pub tab: Tab,
    /// Keymap contexts for this tab's keys, most specific first (`Global` is always last).
    pub contexts: &'static [KeyContext],
    /// What the tab's hint line offers: actions and the word shown for each.
    pub hints: &'static [(Action, &'static str)],
    pub view: fn(&mut Frame, Rect, &State, &Theme),
    /// The tab's answer to an action no modal took; `false` when it has none.
    pub on_action: fn(&mut State, Action, &mut Vec<Effect>) -> bool,
}

pub static TABS: [TabDef; 6] = [
    TabDef {
        tab: Tab::Overview,
        contexts: &[KeyContext::Overview, KeyContext::List],
        hints: &[],
        view: super::view::overview::render,
        on_action: |_, _, _| false,
    },
    TabDef {
        tab: Tab::Alarms,
        contexts: &[KeyContext::Alarms, KeyContext::List],
        hints: super::view::alarms::LIST_HINTS,
        view: super::view::alarms::render,
        on_action: super::alarms::on_action,
    },
    TabDef {
        tab: Tab::Backups,
        contexts: &[KeyContext::Backups, KeyContext::List],
        hints: BACKUP_HINTS,
        view: |f, area, s, theme| {
            let wanted = if s.backups.detail {
                BACKUP_DETAIL_HINTS
            } else {
                BACKUP_HINTS
            };
            let hints = super::hints::resolve(&s.keymap, def(Tab::Backups).contexts, wanted);
            crate::backups::view::render(f, area, &s.backups, theme, s.now, &hints)
        },
        on_action: super::keys::backups_action,
    },
    TabDef {
        tab: Tab::Logs,
        contexts: &[KeyContext::Logs, KeyContext::List],
        hints: LOGS_HINTS,
        view: |f, area, s, theme| {
            let wanted = match &s.logs.insights {
                Some(crate::logs::state::Insights::List { .. }) => LOGS_INSIGHTS_HINTS,
                Some(_) => LOGS_RESULTS_HINTS,
                None => LOGS_HINTS,
            };
            let hints = super::hints::resolve(&s.keymap, def(Tab::Logs).contexts, wanted);
            crate::logs::view::render(f, area, &s.logs, theme, s.now, &hints)
        },
        on_action: super::logs::on_action,
    },
    TabDef {
        tab: Tab::Calendar,
        contexts: &[KeyContext::Calendar, KeyContext::List],
        hints: CALENDAR_HINTS,
        view: |f, area, s, theme| {
            let hints =
                super::hints::resolve(&s.keymap, def(Tab::Calendar).contexts, CALENDAR_HINTS);
            let [body, foot] = ratatui::layout::Layout::vertical([
                ratatui::layout::Constraint::Min(3),
                ratatui::layout::Constraint::Length(1),
            ])
            .areas(area);
            crate::calendar::view::render(f, body, &s.calendar, theme, s.now, s.calendar.zone);
            f.render_widget(
                ratatui::widgets::Paragraph::new(ratatui::text::Line::styled(
                    crate::ui::widgets::format::fit(
                        crate::ui::widgets::hints::join(&hints).trim(),
                        foot.width as usize,
                    ),
                    theme.style("text.dim"),
                )),
                foot,
            );
        },
        on_action: super::calendar::on_action,
    },
    TabDef {
        tab: Tab::Services,
        contexts: &[KeyContext::Services, KeyContext::List],
        hints: SERVICES_HINTS,
        view: |f, area, s, theme| {
            let contexts = def(Tab::Services).contexts;
            let wanted = if s.services.detail.is_some() {
                SERVICES_DETAIL_HINTS
            } else {
                SERVICES_HINTS
            };
            let hints = super::hints::resolve(&s.keymap, contexts, wanted);
            let confirm = super::hints::resolve(&s.keymap, contexts, SERVICES_CONFIRM_HINTS);
            let zone = s.zone.tz();
            crate::services::view::render(
                f,
                area,
                &s.services,
                theme,
                s.now,
                zone,
                &hints,
                &confirm,
            )
        },
        on_action: super::services::on_action,
    },
];

const SERVICES_HINTS: &[(Action, &str)] = &[
    (Action::Select, "details"),
    (Action::ContainerRestart, "restart"),
    (Action::ContainerStop, "stop"),
    (Action::ContainerStart, "start"),
    (Action::Sort, "sort"),
    (Action::Filter, "filter"),
];

const SERVICES_DETAIL_HINTS: &[(Action, &str)] = &[
    (Action::OpenLogs, "logs"),
    (Action::ContainerRestart, "restart"),
    (Action::ContainerStop, "stop"),
    (Action::ContainerStart, "start"),
    (Action::Back, "back"),
];

const SERVICES_CONFIRM_HINTS: &[(Action, &str)] = &[
    (Action::Right, "other button"),
    (Action::Select, "press it"),
    (Action::Confirm, "yes"),
    (Action::Back, "cancel"),
];

const BACKUP_HINTS: &[(Action, &str)] = &[
    (Action::Verify, "verify"),
    (Action::VerifyAll, "verify service"),
    (Action::Restore, "restore"),
    (Action::Drill, "drill"),
];

const BACKUP_DETAIL_HINTS: &[(Action, &str)] = &[
    (Action::Verify, "verify"),
    (Action::Restore, "restore"),
    (Action::Drill, "drill"),
    (Action::Back, "back"),
];

const CALENDAR_HINTS: &[(Action, &str)] = &[
    (Action::Done, "done"),
    (Action::Skip, "skip"),
    (Action::Snooze, "snooze"),
    (Action::Run, "runbook"),
    (Action::Select, "details"),
    (Action::Today, "today"),
    (Action::Filter, "filter"),
];

const LOGS_HINTS: &[(Action, &str)] = &[
    (Action::Filter, "filter"),
    (Action::SearchNext, "next"),
    (Action::SearchPrev, "prev"),
    (Action::Level, "level"),
    (Action::JumpTime, "time"),
    (Action::Insights, "insights"),
    (Action::Follow, "pause/follow"),
    (Action::Bottom, "live"),
    (Action::Wrap, "wrap"),
    (Action::Open, "open"),
    (Action::SourceNext, "source"),
];

const LOGS_INSIGHTS_HINTS: &[(Action, &str)] = &[
    (Action::Select, "run"),
    (Action::Down, "move"),
    (Action::Back, "back"),
    (Action::Insights, "lines"),
];

const LOGS_RESULTS_HINTS: &[(Action, &str)] = &[
    (Action::Down, "scroll"),
    (Action::Right, "columns"),
    (Action::Back, "queries"),
    (Action::Insights, "lines"),
];

/// The registry entry of `tab`.
pub fn def(tab: Tab) -> &'static TabDef {
    TABS.iter()
        .find(|d| d.tab == tab)
        .expect("every tab is registered")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tab_is_registered_once_in_display_order() {
        let order: Vec<Tab> = TABS.iter().map(|d| d.tab).collect();
        assert_eq!(order, Tab::ALL);
    }
}
