//! CloudWatch Logs as a log source, against moto (a real AWS API on loopback) through the
//! real aws-sdk-cloudwatchlogs: a group tailed across more than one FilterLogEvents page,
//! then only new events (one at the very millisecond of the last seen included, none
//! twice); the Logs tab following a group and running seed 002's saved Logs Insights
//! queries by keys; `toban logs` reading a group, interleaving it with a file by time, and
//! `--follow`ing it; escape sequences in remote events made inert; and the binary in tmux at
//! 80x24 opening a group and running a saved query.
//!
//! moto's Logs Insights: StartQuery/GetQueryResults work, but its query language is
//! partial — it reads `fields` (only `@timestamp`, `@message`, `@logStream`, `@log` are
//! extracted), `sort … asc|desc` (always by time) and `limit`; `filter`, `parse` and
//! `stats` are ignored. The tests assert what it does answer: the columns it extracts,
//! newest first, the limit.

mod common;
mod support;

use std::io::BufRead;
use std::sync::mpsc;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_cloudwatchlogs::Client;
use chrono::Utc;

use common::console::Console;
use toban::config::logs::{LogsAws, LogsConfig};
use toban::logs::cloudwatch::{connect, Tail};
use toban::logs::{LogsEffect, LogsMsg, LogsState};
use toban::state::{Effect, Msg};

fn aws(url: &str) -> LogsAws {
    LogsAws {
        endpoint_url: Some(url.into()),
        region: Some("us-east-1".into()),
        poll: Duration::from_secs(1),
        ..Default::default()
    }
}

async fn client(url: &str) -> Client {
    connect(&aws(url)).await.client
}

/// Creates the group and stream (if new) and puts `events` (ms, message), in order.
async fn put(c: &Client, group: &str, stream: &str, events: &[(i64, String)]) {
    let _ = c.create_log_group().log_group_name(group).send().await;
    let _ = c
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await;
    for batch in events.chunks(5000) {
        let evs: Vec<InputLogEvent> = batch
            .iter()
            .map(|(t, m)| {
                InputLogEvent::builder()
                    .timestamp(*t)
                    .message(m)
                    .build()
                    .unwrap()
            })
            .collect();
        let out = c
            .put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(evs))
            .send()
            .await
            .expect("PutLogEvents");
        assert!(out.rejected_log_events_info().is_none(), "{out:?}");
    }
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_is_tailed_across_pages_then_only_new_events_none_twice() {
    let Some(url) = support::moto::moto_url() else {
        return;
    };
    let c = client(&url).await;
    let group = "/ecs/staff-api-tail";
    let base = Utc::now().timestamp_millis() - 30 * 60_000;
    // More than moto's (and AWS's) 10,000-event page, over two streams.
    let web1: Vec<(i64, String)> = (0..10_050)
        .map(|i| (base + i * 10, format!("INFO req {i} ok")))
        .collect();
    let web2: Vec<(i64, String)> = (0..20)
        .map(|i| {
            (
                base + 5 + i * 1000,
                format!("ERROR worker {i} failed\nTraceback line"),
            )
        })
        .collect();
    put(&c, group, "web/1", &web1).await;
    put(&c, group, "web/2", &web2).await;

    let conn = connect(&aws(&url)).await;
    let mut tail = Tail::new(group, None, Utc::now() - chrono::Duration::hours(1));
    let got = lines(&tail.fetch(&conn).await.expect("FilterLogEvents"));
    assert_eq!(got.len(), 10_070);
    assert!(got[0].ends_with(" web/1 INFO req 0 ok"), "{}", got[0]);
    assert!(
        got[1].ends_with(" web/2 ERROR worker 0 failed Traceback line"),
        "one event, one line, in time order: {}",
        got[1]
    );
    assert!(got.last().unwrap().ends_with("INFO req 10049 ok"));
    let times: Vec<&str> = got.iter().map(|l| &l[..24]).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");

    // New events: one at the millisecond of the last seen, two later; only they come.
    let last = base + 10_049 * 10;
    put(
        &c,
        group,
        "web/2",
        &[
            (last, "WARN same millisecond".to_string()),
            (
                last + 1,
                "\u{1b}]0;pwned\u{7}ERROR \u{1b}[31mred\u{1b}[0m".to_string(),
            ),
            (last + 2, "INFO later".to_string()),
        ],
    )
    .await;
    let new = lines(&tail.fetch(&conn).await.unwrap());
    assert_eq!(new.len(), 3, "{new:?}");
    assert!(new[0].ends_with("WARN same millisecond"));
    assert!(tail.fetch(&conn).await.unwrap().is_empty(), "nothing twice");

    // A group that does not exist is a reason, not an empty tail.
    let mut missing = Tail::new("/no/such", None, Utc::now());
    let err = missing.fetch(&conn).await.unwrap_err();
    assert!(err.contains("no such log group"), "{err}");

    // One stream of the group.
    let mut one = Tail::new(
        group,
        Some("web/2"),
        Utc::now() - chrono::Duration::hours(1),
    );
    assert_eq!(lines(&one.fetch(&conn).await.unwrap()).len(), 23);
}

/// Runs a Logs effect as the app does and returns the first report.
fn run_effect(e: LogsEffect) -> LogsMsg {
    let (tx, rx) = mpsc::channel();
    toban::logs::provider::run(
        e,
        move |m| tx.send(m).is_ok(),
        tokio_util::sync::CancellationToken::new(),
    );
    rx.recv_timeout(Duration::from_secs(30))
        .expect("a report within 30 s")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tab_follows_a_group_and_runs_the_saved_insights_queries_by_keys() {
    let Some(url) = support::moto::moto_url() else {
        return;
    };
    let c = client(&url).await;
    let group = "/rds/prod-tab";
    let base = Utc::now().timestamp_millis() - 20 * 60_000;
    let events: Vec<(i64, String)> = (0..150)
        .map(|i| {
            let msg = if i % 10 == 0 {
                format!(
                    "LOG: duration: {}.5 ms statement: SELECT {i}",
                    1000 + i * 10
                )
            } else {
                format!(r#"{{"level":"INFO","message":"request {i}","statusCode":200}}"#)
            };
            (base + i * 1000, msg)
        })
        .collect();
    put(&c, group, "db-1", &events).await;

    let cfg = LogsConfig {
        cloudwatch: vec![group.into()],
        aws: aws(&url),
        ..Default::default()
    };
    let mut con = Console::new(Vec::new());
    con.s.now = Utc::now();
    con.s.screen = (80, 24);
    con.s.logs = LogsState::from_config(&cfg);
    assert_eq!(con.s.logs.sources[0].name, format!("cw:{group}"));
    // The source's provider, as the app starts it.
    let (tx, rx) = mpsc::channel();
    let cancel = tokio_util::sync::CancellationToken::new();
    toban::logs::provider::spawn_source(
        0,
        con.s.logs.sources[0].path.clone(),
        cfg.max_lines,
        &cfg.aws,
        move |m| tx.send(m).is_ok(),
        cancel.clone(),
    );
    let first = rx.recv_timeout(Duration::from_secs(30)).expect("loaded");
    assert!(matches!(first, LogsMsg::Loaded { .. }), "{first:?}");
    con.msg(Msg::Logs(first));
    con.keys("4");
    let screen = con.screen(80, 24);
    assert!(screen.contains("150 lines"), "{screen}");
    assert!(screen.contains("db-1"), "{screen}");
    // A new event arrives by polling.
    put(
        &c,
        group,
        "db-1",
        &[(Utc::now().timestamp_millis(), "ERROR fresh event".into())],
    )
    .await;
    let next = rx.recv_timeout(Duration::from_secs(30)).expect("appended");
    assert!(matches!(next, LogsMsg::Appended { .. }), "{next:?}");
    con.msg(Msg::Logs(next));
    assert!(con.screen(80, 24).contains("ERROR fresh event"));
    cancel.cancel();

    // `i` lists the saved queries; the second is seed 002's slow queries.
    con.keys("i");
    let list = con.screen(80, 24);
    assert!(list.contains("Errors, last hour, newest first"), "{list}");
    assert!(list.contains("Slow queries over 1 s"), "{list}");
    assert!(list.contains(group), "{list}");
    con.fx.clear();
    con.keys("<Down> <Enter>");
    let query = con
        .fx
        .drain(..)
        .find_map(|e| match e {
            Effect::Logs(q @ LogsEffect::Query { .. }) => Some(q),
            _ => None,
        })
        .expect("Enter runs the query");
    assert!(con.screen(80, 24).contains("Running"));
    let done = run_effect(query);
    con.msg(Msg::Logs(done));
    let table = con.screen(80, 24);
    // moto: `fields @timestamp, @message`, `sort … desc` (by time) and `limit 20` apply;
    // the `filter`s and `parse` are ignored, so the newest 20 events come back.
    let r = match &con.s.logs.insights {
        Some(toban::logs::state::Insights::Results { result, .. }) => result.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(r.status, "Complete");
    assert_eq!(r.columns, ["@timestamp", "@message"]);
    assert_eq!(r.rows.len(), 20);
    assert!(
        r.rows.windows(2).all(|w| w[0][0] >= w[1][0]),
        "newest first"
    );
    assert!(
        table.contains("@timestamp") && table.contains("@message"),
        "{table}"
    );
    assert!(table.contains("20 rows"), "{table}");
    assert!(table.contains("ERROR fresh event"), "{table}");
    // Sideways, a column at a time: the first one leaves the screen, and comes back.
    assert!(
        table.contains("Right columns"),
        "the hint names the key: {table}"
    );
    con.keys("<Right>");
    let moved = con.screen(80, 24);
    assert!(moved.contains("columns 2–2 of 2"), "{moved}");
    let header = moved
        .lines()
        .find(|l| l.contains("@message"))
        .unwrap_or_else(|| panic!("{moved}"));
    assert!(!header.contains("@timestamp"), "{moved}");
    con.keys("<Right> <Left>");
    assert_eq!(con.screen(80, 24), table, "back where it was");

    // Back to the list, the errors query: moto extracts only @timestamp of its fields.
    con.fx.clear();
    con.keys("<Esc> <Up> <Enter>");
    let query = con
        .fx
        .drain(..)
        .find_map(|e| match e {
            Effect::Logs(q @ LogsEffect::Query { .. }) => Some(q),
            _ => None,
        })
        .expect("Enter runs the query");
    con.msg(Msg::Logs(run_effect(query)));
    let r = match &con.s.logs.insights {
        Some(toban::logs::state::Insights::Results { result, .. }) => result.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(r.columns, ["@timestamp"]);
    assert_eq!(r.rows.len(), 100, "limit 100");
    // Esc twice: the lines again.
    con.keys("<Esc> <Esc>");
    assert!(con.s.logs.insights.is_none());
    assert!(con.screen(80, 24).contains("FOLLOWING"));
}

#[test]
fn toban_logs_reads_interleaves_and_follows_a_group_with_escapes_inert() {
    let Some(url) = support::moto::moto_url() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let group = "/ecs/cli-api";
    let base = Utc::now().timestamp_millis() - 10 * 60_000;
    rt.block_on(async {
        let c = client(&url).await;
        put(
            &c,
            group,
            "api/1",
            &[
                (base, "ERROR cloud one".to_string()),
                (
                    base + 120_000,
                    "INFO cloud three \u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J".to_string(),
                ),
            ],
        )
        .await;
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.log");
    let t = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    };
    std::fs::write(
        &file,
        format!(
            "{} INFO file two\n{} WARN file four\n",
            t(base + 60_000),
            t(base + 180_000)
        ),
    )
    .unwrap();
    let toban = |args: &[&str]| {
        let mut cmd = std::process::Command::new(support::toban_bin());
        cmd.args(["logs"])
            .args(args)
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join("c"))
            .env("AWS_ENDPOINT_URL", &url);
        cmd
    };
    let src = format!("cw:{group}");
    let out = toban(&[file.to_str().unwrap(), &src]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(got.len(), 4, "{text}");
    assert!(got[0].starts_with(&format!("{src}:")) && got[0].ends_with("ERROR cloud one"));
    assert!(got[1].starts_with(file.to_str().unwrap()) && got[1].ends_with("file two"));
    assert!(got[2].ends_with("INFO cloud three "), "inert: {:?}", got[2]);
    assert!(got[3].ends_with("WARN file four"));
    assert!(!text.contains('\u{1b}'));

    // --grep and --level on the group alone.
    let out = toban(&[&src, "--level", "error"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");

    // --follow: history, then a new event as it comes.
    let mut child = toban(&[&src, "--follow"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(stdout).lines() {
            if tx.send(l.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(30)).expect("history");
    assert!(first.ends_with("ERROR cloud one"), "{first}");
    rt.block_on(async {
        let c = client(&url).await;
        put(
            &c,
            group,
            "api/1",
            &[(Utc::now().timestamp_millis(), "ERROR followed".into())],
        )
        .await;
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while std::time::Instant::now() < deadline {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(500)) {
            seen.push(l.clone());
            if l.ends_with("ERROR followed") {
                break;
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        seen.iter().any(|l| l.ends_with("ERROR followed")),
        "{seen:?}"
    );
    assert_eq!(
        seen.iter()
            .filter(|l| l.ends_with("ERROR cloud one"))
            .count(),
        0,
        "history once"
    );
}

#[test]
fn e2e_a_group_in_the_logs_tab_and_a_saved_query_at_80x24() {
    let Some(url) = support::moto::moto_url() else {
        return;
    };
    let Some(tui) = support::tmux::Tui::start("logs-cw") else {
        return;
    };
    let group = "/e2e/app";
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = client(&url).await;
        let base = Utc::now().timestamp_millis() - 5 * 60_000;
        let evs: Vec<(i64, String)> = (0..30)
            .map(|i| {
                (
                    base + i * 1000,
                    format!("LOG: duration: {}.0 ms e2e query {i}", 900 + i * 10),
                )
            })
            .collect();
        put(&c, group, "pg-1", &evs).await;
    });
    std::fs::create_dir_all(tui.config_dir()).unwrap();
    std::fs::write(
        tui.config_dir().join("config.toml"),
        format!(
            "[logs]\ncloudwatch = [\"{group}\"]\n\n[logs.aws]\nendpoint_url = \"{url}\"\nregion = \"us-east-1\"\npoll = \"1s\"\n"
        ),
    )
    .unwrap();
    tui.launch(
        80,
        24,
        &[],
        &[
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    tui.wait_for("Overview");
    tui.key("4");
    let screen = tui.wait_for("e2e query 29");
    assert!(screen.contains("cw:/e2e/app"), "{screen}");
    tui.key("i");
    tui.wait_for("Slow queries over 1 s");
    tui.keys(&["Down", "Enter"]);
    let table = tui.wait_for("20 rows");
    assert!(table.contains("@message"), "{table}");
    assert!(table.contains("e2e query 29"), "{table}");
    // One Escape at a time: two sent together arrive as one Alt-Escape sequence.
    tui.key("Escape");
    tui.wait_for("Slow queries over 1 s (last 1h)");
    tui.key("Escape");
    tui.wait_for("FOLLOWING");
    assert_eq!(tui.quit(), 0);
}
