//! What the audit says about a resumed run, read back from the store: the resolve entries
//! carry the resuming session's user and SSH client, an accepted step's duration is the
//! real elapsed time, no Rust debug text reaches it, "run the step again" is refused while
//! the original still runs, and a failed drill says "failed" once.

use std::collections::BTreeMap;
use std::sync::Arc;

use toban::runbook::engine::{
    Engine, EngineEffect, Event, Reattach, ResumeChoice, RunOptions, RunStatus, StepOutcome,
    StepState,
};
use toban::runbook::runner::{self, RunEnv};
use toban::runbook::spec::{self, Runbook};
use toban::runbook::steps::SupervisedExecutor;
use toban::store::Store;

const T: i64 = 1_795_401_900_000;

const BOOK: &str = r#"
name = "two"
title = "Two steps"
kind = "maintenance"

[[step]]
id = "load"
kind = "command"
argv = ["true"]

[[step]]
id = "after"
kind = "command"
argv = ["true"]
"#;

const DRILL: &str = r#"
name = "drill-me"
title = "A drill"
kind = "restore"
drillable = true

[drill]

[[step]]
id = "verify"
kind = "command"
argv = ["false"]
"#;

fn book(src: &str) -> Runbook {
    spec::parse(std::path::Path::new("t.toml"), src).unwrap()
}

async fn env() -> (RunEnv, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let env = RunEnv {
        store: Store::open(None, &dir.path().join("data")).await.unwrap(),
        executor: Arc::new(SupervisedExecutor),
        runs_dir: dir.path().join("data/runs"),
        connections: BTreeMap::new(),
        engines: Default::default(),
    };
    (env, dir)
}

async fn record(env: &RunEnv, e: &Engine, fx: &[EngineEffect]) {
    for f in fx {
        runner::record(env, &e.state, f).await.unwrap();
    }
}

/// Started by alice from one client; toban dies while `load` runs; bob resumes it from
/// another client.
async fn resumed_by_bob(env: &RunEnv) -> Engine {
    let spec = book(BOOK);
    let mut e = Engine::new(
        spec.clone(),
        "run-a".into(),
        BTreeMap::new(),
        RunOptions::default(),
        "alice".into(),
        Some("198.51.100.4 port 40000".into()),
        T,
    );
    let fx = e.handle(Event::Start, T);
    record(env, &e, &fx).await;
    let state = env.store.load_run("run-a").await.unwrap().unwrap();
    let mut e = Engine::resume(spec, state);
    e.set_actor("bob".into(), Some("203.0.113.9 port 51000".into()));
    e
}

#[tokio::test]
async fn an_accepted_step_is_on_record_as_the_resuming_session_with_its_real_duration() {
    let (env, _dir) = env().await;
    let mut e = resumed_by_bob(&env).await;
    let fx = e.handle(
        Event::Reattached {
            step: 0,
            info: Reattach::Finished {
                exit_code: 7,
                tail: "loaded 3 tables".into(),
            },
        },
        T + 15_000,
    );
    record(&env, &e, &fx).await;
    let fx = e.handle(Event::Resolve(ResumeChoice::Accept), T + 20_000);
    record(&env, &e, &fx).await;
    assert_eq!(e.state.status, RunStatus::Failed, "exit 7 is not a success");

    let audit = env.store.run_audit("run-a").await.unwrap();
    let by = |ev: &str| audit.iter().find(|a| a.event == ev).unwrap().clone();
    let start = by("run_start");
    assert_eq!(start.user, "alice");
    let resolve = by("resolve");
    assert_eq!(resolve.user, "bob");
    assert_eq!(
        resolve.ssh_client.as_deref(),
        Some("203.0.113.9 port 51000")
    );
    assert_eq!(
        resolve.detail,
        "operator chose to accept what is known for the interrupted step \
         (it finished with exit code 7 while toban was away)"
    );
    let end = audit
        .iter()
        .find(|a| a.event == "step_end" && a.step_id.as_deref() == Some("load"))
        .unwrap();
    assert_eq!(end.user, "bob");
    assert_eq!(end.exit_code, Some(7));
    assert_eq!(
        end.duration_ms,
        Some(20_000),
        "from its start to the acceptance"
    );
    for a in &audit {
        for debug in [
            "Some(",
            "Finished {",
            "StillRunning",
            "None",
            "failed: failed",
        ] {
            assert!(!a.detail.contains(debug), "{debug} in {:?}", a.detail);
        }
    }
}

#[tokio::test]
async fn run_again_is_refused_while_the_original_still_runs() {
    let (env, _dir) = env().await;
    let mut e = resumed_by_bob(&env).await;
    let fx = e.handle(
        Event::Reattached {
            step: 0,
            info: Reattach::StillRunning,
        },
        T + 5_000,
    );
    record(&env, &e, &fx).await;
    let fx = e.handle(Event::Resolve(ResumeChoice::Rerun), T + 6_000);
    assert!(
        !fx.iter().any(|f| matches!(f, EngineEffect::Execute(_))),
        "{fx:?}"
    );
    assert!(fx.iter().any(|f| matches!(f, EngineEffect::Notice(_))));
    record(&env, &e, &fx).await;
    assert_eq!(e.state.steps[0].state, StepState::Interrupted);
    assert_eq!(e.state.status, RunStatus::Active);
    let audit = env.store.run_audit("run-a").await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!(last.event, "rejected");
    assert_eq!(last.user, "bob");
    assert!(last.detail.contains("still running"), "{last:?}");

    // Once it finished, running it again is the operator's call.
    let fx = e.handle(
        Event::Reattached {
            step: 0,
            info: Reattach::Lost,
        },
        T + 7_000,
    );
    record(&env, &e, &fx).await;
    let fx = e.handle(Event::Resolve(ResumeChoice::Rerun), T + 8_000);
    assert!(fx.iter().any(|f| matches!(f, EngineEffect::Execute(_))));
}

#[tokio::test]
async fn a_failed_drill_says_failed_once() {
    let (env, _dir) = env().await;
    let mut e = Engine::new(
        book(DRILL),
        "run-d".into(),
        BTreeMap::new(),
        RunOptions {
            drill: true,
            ..Default::default()
        },
        "alice".into(),
        None,
        T,
    );
    let fx = e.handle(Event::Start, T);
    record(&env, &e, &fx).await;
    let fx = e.handle(
        Event::StepFinished(StepOutcome {
            exit_code: Some(1),
            duration_ms: 3_000,
            ..StepOutcome::failed(0, "failed: exit code 1")
        }),
        T + 3_000,
    );
    record(&env, &e, &fx).await;
    let drills = env.store.drills(10).await.unwrap();
    assert_eq!(drills.len(), 1);
    assert!(!drills[0].ok);
    assert_eq!(drills[0].detail, "step `verify` failed: exit code 1");
    let audit = env.store.run_audit("run-d").await.unwrap();
    let end = audit.last().unwrap();
    assert_eq!(end.detail, "failed: step `verify` failed: exit code 1");
}
