//! The local alarms the calendar raises: one per overdue duty, `calendar.overdue:<duty id>`,
//! at the duty's severity (warning unless it says critical). A duty with `alarm = false`
//! raises none.

use chrono::{DateTime, Utc};

use super::book::{Book, OccState};
use crate::alarm_types::Finding;

pub fn findings(book: &Book, now: DateTime<Utc>) -> Vec<Finding> {
    (0..book.duties.len())
        .filter(|&i| book.duties[i].alarm)
        .filter_map(|i| book.current(i, now))
        .filter(|o| o.state == OccState::Overdue)
        .map(|o| {
            let d = &book.duties[o.duty];
            let hours = (now - o.at).num_minutes() as f64 / 60.0;
            let local = o.at.with_timezone(&d.zone);
            let since = o.overdue_at.with_timezone(&d.zone);
            let since = if since.date_naive() == local.date_naive() {
                since.format("%H:%M")
            } else {
                since.format("%m-%d %H:%M")
            };
            Finding {
                key: format!("calendar.overdue:{}", d.id),
                severity: d.severity,
                message: format!(
                    "{} not done: due {} {}, overdue since {}",
                    crate::sanitize::strip_escapes(&d.title),
                    local.format("%Y-%m-%d %H:%M"),
                    local.format("%Z"),
                    since
                ),
                value: (hours * 10.0).round() / 10.0,
                subject: d.id.clone(),
            }
        })
        .collect()
}
