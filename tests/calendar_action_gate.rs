//! Read-only mode refuses, at the one gate every key passes, marking done a follow-up whose
//! action would change something (delete the old access key); a follow-up without an
//! action is still asked for its note. Keys go through the keymap.

#[path = "common/mod.rs"]
mod screen;

use chrono::{Duration, Utc};
use screen::console::Console;
use toban::calendar::model::Followup;
use toban::calendar::state::CalendarMsg;
use toban::calendar::store::CalendarRecords;
use toban::config::calendar::RunbookLink;
use toban::state::Msg;

fn followup(id: i64, action: Option<&str>) -> Followup {
    let now = Utc::now();
    Followup {
        id,
        title: format!("Follow-up {id}"),
        note: None,
        due: now + Duration::hours(1),
        created: now,
        created_by_run: None,
        done: None,
        action: action.map(|name| RunbookLink {
            name: name.into(),
            ..Default::default()
        }),
    }
}

fn console_with(f: Followup) -> Console {
    let mut c = Console::shipped();
    c.s.read_only = true;
    c.msg(Msg::Calendar(CalendarMsg::Records(CalendarRecords {
        followups: vec![f],
        ..Default::default()
    })));
    c.keys("5");
    c.keys("/");
    c.type_text("Follow-up");
    c.keys("<Enter>");
    c
}

#[test]
fn read_only_refuses_done_on_a_follow_up_that_runs_an_action() {
    let mut c = console_with(followup(7, Some("delete-access-key")));
    assert_eq!(
        c.s.calendar.selected_action().as_deref(),
        Some("delete-access-key")
    );
    c.keys("d");
    assert!(c.s.prompt.is_none(), "no note is asked for");
    let notice =
        c.s.notice
            .as_ref()
            .map(|n| n.text.clone())
            .unwrap_or_default();
    assert!(notice.contains("read-only"), "{notice}");
}

#[test]
fn a_follow_up_without_an_action_is_still_asked_for_its_note() {
    let mut c = console_with(followup(8, None));
    c.keys("d");
    assert!(c.s.prompt.is_some(), "the note is asked for");
}
