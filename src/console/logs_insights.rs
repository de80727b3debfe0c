//! The Logs tab's Logs Insights keys: move through the saved queries and run one, scroll its
//! results, go back to the list (`Esc`) and to the lines (`Esc` again, or the Insights key).

use chrono::{DateTime, Utc};

use crate::action::Action;
use crate::logs::state::{Insights, LogsState};
use crate::logs::update as logs;
use crate::logs::LogsEffect;

pub fn on_action(
    l: &mut LogsState,
    action: Action,
    page: usize,
    now: DateTime<Utc>,
    out: &mut Vec<LogsEffect>,
) -> bool {
    let n = l.queries.len();
    let Some(view) = l.insights.as_mut() else {
        return false;
    };
    match (view, action) {
        (_, Action::Insights) => l.insights = None,
        (Insights::List { .. }, Action::Back) => l.insights = None,
        (Insights::List { selected }, Action::Up) => *selected = selected.saturating_sub(1),
        (Insights::List { selected }, Action::Down) => {
            *selected = (*selected + 1).min(n.saturating_sub(1))
        }
        (Insights::List { selected }, Action::Top) => *selected = 0,
        (Insights::List { selected }, Action::Bottom) => *selected = n.saturating_sub(1),
        (Insights::List { selected }, Action::Select) => {
            let i = *selected;
            logs::run_query(l, i, now, out);
        }
        (
            Insights::Results {
                result, top, left, ..
            },
            a,
        ) => {
            let last = result
                .rows
                .len()
                .saturating_sub(page.saturating_sub(3).max(1));
            match a {
                Action::Up => *top = top.saturating_sub(1),
                Action::Down => *top = (*top + 1).min(last),
                Action::PageUp => *top = top.saturating_sub(page),
                Action::PageDown => *top = (*top + page).min(last),
                Action::Top => *top = 0,
                Action::Bottom => *top = last,
                Action::Left => *left = left.saturating_sub(1),
                Action::Right => *left = (*left + 1).min(result.columns.len().saturating_sub(1)),
                Action::Back => back_to_list(l),
                _ => return false,
            }
        }
        (Insights::Running { .. } | Insights::Failed { .. }, Action::Back) => back_to_list(l),
        _ => return false,
    }
    true
}

/// The list again, the query that ran selected.
fn back_to_list(l: &mut LogsState) {
    let name = match &l.insights {
        Some(Insights::Results { name, .. })
        | Some(Insights::Running { name, .. })
        | Some(Insights::Failed { name, .. }) => Some(name.clone()),
        _ => None,
    };
    let selected = name
        .and_then(|n| l.queries.iter().position(|q| q.name == n))
        .unwrap_or(0);
    l.insights = Some(Insights::List { selected });
}
