//! The Logs tab driven by keys: following the end, filtering as you type (inline for small
//! sources, off the UI task with stale searches ignored for large ones), n/N, the level
//! filter, pause and jump to live, wrap, a file opened by path, the errors-per-hour strip
//! and its local alarm, lines dropped by the cap said so, and escape sequences drawn inert.

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::console::Console;
use toban::logs::follow::Rotation;
use toban::logs::state::{LogsState, SourceView};
use toban::logs::{Chunk, LineStore, LogsEffect, LogsMsg};
use toban::state::{Effect, Msg};

fn now() -> DateTime<Utc> {
    common::t0() + Duration::minutes(50)
}

/// Forty lines over the last hour and a half: 12 errors in the current hour (over the
/// threshold of 10), warnings, a JSON line, an nginx 502, one with escape sequences.
fn lines() -> String {
    let mut out = String::new();
    let t = |m: i64| {
        (now() - Duration::minutes(m))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    for i in 0..28 {
        let m = 90 - i * 3;
        let line = match i % 7 {
            0 => format!("{} ERROR [api] upstream timeout after 30s req={i}", t(m)),
            1 => format!("{} INFO  [api] GET /items/{i} 200 12ms", t(m)),
            2 => format!("{} WARN  [db] pool nearly full ({}/20)", t(m), 15 + i % 5),
            3 => format!("{} DEBUG [cache] miss key=item:{i}", t(m)),
            4 => format!(
                r#"{{"time":"{}","level":"error","msg":"payment declined","id":{i}}}"#,
                t(m)
            ),
            5 => format!(
                r#"10.0.0.{i} - - [{}] "GET /api/v1/orders HTTP/1.1" 502 157 "-" "curl/8""#,
                (now() - Duration::minutes(m)).format("%d/%b/%Y:%H:%M:%S +0000")
            ),
            _ => format!("{} INFO  [worker] job {i} done", t(m)),
        };
        out.push_str(&line);
        out.push('\n');
    }
    for i in 0..8 {
        out.push_str(&format!(
            "{} ERROR [api] upstream timeout after 30s retry={i}\n",
            t(8 - i)
        ));
    }
    out.push_str(&format!(
        "{} WARN  [evil] \x1b]0;pwned\x07title \x1b[2J\x1b[31mred\x1b[0m \u{202e}txet desrever\u{202c} bell\x07 nul\0 cr\r end\n",
        t(1)
    ));
    out.push_str(&format!(
        "{} INFO  [api] {} long line end\n",
        t(1),
        "x".repeat(300)
    ));
    out
}

fn console(text: &str) -> Console {
    let mut c = Console::new(Vec::new());
    c.s.now = now();
    c.s.screen = (80, 24);
    let cap = 1_000_000;
    c.s.logs = LogsState::new(
        vec![SourceView::new(
            "app".into(),
            "/srv/app/logs/app.log".into(),
            cap,
        )],
        10,
        cap,
    );
    let mut store = LineStore::new(cap);
    store.push_bytes(text.as_bytes().to_vec());
    c.msg(Msg::Logs(LogsMsg::Loaded {
        source: 0,
        store,
        complete: true,
        at: now(),
    }));
    c.keys("4");
    c
}

#[test]
fn the_tab_follows_the_end_with_the_errors_strip_and_escapes_inert() {
    let c = console(&lines());
    let small = c.screen(80, 24);
    assert!(small.contains("FOLLOWING"), "{small}");
    assert!(
        small.contains("long line end") || small.contains("[api] xxx"),
        "{small}"
    );
    assert!(!small.contains('\x1b'));
    insta::assert_snapshot!("logs_following_80x24", small);
    insta::assert_snapshot!("logs_following_160x48", c.screen(160, 48));
    // More than 10 errors this hour: a local alarm for the source.
    let keys: Vec<&str> = c.s.alarms.sorted().iter().map(|a| a.key.as_str()).collect();
    assert!(keys.contains(&"logs.errors:app"), "{keys:?}");
}

#[test]
fn filter_as_you_type_then_search_level_pause_and_live() {
    let mut c = console(&lines());
    c.keys("/");
    c.type_text("timeout");
    // Applied while typing, before Enter.
    assert_eq!(c.s.logs.row_count(), 12);
    insta::assert_snapshot!("logs_filter_typing_80x24", c.screen(80, 24));
    c.keys("<Enter>");
    assert!(c.s.prompt.is_none());
    c.keys("N N");
    assert!(!c.s.logs.follow, "searching pauses");
    assert!(c.s.logs.cursor.is_some());
    insta::assert_snapshot!("logs_search_prev_160x48", c.screen(160, 48));
    c.keys("G");
    assert!(c.s.logs.follow && c.s.logs.cursor.is_none(), "jump to live");
    // Esc clears the filter; the level key shows errors only.
    c.keys("<Esc> l");
    let errors = c.s.logs.row_count();
    assert_eq!(
        errors,
        4 + 4 + 4 + 8,
        "ERROR, JSON error, nginx 502, retries"
    );
    c.keys("l");
    assert!(c.s.logs.row_count() > errors, "warnings and up");
    c.keys("l l");
    assert!(c.s.logs.query.level.is_none());
    // Esc in the prompt puts the old filter back.
    c.keys("/");
    c.type_text("payment");
    assert_eq!(c.s.logs.row_count(), 4);
    c.keys("<Esc>");
    assert_eq!(c.s.logs.filter, "");
    assert_eq!(c.s.logs.row_count(), 38);
}

#[test]
fn paused_view_stays_put_while_lines_arrive_and_wrap_shows_long_lines() {
    let mut c = console(&lines());
    c.keys("f <Up> <Up>");
    let before = c.screen(80, 24);
    assert!(before.contains("PAUSED"));
    c.msg(Msg::Logs(LogsMsg::Appended {
        source: 0,
        chunk: Arc::new(Chunk::new(
            b"2026-11-23T03:50:00Z INFO new line after rotation\n".to_vec(),
        )),
        rotation: Rotation::Replaced,
        at: now(),
    }));
    let after = c.screen(80, 24);
    assert_eq!(c.s.logs.sources[0].store.len(), 39);
    assert!(!after.contains("new line after rotation"), "{after}");
    c.keys("G");
    let live = c.screen(80, 24);
    assert!(live.contains("new line after rotation"), "{live}");
    assert!(live.contains("rotated 1×"), "{live}");
    c.keys("w");
    insta::assert_snapshot!("logs_wrapped_80x24", c.screen(80, 24));
    c.keys("w <Right> <Right>");
    assert_eq!(c.s.logs.hscroll, 16);
}

#[test]
fn large_sources_are_searched_off_the_ui_task_and_stale_results_ignored() {
    let mut text = String::new();
    for i in 0..60_000 {
        text.push_str(&format!(
            "2026-11-23T02:{:02}:00Z INFO request {i} ok\n",
            i % 60
        ));
    }
    text.push_str("2026-11-23T03:00:00Z ERROR request 60000 failed\n");
    let mut c = console(&text);
    c.fx.clear();
    c.keys("/");
    c.type_text("fa");
    let searches: Vec<(u64, LineStore, toban::logs::search::Query)> =
        c.fx.drain(..)
            .filter_map(|e| match e {
                Effect::Logs(LogsEffect::Search {
                    generation,
                    store,
                    query,
                    ..
                }) => Some((generation, store, query)),
                _ => None,
            })
            .collect();
    assert_eq!(searches.len(), 2, "one search a keystroke");
    assert!(c.s.logs.searching);
    let run = |(g, store, q): &(u64, LineStore, toban::logs::search::Query)| {
        let cur = std::sync::atomic::AtomicU64::new(*g);
        let rows = toban::logs::search::search(store, 0, q, *g, &cur).unwrap();
        Msg::Logs(LogsMsg::Rows {
            generation: *g,
            source: 0,
            rows,
            from: 0,
            upto: store.len() as u64,
            partial: false,
        })
    };
    // The newest answers first; the stale one ("f") arriving late changes nothing.
    c.msg(run(&searches[1]));
    assert_eq!(c.s.logs.row_count(), 1);
    c.msg(run(&searches[0]));
    assert_eq!(c.s.logs.row_count(), 1);
    assert!(!c.s.logs.searching);
    assert!(c.screen(80, 24).contains("request 60000 failed"));
}

#[test]
fn the_cap_says_how_many_lines_were_dropped() {
    let mut c = Console::new(Vec::new());
    c.s.now = now();
    c.s.logs = LogsState::new(
        vec![SourceView::new("app".into(), "/x".into(), 1000)],
        10,
        1000,
    );
    let mut store = LineStore::new(1000);
    store.push_bytes(
        (0..1500)
            .map(|i| format!("line {i}\n"))
            .collect::<String>()
            .into_bytes(),
    );
    c.msg(Msg::Logs(LogsMsg::Loaded {
        source: 0,
        store,
        complete: true,
        at: now(),
    }));
    c.keys("4");
    let s = c.screen(80, 24);
    assert!(s.contains("500 older dropped (cap 1,000)"), "{s}");
    assert!(s.contains("line 1499"), "{s}");
}

#[test]
fn a_file_is_opened_by_path_and_an_empty_tab_says_how() {
    let mut c = Console::new(Vec::new());
    c.s.now = now();
    c.keys("4");
    insta::assert_snapshot!("logs_empty_80x24", c.screen(80, 24));
    c.keys("o");
    c.type_text("/var/log/nginx/error.log");
    c.keys("<Enter>");
    assert!(c.fx.iter().any(|e| matches!(e,
        Effect::Logs(LogsEffect::Open { source: 0, path, .. }) if path.to_str() == Some("/var/log/nginx/error.log"))));
    assert_eq!(c.s.logs.sources.len(), 1);
    c.msg(Msg::Logs(LogsMsg::Failed {
        source: 0,
        error: "permission denied".into(),
    }));
    assert!(c.screen(80, 24).contains("permission denied"));
}

#[test]
fn a_ten_megabyte_line_neither_freezes_nor_hides_the_lines_after_it() {
    let mut text = String::from("2026-11-23T03:40:00Z INFO before\n");
    text.push_str(&"y".repeat(10 << 20));
    text.push_str("\n2026-11-23T03:41:00Z INFO after one\n2026-11-23T03:42:00Z ERROR after two\n");
    let mut c = console(&text);
    let t = std::time::Instant::now();
    let s = c.screen(80, 24);
    assert!(
        s.contains("yyyyyyyy") && s.contains("after one") && s.contains("after two"),
        "{s}"
    );
    c.keys("w");
    let s = c.screen(80, 24);
    assert!(s.contains("after one") && s.contains("after two"), "{s}");
    c.keys("/");
    c.type_text("after");
    assert_eq!(c.s.logs.row_count(), 2);
    // The point is that nothing freezes: a filter must read the line (work in proportion to
    // 10 MB per keystroke, about half a second each in a debug build on a loaded 2-core CI
    // machine), but nothing may go over it once per row or per wrapped piece, which would
    // take minutes. 3 s was seen exceeded (3.27 s) with the suite's other tests alongside.
    assert!(
        t.elapsed() < std::time::Duration::from_secs(15),
        "{:?}",
        t.elapsed()
    );
}

fn loaded(c: &mut Console, source: usize, text: &str) {
    let mut store = LineStore::new(1_000_000);
    store.push_bytes(text.as_bytes().to_vec());
    c.msg(Msg::Logs(LogsMsg::Loaded {
        source,
        store,
        complete: true,
        at: now(),
    }));
}

#[test]
fn several_sources_interleave_by_time_each_tagged_and_new_lines_join() {
    let mut c = Console::new(Vec::new());
    c.s.now = now();
    c.s.screen = (80, 24);
    c.s.logs = LogsState::new(
        vec![
            SourceView::new("api".into(), "/srv/api.log".into(), 1000),
            SourceView::new("db".into(), "/srv/db.log".into(), 1000),
        ],
        10,
        1000,
    );
    loaded(
        &mut c,
        0,
        "2026-11-23T03:40:00Z INFO api one\n2026-11-23T03:42:00Z ERROR api three\n  at handler.rs:10\n",
    );
    loaded(
        &mut c,
        1,
        "2026-11-23 03:41:00 LOG db two\n2026-11-23 03:43:00 WARN db four\n",
    );
    c.keys("4 s s");
    assert!(c.s.logs.is_merged());
    let v = c.s.logs.source().unwrap();
    let got: Vec<String> = (0..v.store.len())
        .map(|i| String::from_utf8_lossy(&v.store.line(i)).into_owned())
        .collect();
    assert_eq!(
        got,
        [
            "[api] 2026-11-23T03:40:00Z INFO api one",
            "[db] 2026-11-23 03:41:00 LOG db two",
            "[api] 2026-11-23T03:42:00Z ERROR api three",
            "[api]   at handler.rs:10",
            "[db] 2026-11-23 03:43:00 WARN db four",
        ]
    );
    // Levels are the sources' own: the level key keeps the error and the warning.
    c.keys("l l");
    assert_eq!(c.s.logs.row_count(), 2);
    c.keys("<Esc>");
    c.msg(Msg::Logs(LogsMsg::Appended {
        source: 1,
        chunk: Arc::new(Chunk::new(b"2026-11-23 03:44:00 ERROR db five\n".to_vec())),
        rotation: Rotation::None,
        at: now(),
    }));
    let screen = c.screen(80, 24);
    assert!(screen.contains("all 2 sources by time"), "{screen}");
    assert!(
        screen.contains("[db] 2026-11-23 03:44:00 ERROR db five"),
        "{screen}"
    );
    insta::assert_snapshot!("logs_interleaved_80x24", screen);
    // `s` once more: the first source alone again.
    c.keys("s");
    assert_eq!(c.s.logs.selected, 0);
    assert!(!c.s.logs.is_merged());
}

#[test]
fn jump_to_a_time_by_keys_clock_ago_and_date_time() {
    let mut c = console(&lines());
    c.s.zone = toban::time::Zone::parse("UTC").unwrap();
    // now() is 03:50 UTC; the lines run from 02:20 to 03:49.
    c.keys("t");
    assert!(c.s.prompt.is_some());
    c.type_text("03:00");
    c.keys("<Enter>");
    assert!(c.s.prompt.is_none());
    assert!(!c.s.logs.follow, "a jump pauses the view");
    let at = |c: &Console| {
        let v = c.s.logs.source().unwrap();
        let l = (c.s.logs.cursor.unwrap() - v.store.dropped()) as usize;
        String::from_utf8_lossy(&v.store.line(l)).into_owned()
    };
    let first = at(&c);
    assert!(
        first.contains("03:02:00") || first.contains("03:02"),
        "the first line at or after 03:00: {first}"
    );
    let screen = c.screen(80, 24);
    assert!(screen.contains("PAUSED"), "{screen}");
    c.keys("t");
    c.type_text("-10m");
    c.keys("<Enter>");
    assert!(
        at(&c).contains("03:41") || at(&c).contains("03:42"),
        "{}",
        at(&c)
    );
    c.keys("t");
    c.type_text("2026-11-23T02:30");
    c.keys("<Enter>");
    assert!(at(&c).contains("02:32"), "{}", at(&c));
    // A time that is not one: the prompt stays open and says why.
    c.keys("t");
    c.type_text("teatime");
    c.keys("<Enter>");
    let p = c.s.prompt.as_ref().expect("still asking");
    assert!(p.error.as_deref().unwrap_or("").contains("not a time"));
    c.keys("<Esc> G");
    assert!(c.s.logs.follow);
}

#[test]
fn an_alarm_detail_opens_its_logs_in_one_key() {
    let mut c = console(&lines());
    // The errors-per-hour alarm of source `app`, from the Alarms tab's detail.
    c.keys("2");
    for _ in 0..20 {
        if c.s.alarm_list.selected().map(|a| a.key.as_str()) == Some("local/logs.errors:app") {
            break;
        }
        c.keys("<Down>");
    }
    assert_eq!(
        c.s.alarm_list.selected().map(|a| a.key.as_str()),
        Some("local/logs.errors:app"),
        "the logs alarm is listed"
    );
    c.keys("<Enter>");
    let detail = c.screen(80, 24);
    assert!(detail.contains("L logs"), "{detail}");
    c.keys("L");
    assert_eq!(c.s.tab, toban::tab::Tab::Logs);
    assert_eq!(c.s.logs.source().unwrap().name, "app");
}

#[test]
fn a_container_detail_opens_its_logs_in_one_key() {
    use toban::config::services::ServicesConfig;
    use toban::services::model::{Container, ContainerHealth, ContainerState};
    use toban::services::{ContainerUpdate, ServicesMsg, ServicesState};
    let mut c = Console::new(Vec::new());
    c.s.now = now();
    c.s.services = ServicesState::new(&ServicesConfig::default(), vec!["local".into()]);
    let web = Container {
        engine: "local".into(),
        id: "web-0123456789abcdef".into(),
        name: "backend-web-1".into(),
        project: Some("backend".into()),
        service: Some("web".into()),
        image: "registry.example/web:1.4".into(),
        state: ContainerState::Running,
        health: ContainerHealth::Healthy,
        restart_count: 0,
        started_at: Some(now() - Duration::hours(1)),
        finished_at: None,
        exit_code: None,
        oom_killed: false,
        ports: vec![],
        health_log: vec![],
    };
    c.msg(Msg::Services(ServicesMsg::Containers(vec![
        ContainerUpdate::Snapshot {
            engine: "local".into(),
            describe: "Docker".into(),
            containers: vec![web],
        },
    ])));
    c.keys("6");
    for _ in 0..3 {
        if c.s.services.selected_container().is_some() {
            break;
        }
        c.keys("<Down>");
    }
    c.keys("<Enter>");
    assert!(c.s.services.detail.is_some());
    let detail = c.screen(80, 24);
    assert!(detail.contains("L logs"), "{detail}");
    c.fx.clear();
    c.keys("L");
    assert_eq!(c.s.tab, toban::tab::Tab::Logs);
    assert_eq!(c.s.logs.source().unwrap().name, "container:backend-web-1");
    assert!(c.fx.iter().any(|e| matches!(e,
        Effect::Logs(LogsEffect::Open { path, .. }) if path.to_str() == Some("container:backend-web-1"))));
    // Again from the detail: the source is selected, not opened twice.
    c.keys("6 <Enter> L");
    assert_eq!(c.s.logs.sources.len(), 1);
}

#[test]
fn insights_list_and_results_table_at_80x24_values_inert() {
    use toban::logs::insights::QueryResult;
    let mut c = Console::new(Vec::new());
    c.s.now = now();
    c.s.screen = (80, 24);
    c.s.logs = LogsState::new(
        vec![SourceView::new(
            "cw:/ecs/staff-api".into(),
            "cw:/ecs/staff-api".into(),
            1000,
        )],
        10,
        1000,
    );
    loaded(&mut c, 0, "2026-11-23T03:40:00.000Z ecs/api/1 INFO up\n");
    c.keys("4 i");
    insta::assert_snapshot!("logs_insights_list_80x24", c.screen(80, 24));
    c.fx.clear();
    c.keys("<Enter>");
    let (id, groups, query) =
        c.fx.iter()
            .find_map(|e| match e {
                Effect::Logs(LogsEffect::Query {
                    id, groups, query, ..
                }) => Some((*id, groups.clone(), query.clone())),
                _ => None,
            })
            .expect("Enter runs the selected query");
    assert_eq!(groups, ["/ecs/staff-api"]);
    assert!(query.contains("filter level = \"ERROR\""), "{query}");
    let f = |a: &str, b: &str| (a.to_string(), b.to_string());
    let mut result = QueryResult::from_fields(vec![
        vec![
            f("@timestamp", "2026-11-23 03:45:10.120"),
            f("level", "ERROR"),
            f(
                "message",
                "payment declined \u{1b}]0;pwned\u{7}\u{1b}[31mred",
            ),
            f("statusCode", "502"),
            f("@ptr", "abc"),
        ],
        vec![
            f("@timestamp", "2026-11-23 03:41:00.000"),
            f("level", "ERROR"),
            f("message", "upstream timeout"),
            f("statusCode", "504"),
        ],
    ]);
    result.status = "Complete".into();
    // A late answer to an older query is ignored.
    c.msg(Msg::Logs(LogsMsg::QueryDone {
        id: id + 7,
        result: Ok(QueryResult::default()),
    }));
    c.msg(Msg::Logs(LogsMsg::QueryDone {
        id,
        result: Ok(result),
    }));
    let table = c.screen(80, 24);
    assert!(!table.contains('\u{1b}'));
    assert!(table.contains("payment declined red"), "{table}");
    insta::assert_snapshot!("logs_insights_results_80x24", table);
    c.keys("<Esc>");
    assert!(matches!(
        c.s.logs.insights,
        Some(toban::logs::state::Insights::List { selected: 0 })
    ));
    c.keys("i");
    assert!(c.s.logs.insights.is_none());
}
