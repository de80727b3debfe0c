//! The wizard driving a real run through `RunnerHandle`: output streams in, a running step
//! can be interrupted (after a confirmation), follow-ups land in the store, and headless
//! runs refuse what needs a person.

#[path = "runbook_common.rs"]
mod common;
mod support;

use std::path::PathBuf;
use std::time::Duration;

#[path = "common/mod.rs"]
mod screen;

use common::*;
use screen::console::Console;
use toban::runbook::engine::{RunOptions, RunStatus, StepState, Waiting};
use toban::runbook::runner::{self, HeadlessOpts, RunnerHandle, RunnerMsg};
use toban::runbook::spec;
use tokio::sync::mpsc;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runbooks/good")
}

/// Hands the console's runner jobs to the runner and its reports back to the console until
/// `done` holds: the app's loop, without the terminal.
async fn pump(
    c: &mut Console,
    h: &RunnerHandle,
    rx: &mut mpsc::Receiver<RunnerMsg>,
    done: impl Fn(&Console) -> bool,
) {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            for j in c.take_jobs() {
                h.submit(j);
            }
            if done(c) {
                break;
            }
            let msg = rx.recv().await.expect("runner alive");
            c.runner(msg);
        }
    })
    .await
    .expect("timed out");
}

fn output_has(c: &Console, text: &str) -> bool {
    c.s.wizard
        .as_ref()
        .is_some_and(|w| w.output.iter().any(|l| l.text == text))
}

#[tokio::test]
async fn interrupting_a_running_step_asks_first_then_stops_it_and_records_it() {
    let t = sqlite_env().await;
    let (books, _) = spec::load_all(&[fixtures()]);
    let spec = books
        .iter()
        .find(|b| b.name == "slow-step")
        .unwrap()
        .clone();
    let marker = t.path("marker");
    let (tx, mut rx) = mpsc::channel(64);
    let h = RunnerHandle::spawn(t.env.clone(), tx);
    let mut c = Console::new(vec![spec]);
    c.keys("R <Enter>");
    c.fill_form(&[("marker", marker.to_str().unwrap()), ("seconds", "60")]);
    let waiting = |c: &Console| c.s.wizard.as_ref().unwrap().waiting();
    // Each executable step waits for Enter, showing what it will do.
    assert_eq!(waiting(&c), Waiting::Continue);
    c.keys("<Enter>");
    pump(&mut c, &h, &mut rx, |c| {
        c.s.wizard.as_ref().unwrap().engine.state.current == Some(1)
    })
    .await;
    c.keys("<Enter>");
    pump(&mut c, &h, &mut rx, |c| output_has(c, "started")).await;

    // The interrupt key asks; "no" keeps it running.
    c.keys("<C-x>");
    assert!(c.s.wizard.as_ref().unwrap().ask.is_some());
    assert!(c.take_jobs().is_empty());
    c.keys("n");
    assert_eq!(waiting(&c), Waiting::Outcome);
    c.keys("<C-x> y");
    pump(&mut c, &h, &mut rx, |c| {
        c.s.wizard
            .as_ref()
            .unwrap()
            .engine
            .state
            .status
            .is_finished()
    })
    .await;

    let w = c.s.wizard.as_ref().unwrap();
    assert_eq!(w.engine.state.status, RunStatus::Aborted);
    assert_eq!(w.engine.state.steps[1].state, StepState::Cancelled);
    assert_eq!(w.engine.state.steps[2].state, StepState::Pending);
    let run_id = w.engine.state.run_id.clone();
    // The supervised command's files: <runs>/<run>/steps/<step>/.
    let step_dir = t.env.runs_dir.join(&run_id).join("steps/slow");
    let out = std::fs::read_to_string(step_dir.join("output.log")).unwrap();
    assert!(
        out.contains("started") && !out.contains("finished"),
        "{out}"
    );
    let pid: i32 = std::fs::read_to_string(step_dir.join("command.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_ne!(
        unsafe { libc::kill(-pid, 0) },
        0,
        "the whole process group is gone"
    );

    // Give the task time to write the last records (a loaded machine may take a while),
    // then read them back.
    let start = std::time::Instant::now();
    let mut audit = t.env.store.run_audit(&run_id).await.unwrap();
    while audit.last().is_none_or(|a| a.event != "run_end")
        && start.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
        audit = t.env.store.run_audit(&run_id).await.unwrap();
    }
    assert!(audit.iter().any(|a| a.event == "cancel"));
    assert!(audit
        .iter()
        .any(|a| a.event == "step_end" && a.detail.starts_with("cancelled")));
    let last = audit.last().unwrap();
    assert_eq!(last.event, "run_end");
    assert!(last.detail.starts_with("aborted"));
    let saved = t.env.store.load_run(&run_id).await.unwrap().unwrap();
    assert_eq!(saved.status, RunStatus::Aborted);
    // A finished run closes with Esc.
    c.keys("<Esc>");
    assert!(c.s.wizard.is_none());
}

#[tokio::test]
async fn headless_refuses_a_checklist_and_a_missing_yes_without_doing_anything() {
    let t = sqlite_env().await;
    // A checklist, then a follow-up: the checklist stops the run before anything is done.
    // (rotate-access-key itself runs end to end against moto in tests/access_key_rotation.rs.)
    let source = r#"
name = "checklist-first"
title = "A checklist first"
kind = "rotation"
[[param]]
name = "old_key_id"
pattern = '^[A-Z0-9]+$'
[[step]]
id = "look"
kind = "checklist"
items = ["Look at {{params.old_key_id}}"]
[[step]]
id = "later"
kind = "schedule_followup"
title = "Later"
due = "7d"
"#;
    let spec = spec::parse(std::path::Path::new("checklist-first.toml"), source).unwrap();
    let mut out = Vec::new();
    let code = runner::run_headless(
        &t.env,
        &spec,
        &params(&[("old_key_id", "AKIAOLDKEY")]),
        &HeadlessOpts::default(),
        &mut out,
    )
    .await;
    let text = String::from_utf8(out).unwrap();
    assert_eq!(code, runner::EXIT_NEEDS_CONFIRMATION, "{text}");
    assert!(text.contains("checklist for a person"), "{text}");
    assert!(t.env.store.open_followups().await.unwrap().is_empty());

    // A parameter that fails validation stops the run before it starts.
    let mut out = Vec::new();
    let code = runner::run_headless(
        &t.env,
        &spec,
        &params(&[("old_key_id", "x; rm -rf /")]),
        &HeadlessOpts::default(),
        &mut out,
    )
    .await;
    assert_eq!(code, runner::EXIT_USAGE);
    assert!(String::from_utf8(out).unwrap().contains("does not match"));
}

#[tokio::test]
async fn rotate_logs_compresses_truncates_and_sees_the_file_written_again() {
    let t = sqlite_env().await;
    let log = t.path("app.log");
    let original: String = (0..500).map(|i| format!("line {i}\n")).collect();
    std::fs::write(&log, &original).unwrap();
    let spec = shipped("rotate-logs");
    let log_s = log.to_str().unwrap().to_string();
    // The application writes again a moment after the rotation.
    let writer = {
        let log = log.clone();
        std::thread::spawn(move || {
            for _ in 0..100 {
                std::thread::sleep(Duration::from_millis(100));
                if std::fs::metadata(&log)
                    .map(|m| m.len() == 0)
                    .unwrap_or(false)
                {
                    std::fs::write(&log, "new line after rotation\n").unwrap();
                    return;
                }
            }
        })
    };
    let mut out = Vec::new();
    let code = runner::run_headless(
        &t.env,
        &spec,
        &params(&[("files", &log_s), ("check_file", &log_s)]),
        &HeadlessOpts::default(),
        &mut out,
    )
    .await;
    writer.join().unwrap();
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&out));
    let rotated: Vec<PathBuf> = std::fs::read_dir(t.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".gz"))
        .collect();
    assert_eq!(rotated.len(), 1);
    let mut gz = flate2::read::GzDecoder::new(std::fs::File::open(&rotated[0]).unwrap());
    let mut back = String::new();
    std::io::Read::read_to_string(&mut gz, &mut back).unwrap();
    assert_eq!(back, original);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "new line after rotation\n"
    );
}

#[tokio::test]
async fn history_lists_runs_and_shows_one_in_full() {
    let t = sqlite_env().await;
    let (books, _) = spec::load_all(&[fixtures()]);
    let mut out = Vec::new();
    let code = toban::runbook::cli::run(
        &mut out,
        &t.env,
        &books,
        "echo-param",
        &["x=hello world".to_string()],
        &HeadlessOpts::default(),
    )
    .await;
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&out));
    let mut list = Vec::new();
    assert_eq!(
        toban::runbook::cli::history(&mut list, &t.env.store, None, 20).await,
        0
    );
    let list = String::from_utf8(list).unwrap();
    assert!(
        list.contains("echo-param") && list.contains("succeeded"),
        "{list}"
    );
    let run_id = list.split_whitespace().next().unwrap().to_string();
    let mut full = Vec::new();
    assert_eq!(
        toban::runbook::cli::history(&mut full, &t.env.store, Some(&run_id), 20).await,
        0
    );
    let full = String::from_utf8(full).unwrap();
    for needle in [
        "run_start",
        "step_start",
        "\"hello world\"",
        "exit 0",
        "sha256:",
        "| hello world",
        "run_end",
    ] {
        assert!(full.contains(needle), "{needle} missing in:\n{full}");
    }
    let mut shown = Vec::new();
    assert_eq!(
        toban::runbook::cli::show(&mut shown, &books, "restore-postgres"),
        0
    );
    let shown = String::from_utf8(shown).unwrap();
    assert!(shown.contains("[command] Restore (restore)"), "{shown}");
    let mut none = Vec::new();
    assert_eq!(
        toban::runbook::cli::show(&mut none, &books, "nope"),
        runner::EXIT_USAGE
    );
}

#[tokio::test]
async fn a_resumed_run_still_has_the_secret_it_generated_and_forgets_it_at_the_end() {
    use std::os::unix::fs::PermissionsExt;
    let t = sqlite_env().await;
    let (books, _) = spec::load_all(&[fixtures()]);
    let spec = books.iter().find(|b| b.name == "secret-file").unwrap();
    let target = t.path("app_password");
    let mut first = runner::new_engine(
        spec,
        &params(&[("path", target.to_str().unwrap())]),
        RunOptions {
            step_by_step: true,
            ..Default::default()
        },
    )
    .unwrap();
    // Generate, then toban "dies" before the write step.
    let d = drive(
        &t.env,
        &mut first,
        vec![toban::runbook::engine::Event::Continue],
        true,
    )
    .await;
    assert_eq!(d.executed, ["gen"]);
    let secret = first.state.secrets["gen"].clone();
    let run_id = first.state.run_id.clone();
    let kept = t.env.runs_dir.join(&run_id).join("secrets");
    for f in std::fs::read_dir(&kept).unwrap().flatten() {
        assert_eq!(f.metadata().unwrap().permissions().mode() & 0o777, 0o600);
    }
    drop(first);

    let (mut found, _) = runner::interrupted_runs(&t.env, &books).await.unwrap();
    let (mut again, events) = found.remove(0);
    assert!(events.is_empty());
    let d = drive(
        &t.env,
        &mut again,
        vec![toban::runbook::engine::Event::Continue],
        false,
    )
    .await;
    assert_eq!(d.status, Some(RunStatus::Succeeded), "{:#?}", again.state);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), secret);
    assert!(!kept.exists(), "secrets are removed when the run ends");
    let saved: (String,) = sqlx::query_as("SELECT state_json FROM runbook_runs WHERE run_id = $1")
        .bind(&run_id)
        .fetch_one(t.env.store.pool())
        .await
        .unwrap();
    assert!(!saved.0.contains(&secret));
    let audit = serde_json::to_string(&t.env.store.run_audit(&run_id).await.unwrap()).unwrap();
    assert!(!audit.contains(&secret));
}

fn inline(name: &str, steps: &str) -> toban::runbook::spec::Runbook {
    let src = format!("name = \"{name}\"\ntitle = \"T\"\nkind = \"maintenance\"\n\n{steps}");
    spec::parse(std::path::Path::new("inline.toml"), &src).expect("runbook")
}

#[tokio::test]
async fn output_waits_for_a_slow_screen_instead_of_piling_up() {
    use toban::runbook::engine::Event;
    let t = sqlite_env().await;
    let spec = inline(
        "chatty",
        "[[step]]\nid = \"chatty\"\nkind = \"command\"\n\
         argv = [\"sh\", \"-c\", \"i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); done\"]\n",
    );
    let mut engine = runner::new_engine(&spec, &params(&[]), RunOptions::default()).unwrap();
    let (tx, mut rx) = mpsc::channel(16);
    let probe = tx.clone();
    let h = RunnerHandle::spawn(t.env.clone(), tx);
    let fx = engine.handle(Event::Start, chrono::Utc::now().timestamp_millis());
    h.submit_effects(&engine, fx);
    // The command is done within this time; nobody reads the screen's channel.
    let log = t
        .env
        .runs_dir
        .join(&engine.state.run_id)
        .join("steps/chatty/output.log");
    tokio::time::timeout(Duration::from_secs(30), async {
        while std::fs::read_to_string(&log).map_or(0, |s| s.lines().count()) < 3000 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the command wrote its output");
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Bounded: the screen's channel is full, the rest waits upstream.
    assert_eq!(probe.capacity(), 0, "the channel is full, not growing");
    drop(probe);

    // Every line arrives, in order, and the step ends only after the last one.
    let mut lines = Vec::new();
    let outcome = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match rx.recv().await.expect("runner alive") {
                RunnerMsg::Output { line, .. } => lines.push(line),
                RunnerMsg::Event(Event::StepFinished(o)) => break o,
                other => panic!("{other:?}"),
            }
        }
    })
    .await
    .expect("the step finished");
    assert!(outcome.ok, "{outcome:?}");
    let expected: Vec<String> = (0..3000).map(|i| format!("line {i}")).collect();
    assert_eq!(lines, expected);
}

#[tokio::test]
async fn escape_sequences_from_a_command_never_reach_the_terminal_or_the_store() {
    let t = sqlite_env().await;
    let spec = inline(
        "noisy",
        "[[step]]\nid = \"noisy\"\nkind = \"command\"\n\
         argv = [\"sh\", \"-c\", \"printf '\\\\033]0;pwned\\\\007ok \\\\033[31mred\\\\033[0m\\\\n'; exit 3\"]\n",
    );
    let mut out = Vec::new();
    let code = runner::run_headless(
        &t.env,
        &spec,
        &params(&[]),
        &HeadlessOpts::default(),
        &mut out,
    )
    .await;
    let text = String::from_utf8(out).unwrap();
    assert_eq!(code, runner::EXIT_FAILED, "{text}");
    assert!(text.contains("| ok red"), "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );

    let runs = t.env.store.run_history(1).await.unwrap();
    let run_id = runs[0].run_id.clone();
    let audit = t.env.store.run_audit(&run_id).await.unwrap();
    let tail = audit
        .iter()
        .find(|a| a.event == "step_end")
        .and_then(|a| a.tail.clone())
        .unwrap();
    assert_eq!(tail, "ok red");
    let mut shown = Vec::new();
    toban::runbook::cli::history(&mut shown, &t.env.store, Some(&run_id), 10).await;
    let shown = String::from_utf8(shown).unwrap();
    assert!(shown.contains("| ok red"), "{shown}");
    assert!(!shown.contains('\u{1b}'), "{shown:?}");
}
