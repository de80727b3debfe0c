//! The alarms summary the console shows in its top bar on every tab: how many alarms fire
//! unacknowledged, the worst priority, and the newest one to start.

use chrono::{DateTime, Utc};
use ratatui::text::{Line, Span};

use crate::alarms::state::AlarmsState;
use crate::config::theme::Theme;

use super::{age, fit, priority_span};

/// Empty when nothing fires unacknowledged.
pub fn line(state: &AlarmsState, theme: &Theme, now: DateTime<Utc>, width: usize) -> Line<'static> {
    let t = state.top_bar();
    if t.firing == 0 {
        return Line::default();
    }
    let mut spans = vec![Span::styled(
        format!("{} firing", t.firing),
        theme.style("alarm.firing"),
    )];
    if let Some(p) = t.worst {
        spans.push(Span::raw(" "));
        spans.push(priority_span(p, theme));
    }
    if let Some(n) = t.newest {
        let used = 14;
        spans.push(Span::styled(
            fit(
                &format!(" · new: {} {} ago", n.name, age(now - n.at)),
                width.saturating_sub(used),
            ),
            theme.style("alarm.new"),
        ));
    }
    Line::from(spans)
}
