//! A run resumed against a runbook file that changed since it started — a step removed (the
//! saved step index out of range: this used to panic at every start), a step inserted, the
//! file deleted — opens read-only with its audit: it can be aborted or started afresh,
//! never executed against a different step list. Headless (`interrupted_runs`, `toban
//! runbook abort`) and through the console by keys.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use common::console::Console;
use toban::runbook::engine::{
    Engine, EngineEffect, Event, ResumeChoice, RunOptions, RunStatus, StepOutcome, StepState,
    Waiting,
};
use toban::runbook::runner::{self, Job, RunEnv};
use toban::runbook::spec::{self, Runbook};
use toban::runbook::steps::SupervisedExecutor;
use toban::state::Msg;
use toban::store::Store;

const RUN: &str = "20261123T024500Z-c0ffee";
/// 02:45:00 UTC on the test day.
const STARTED_MS: i64 = 1_795_401_900_000;

fn step(id: &str) -> String {
    format!("[[step]]\nid = \"{id}\"\nkind = \"command\"\nargv = [\"true\"]\ntimeout = \"10s\"\n\n")
}

fn book_text(ids: &[&str]) -> String {
    let mut s =
        String::from("name = \"three\"\ntitle = \"Three steps\"\nkind = \"maintenance\"\n\n");
    for id in ids {
        s.push_str(&step(id));
    }
    s
}

fn books(dir: &Path) -> Vec<Runbook> {
    let (books, errors) = spec::load_all(&[dir.to_path_buf()]);
    assert!(errors.is_empty(), "{errors:?}");
    books
}

struct Setup {
    env: RunEnv,
    books_dir: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let books_dir = dir.path().join("runbooks");
    std::fs::create_dir_all(&books_dir).unwrap();
    std::fs::write(
        books_dir.join("three.toml"),
        book_text(&["first", "second", "third"]),
    )
    .unwrap();
    let env = RunEnv {
        // Where the binary looks with XDG_DATA_HOME at the temp dir.
        store: Store::open(None, &dir.path().join("toban")).await.unwrap(),
        executor: Arc::new(SupervisedExecutor),
        runs_dir: dir.path().join("toban/runs"),
        connections: BTreeMap::new(),
        engines: Default::default(),
    };
    Setup {
        env,
        books_dir,
        _dir: dir,
    }
}

fn ok(step: usize) -> StepOutcome {
    StepOutcome {
        step,
        ok: true,
        exit_code: Some(0),
        output: String::new(),
        tail: String::new(),
        digest: None,
        message: "exit 0".into(),
        secret: None,
        cancelled: false,
        duration_ms: 1000,
    }
}

/// Records as the killed session did, except that the run's lease is given to a process
/// that no longer exists (the killed toban) instead of this test.
async fn record_all(env: &RunEnv, engine: &Engine, fx: &[EngineEffect]) {
    for f in fx {
        match f {
            EngineEffect::Persist => env
                .store
                .save_run(&engine.state, chrono::Utc::now())
                .await
                .unwrap(),
            _ => runner::record(env, &engine.state, f).await.unwrap(),
        }
    }
}

/// The lease the killed toban left: this host, a pid that is gone.
async fn held_by_the_dead(env: &RunEnv) {
    use toban::runbook::lease::{this_host, Claim, LeaseHolder};
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id() as i64;
    child.wait().unwrap();
    let dead = LeaseHolder {
        host: this_host(),
        pid,
        session_ms: 1,
        user: "alice".into(),
    };
    let now = chrono::Utc::now().timestamp_millis();
    let claim = env.store.claim_run(RUN, &dead, now, false).await.unwrap();
    assert_eq!(claim, Claim::Held);
}

/// Runs `three` as toban would up to step three running, then "kill -9": nothing more is
/// written. Returns nothing: the store holds the run.
async fn killed_during_step_three(s: &Setup) {
    let spec = books(&s.books_dir)
        .into_iter()
        .find(|b| b.name == "three")
        .unwrap();
    let mut e = Engine::new(
        spec,
        RUN.into(),
        BTreeMap::new(),
        RunOptions::default(),
        "alice".into(),
        Some("198.51.100.4 port 40000".into()),
        STARTED_MS,
    );
    let fx = e.handle(Event::Start, STARTED_MS);
    record_all(&s.env, &e, &fx).await;
    for i in 0..2 {
        let at = STARTED_MS + (i as i64 + 1) * 1000;
        let fx = e.handle(Event::StepFinished(ok(i)), at);
        record_all(&s.env, &e, &fx).await;
    }
    assert_eq!(e.state.current, Some(2));
    assert_eq!(e.state.steps[2].state, StepState::Running);
    held_by_the_dead(&s.env).await;
}

/// What a restarted toban finds: the one run, read-only, no panic, nothing executed.
async fn resumed(s: &Setup) -> Engine {
    let (mut found, notes) = runner::interrupted_runs(&s.env, &books(&s.books_dir))
        .await
        .unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(found.len(), 1);
    let (mut e, events) = found.remove(0);
    for ev in events {
        assert!(
            !e.handle(ev, STARTED_MS + 9000)
                .iter()
                .any(|f| matches!(f, EngineEffect::Execute(_))),
            "nothing runs"
        );
    }
    assert_eq!(e.waiting(), Waiting::ReadOnly);
    let ro = e.read_only.clone().expect("read-only");
    // Its audit is there to read.
    let events: Vec<&str> = ro.audit.iter().map(|a| a.event.as_str()).collect();
    assert_eq!(events.first(), Some(&"run_start"));
    assert_eq!(events.last(), Some(&"step_start"));
    // Every way of driving it is refused and nothing executes.
    for ev in [
        Event::Continue,
        Event::Confirm(true),
        Event::Resolve(ResumeChoice::Rerun),
        Event::Resolve(ResumeChoice::Accept),
        Event::StepFinished(ok(2)),
        Event::Start,
    ] {
        let fx = e.clone().handle(ev.clone(), STARTED_MS + 10_000);
        assert!(
            fx.iter().all(|f| matches!(f, EngineEffect::Notice(_))),
            "{ev:?} gave {fx:?}"
        );
    }
    e
}

/// Carries out the runner jobs the console asked for (records only: nothing executes).
async fn apply(env: &RunEnv, jobs: Vec<Job>) {
    for j in jobs {
        match j {
            Job::Record(state, fx) => runner::record(env, &state, &fx).await.unwrap(),
            Job::Execute(_, r) => panic!("a read-only run executed step `{}`", r.id),
            _ => {}
        }
    }
}

fn console_with(s: &Setup, e: Engine) -> Console {
    let mut c = Console::new(books(&s.books_dir));
    c.msg(Msg::Resume {
        runs: vec![(e, Vec::new())],
        missing: Vec::new(),
    });
    c
}

#[tokio::test]
async fn a_step_removed_opens_read_only_and_can_be_aborted_by_keys() {
    let s = setup().await;
    killed_during_step_three(&s).await;
    // The file cut to one step: the saved index 2 is out of range.
    std::fs::write(s.books_dir.join("three.toml"), book_text(&["first"])).unwrap();
    let e = resumed(&s).await;
    assert!(e.read_only.as_ref().unwrap().reason.contains("changed"));

    let mut c = console_with(&s, e);
    let screen = c.screen(80, 24);
    assert!(screen.contains("Read-only"), "{screen}");
    insta::assert_snapshot!("step_removed_80x24", screen);
    insta::assert_snapshot!("step_removed_160x48", c.screen(160, 48));

    // Enter does not run anything here either; Ctrl-X asks, y aborts.
    c.keys("<C-x> y");
    let w = c.s.wizard.as_ref().expect("the wizard shows the ended run");
    assert_eq!(w.engine.state.status, RunStatus::Aborted);
    apply(&s.env, c.take_jobs()).await;

    let audit = s.env.store.run_audit(RUN).await.unwrap();
    let end = audit.last().unwrap();
    assert_eq!(end.event, "run_end");
    assert!(
        end.detail.starts_with("aborted: aborted read-only"),
        "{end:?}"
    );
    // The session that resumed it is on record, not the one that started it.
    assert_eq!(end.user, "operator");
    assert_eq!(end.ssh_client.as_deref(), Some("203.0.113.7 port 52114"));
    // Nothing is left to resume.
    let (found, _) = runner::interrupted_runs(&s.env, &books(&s.books_dir))
        .await
        .unwrap();
    assert!(found.is_empty());
}

#[tokio::test]
async fn a_step_inserted_opens_read_only_and_enter_starts_afresh() {
    let s = setup().await;
    killed_during_step_three(&s).await;
    std::fs::write(
        s.books_dir.join("three.toml"),
        book_text(&["first", "inserted", "second", "third"]),
    )
    .unwrap();
    let e = resumed(&s).await;
    let mut c = console_with(&s, e);
    assert!(c.screen(80, 24).contains("start afresh"));

    c.keys("<Enter>");
    apply(&s.env, c.take_jobs()).await;
    // The old run ended as aborted; a new run of today's four steps is open.
    let old = s.env.store.load_run(RUN).await.unwrap().unwrap();
    assert_eq!(old.status, RunStatus::Aborted);
    let w = c.s.wizard.as_ref().expect("a new run is open");
    assert_ne!(w.engine.state.run_id, RUN);
    assert!(w.engine.read_only.is_none());
    let ids: Vec<&str> = w.engine.spec.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["first", "inserted", "second", "third"]);
}

#[tokio::test]
async fn a_reworded_step_with_the_same_ids_is_read_only_too() {
    let s = setup().await;
    killed_during_step_three(&s).await;
    // Same ids, another command: the digest tells.
    let text = book_text(&["first", "second", "third"]).replacen("[\"true\"]", "[\"false\"]", 1);
    std::fs::write(s.books_dir.join("three.toml"), text).unwrap();
    resumed(&s).await;
    // A comment or layout change is not a change.
    let text = format!(
        "# a comment\n\n{}",
        book_text(&["first", "second", "third"])
    );
    std::fs::write(s.books_dir.join("three.toml"), text).unwrap();
    let (found, _) = runner::interrupted_runs(&s.env, &books(&s.books_dir))
        .await
        .unwrap();
    assert!(found[0].0.read_only.is_none(), "only a comment changed");
    assert_eq!(found[0].0.waiting(), Waiting::Resolve);
}

#[tokio::test]
async fn a_deleted_file_opens_read_only_and_toban_runbook_abort_ends_it() {
    let s = setup().await;
    killed_during_step_three(&s).await;
    std::fs::remove_file(s.books_dir.join("three.toml")).unwrap();
    let e = resumed(&s).await;
    assert!(e.read_only.as_ref().unwrap().runbook_missing);
    let c = console_with(&s, e);
    let screen = c.screen(80, 24);
    assert!(screen.contains("no longer exists"), "{screen}");
    assert!(!screen.contains("start afresh"), "{screen}");
    insta::assert_snapshot!("file_deleted_80x24", screen);

    // Headless: an unknown run is a usage error; the open one is aborted with the reason.
    let mut out = Vec::new();
    let code = toban::runbook::cli::abort(&mut out, &s.env, &[], "no-such-run", None).await;
    assert_eq!(code, 2, "{}", String::from_utf8_lossy(&out));
    let mut out = Vec::new();
    let code =
        toban::runbook::cli::abort(&mut out, &s.env, &[], RUN, Some("file was removed")).await;
    let text = String::from_utf8_lossy(&out).to_string();
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("aborted"), "{text}");
    let audit = s.env.store.run_audit(RUN).await.unwrap();
    let abort = audit.iter().find(|a| a.event == "abort").unwrap();
    assert_eq!(
        abort.detail,
        "aborted from the command line: file was removed"
    );
    assert_eq!(abort.user, toban::runbook::runner::current_user());
    let end = audit.last().unwrap();
    assert_eq!(end.event, "run_end");
    assert!(end.detail.contains("file was removed"), "{end:?}");
    // Twice: it already ended.
    let mut out = Vec::new();
    let code = toban::runbook::cli::abort(&mut out, &s.env, &[], RUN, None).await;
    assert_eq!(code, 1, "{}", String::from_utf8_lossy(&out));
}

/// The binary: `toban runbook abort` on a run in the data dir, exit codes as documented.
#[tokio::test]
async fn the_abort_command_line() {
    let s = setup().await;
    killed_during_step_three(&s).await;
    let root = s.books_dir.parent().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_toban"))
            .args(args)
            .env("XDG_DATA_HOME", root)
            .env("XDG_CONFIG_HOME", root.join("config"))
            .env("XDG_STATE_HOME", root.join("state"))
            .output()
            .unwrap()
    };
    let o = run(&["runbook", "abort", RUN, "--reason", "cut"]);
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{text}");
    let o = run(&["runbook", "abort", RUN]);
    assert_eq!(o.status.code(), Some(1));
}

/// `toban runbook resume`: refused (read-only) once the runbook changed; on an unchanged
/// one an interrupted step needs `--step`, then the run goes on to its end.
#[tokio::test]
async fn headless_resume_refuses_a_changed_runbook_and_goes_on_with_an_unchanged_one() {
    use toban::runbook::cli::resume;
    use toban::runbook::engine::ResumeChoice;
    let s = setup().await;
    killed_during_step_three(&s).await;
    let books_now = books(&s.books_dir);

    let mut out = Vec::new();
    let code = resume(&mut out, &s.env, &books_now, RUN, None, &None).await;
    let text = String::from_utf8_lossy(&out).to_string();
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("step `third` was interrupted"), "{text}");
    assert!(text.contains("--step"), "{text}");

    // The file cut to one step: read-only, pointing at abort; nothing ran.
    std::fs::write(s.books_dir.join("three.toml"), book_text(&["first"])).unwrap();
    let mut out = Vec::new();
    let code = resume(
        &mut out,
        &s.env,
        &books(&s.books_dir),
        RUN,
        Some(ResumeChoice::Rerun),
        &None,
    )
    .await;
    let text = String::from_utf8_lossy(&out).to_string();
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("read-only") && text.contains("toban runbook abort"),
        "{text}"
    );
    let saved = s.env.store.load_run(RUN).await.unwrap().unwrap();
    assert_eq!(saved.status, RunStatus::Active);

    // Back as it was: accept what is known and go on to the end.
    let mut out = Vec::new();
    let code = resume(
        &mut out,
        &s.env,
        &books_now,
        RUN,
        Some(ResumeChoice::Accept),
        &None,
    )
    .await;
    let text = String::from_utf8_lossy(&out).to_string();
    assert_eq!(code, 0, "{text}");
    let saved = s.env.store.load_run(RUN).await.unwrap().unwrap();
    assert_eq!(saved.status, RunStatus::Succeeded);
    let audit = s.env.store.run_audit(RUN).await.unwrap();
    let resolve = audit.iter().find(|a| a.event == "resolve").unwrap();
    assert_eq!(resolve.user, toban::runbook::runner::current_user());
}
