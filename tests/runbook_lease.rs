//! Two sessions and one run, over one database (SQLite, and PostgreSQL when it can be had):
//! the session driving a run holds it (a lease renewed by heartbeats); another sees who
//! holds it and since when, does not take it for interrupted at start, and can take it over
//! only once the lease lapsed — in the console, by typing the confirmation.

mod common;
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use common::console::Console;
use support::stores::{postgres_db, sqlite_db, TestDb};
use toban::runbook::engine::{Engine, Event, RunOptions, Waiting};
use toban::runbook::lease::{this_host, Claim, LeaseHolder, LAPSE_MS, TAKE_OVER};
use toban::runbook::runner::{self, Job, RunEnv};
use toban::runbook::spec::{self, Runbook};
use toban::runbook::steps::SupervisedExecutor;
use toban::state::Msg;
use toban::store::Store;

const BOOK: &str = r#"
name = "two"
title = "Two steps"
kind = "maintenance"

[[step]]
id = "first"
kind = "command"
argv = ["true"]

[[step]]
id = "second"
kind = "command"
argv = ["true"]
"#;

fn book() -> Runbook {
    spec::parse(std::path::Path::new("two.toml"), BOOK).unwrap()
}

fn holder(host: &str, user: &str) -> LeaseHolder {
    LeaseHolder {
        host: host.into(),
        pid: 4242,
        session_ms: 1,
        user: user.into(),
    }
}

fn env(store: Store, dir: &std::path::Path) -> RunEnv {
    RunEnv {
        store,
        executor: Arc::new(SupervisedExecutor),
        runs_dir: dir.join("runs"),
        connections: BTreeMap::new(),
        engines: Default::default(),
    }
}

/// A run saved as the first session would, its first step running.
async fn open_run(store: &Store, run_id: &str) -> Engine {
    let mut e = Engine::new(
        book(),
        run_id.into(),
        BTreeMap::new(),
        RunOptions::default(),
        "alice".into(),
        None,
        Utc::now().timestamp_millis(),
    );
    e.handle(Event::Start, Utc::now().timestamp_millis());
    store.save_run(&e.state, Utc::now()).await.unwrap();
    e
}

async fn two_sessions(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let a_store = db.store.clone();
    let b_store = db.reopen().await;
    let (a, b) = (holder("host-a", "alice"), holder("host-b", "bob"));
    let now = Utc::now().timestamp_millis();
    open_run(&a_store, "run-1").await;

    // A drives it; B sees who and since when.
    assert_eq!(
        a_store.claim_run("run-1", &a, now, false).await.unwrap(),
        Claim::Held
    );
    let Claim::Busy(l) = b_store
        .claim_run("run-1", &b, now + 5_000, false)
        .await
        .unwrap()
    else {
        panic!("B must not get a live lease");
    };
    assert_eq!(l.holder, a);
    assert_eq!(l.since_ms, now);
    assert!(l.describe(now + 5_000).contains("alice on host-a"));
    // Even a typed take-over cannot take a live lease.
    assert!(matches!(
        b_store
            .claim_run("run-1", &b, now + 5_000, true)
            .await
            .unwrap(),
        Claim::Busy(_)
    ));

    // B starting up does not take A's live run for interrupted, and says who holds it.
    let b_env = env(b_store.clone(), dir.path());
    let (found, notes) = runner::interrupted_runs(&b_env, &[book()]).await.unwrap();
    assert!(
        found.is_empty(),
        "a run with a live lease is not interrupted"
    );
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].contains("run-1") && notes[0].contains("alice on host-a"),
        "{notes:?}"
    );

    // Heartbeats keep it; a lapsed lease needs the typed take-over.
    assert!(a_store
        .renew_lease("run-1", &a, now + 10_000)
        .await
        .unwrap());
    let later = now + 10_000 + LAPSE_MS + 1;
    assert!(matches!(
        b_store.claim_run("run-1", &b, later, false).await.unwrap(),
        Claim::Lapsed(_)
    ));
    assert_eq!(
        b_store.claim_run("run-1", &b, later, true).await.unwrap(),
        Claim::Held
    );
    // A finds out at its next heartbeat and stops driving.
    assert!(!a_store.renew_lease("run-1", &a, later + 1).await.unwrap());
    assert!(b_store.renew_lease("run-1", &b, later + 1).await.unwrap());
    let l = a_store.run_lease("run-1").await.unwrap().unwrap();
    assert_eq!((l.holder, l.since_ms), (b.clone(), later));

    // Two sessions racing for a fresh run: exactly one wins.
    open_run(&a_store, "run-2").await;
    let (ra, rb) = tokio::join!(
        a_store.claim_run("run-2", &a, now, false),
        b_store.claim_run("run-2", &b, now, false)
    );
    let wins = [ra.unwrap(), rb.unwrap()]
        .iter()
        .filter(|c| **c == Claim::Held)
        .count();
    assert_eq!(wins, 1);

    // A finished run renews no more.
    let mut e = open_run(&a_store, "run-3").await;
    a_store.claim_run("run-3", &a, now, false).await.unwrap();
    e.handle(Event::Abort, now + 1);
    a_store.save_run(&e.state, Utc::now()).await.unwrap();
    assert!(!a_store.renew_lease("run-3", &a, now + 2).await.unwrap());
}

#[tokio::test]
async fn two_sessions_one_run_sqlite() {
    two_sessions(sqlite_db().await).await;
}

#[tokio::test]
async fn two_sessions_one_run_postgres() {
    let Some(db) = postgres_db().await else {
        return;
    };
    two_sessions(db).await;
}

/// A lapsed lease whose holder may be alive (another host): the run opens read-only, and
/// the console takes it over only after `take over` is typed.
#[tokio::test]
async fn a_lapsed_lease_is_taken_over_by_typing_in_the_console() {
    let db = sqlite_db().await;
    let dir = tempfile::tempdir().unwrap();
    open_run(&db.store, "run-9").await;
    let old = Utc::now().timestamp_millis() - 2 * LAPSE_MS;
    db.store
        .claim_run("run-9", &holder("host-a", "alice"), old, false)
        .await
        .unwrap();
    let env = env(db.reopen().await, dir.path());
    let (found, notes) = runner::interrupted_runs(&env, &[book()]).await.unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    let ro = found[0]
        .0
        .read_only
        .clone()
        .expect("read-only until taken over");
    assert!(ro.take_over && ro.held_elsewhere);

    let mut c = Console::new(vec![book()]);
    c.msg(Msg::Resume {
        runs: found,
        missing: Vec::new(),
    });
    let screen = c.screen(80, 24);
    assert!(screen.contains("alice on host-a"), "{screen}");
    // The times on it are the clock's: the words are checked, not a snapshot.
    for words in [
        "Read-only: held by",
        "may still be alive",
        "Enter take over",
        "> ▏",
    ] {
        assert!(screen.contains(words), "{words}:\n{screen}");
    }
    // Not even an abort from here; Enter without the words does nothing.
    c.keys("<C-x> y <Enter>");
    let w = c.s.wizard.as_ref().unwrap();
    assert!(w.engine.read_only.is_some());
    assert!(!w.engine.state.status.is_finished());
    assert!(!c.take_jobs().iter().any(|j| matches!(j, Job::Hold { .. })));

    c.type_text(TAKE_OVER);
    c.keys("<Enter>");
    let jobs = c.take_jobs();
    assert!(jobs.iter().any(|j| matches!(
        j,
        Job::Hold {
            take_over: true,
            ..
        }
    )));
    // The runner's keeper claims the lease for real and tells the wizard.
    let me = LeaseHolder::this_session();
    let now = Utc::now().timestamp_millis();
    assert_eq!(
        env.store.claim_run("run-9", &me, now, true).await.unwrap(),
        Claim::Held
    );
    c.runner(toban::runbook::runner::RunnerMsg::Event(Event::TookOver(
        "alice on host-a (pid 4242)".into(),
    )));
    let w = c.s.wizard.as_ref().unwrap();
    assert!(w.engine.read_only.is_none());
    assert_eq!(
        w.waiting(),
        Waiting::Resolve,
        "the interrupted step, as usual"
    );
}

/// A holder of this host whose process is gone is dead, whatever its last heartbeat:
/// toban killed and started again at once resumes its run without waiting for the lapse.
#[tokio::test]
async fn a_dead_holder_on_this_host_does_not_hold() {
    let db = sqlite_db().await;
    let dir = tempfile::tempdir().unwrap();
    open_run(&db.store, "run-7").await;
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id() as i64;
    child.wait().unwrap();
    let dead = LeaseHolder {
        host: this_host(),
        pid,
        session_ms: 1,
        user: "alice".into(),
    };
    let now = Utc::now().timestamp_millis();
    db.store
        .claim_run("run-7", &dead, now, false)
        .await
        .unwrap();
    let env = env(db.reopen().await, dir.path());
    let (found, notes) = runner::interrupted_runs(&env, &[book()]).await.unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(found.len(), 1);
    assert!(found[0].0.read_only.is_none());
}

/// A session whose lease another one took turns read-only: no more answers from it.
#[tokio::test]
async fn a_session_that_lost_its_lease_turns_read_only() {
    let mut c = Console::new(vec![book()]);
    c.keys("R <Enter>");
    assert!(c.s.wizard.is_some());
    assert!(c.take_jobs().iter().any(|j| matches!(
        j,
        Job::Hold {
            take_over: false,
            ..
        }
    )));
    c.runner(toban::runbook::runner::RunnerMsg::Event(
        Event::HeldElsewhere {
            why: "another session took this run over: held by bob on host-b (pid 1)".into(),
            take_over: false,
        },
    ));
    let screen = c.screen(80, 24);
    assert!(screen.contains("held by bob on"), "{screen}");
    c.keys("<Enter> <C-x> y");
    assert!(!c.take_jobs().iter().any(|j| matches!(j, Job::Execute(..))));
    let w = c.s.wizard.as_ref().unwrap();
    assert!(!w.engine.state.status.is_finished());
}
