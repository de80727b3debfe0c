//! The state machine on its own: rollbacks, failures that go on, stray outcomes, and a
//! run state that round-trips without its secrets.

use super::*;
use crate::runbook::spec::parse;

const BOOK: &str = r#"
name = "t"
title = "T"
kind = "maintenance"

[[step]]
id = "risky"
kind = "command"
argv = ["false"]
rollback = "undo"

[[step]]
id = "never"
kind = "command"
argv = ["true"]

[[step]]
id = "undo"
kind = "command"
argv = ["true"]
rollback_only = true
"#;

fn engine(src: &str) -> Engine {
    let spec = parse(std::path::Path::new("t.toml"), src).unwrap();
    Engine::new(
        spec,
        "r".into(),
        BTreeMap::new(),
        RunOptions::default(),
        "u".into(),
        None,
        0,
    )
}

fn executed(fx: &[EngineEffect]) -> Vec<String> {
    fx.iter()
        .filter_map(|f| match f {
            EngineEffect::Execute(r) => Some(r.id.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_failed_step_runs_its_rollback_then_the_run_fails() {
    let mut e = engine(BOOK);
    let fx = e.handle(Event::Start, 1);
    assert_eq!(executed(&fx), ["risky"]);
    // Persisted before it runs: a crash now finds the step running.
    let persist = fx.iter().position(|f| *f == EngineEffect::Persist).unwrap();
    let exec = fx
        .iter()
        .position(|f| matches!(f, EngineEffect::Execute(_)))
        .unwrap();
    assert!(persist < exec);
    let fx = e.handle(
        Event::StepFinished(StepOutcome::failed(0, "exit code 1")),
        2,
    );
    assert_eq!(executed(&fx), ["undo"]);
    let mut ok = StepOutcome::failed(2, "exit code 0");
    ok.ok = true;
    let fx = e.handle(Event::StepFinished(ok), 3);
    assert!(fx.contains(&EngineEffect::Finished(RunStatus::Failed)));
    assert_eq!(e.state.steps[1].state, StepState::Pending, "never ran");
    assert!(e
        .state
        .failure
        .as_deref()
        .unwrap()
        .contains("rollback `undo` done"));
}

#[test]
fn on_failure_continue_goes_on() {
    let src = BOOK.replace("rollback = \"undo\"", "on_failure = \"continue\"");
    let mut e = engine(&src);
    e.handle(Event::Start, 1);
    let fx = e.handle(
        Event::StepFinished(StepOutcome::failed(0, "exit code 1")),
        2,
    );
    assert_eq!(executed(&fx), ["never"]);
    assert_eq!(e.state.steps[0].state, StepState::Failed);
}

#[test]
fn a_late_outcome_for_another_step_is_ignored() {
    let mut e = engine(BOOK);
    e.handle(Event::Start, 1);
    let fx = e.handle(Event::StepFinished(StepOutcome::failed(1, "stray")), 2);
    assert!(fx.is_empty());
    assert_eq!(e.state.steps[0].state, StepState::Running);
}

#[test]
fn state_round_trips_through_json_without_secrets() {
    let mut e = engine(BOOK);
    e.state
        .secrets
        .insert("pw".into(), "hunter2hunter2hunter2".into());
    e.handle(Event::Start, 1);
    let json = serde_json::to_string(&e.state).unwrap();
    assert!(!json.contains("hunter2"));
    let back: RunState = serde_json::from_str(&json).unwrap();
    let resumed = Engine::resume(e.spec.clone(), back);
    assert_eq!(resumed.state.steps[0].state, StepState::Interrupted);
    assert_eq!(resumed.waiting(), Waiting::Resolve);
}

const CLEANUP: &str = r#"
name = "t"
title = "T"
kind = "maintenance"

[[step]]
id = "long"
kind = "command"
argv = ["sleep", "60"]

[[step]]
id = "after"
kind = "command"
argv = ["true"]

[[step]]
id = "cleanup"
kind = "command"
argv = ["true"]
finally = true
"#;

fn outcome(step: usize, ok: bool, cancelled: bool) -> StepOutcome {
    StepOutcome {
        ok,
        cancelled,
        ..StepOutcome::failed(step, if ok { "done" } else { "stopped" })
    }
}

#[test]
fn finally_steps_run_once_however_the_run_ends() {
    // Interrupted by the operator: the cleanup runs, the run ends aborted.
    let mut e = engine(CLEANUP);
    assert_eq!(executed(&e.handle(Event::Start, 1)), ["long"]);
    e.handle(Event::Cancel, 2);
    let fx = e.handle(Event::StepFinished(outcome(0, false, true)), 3);
    assert_eq!(executed(&fx), ["cleanup"]);
    assert!(!e.state.status.is_finished());
    let fx = e.handle(Event::StepFinished(outcome(2, true, false)), 4);
    assert!(fx.contains(&EngineEffect::Finished(RunStatus::Aborted)));

    // Succeeded: not in the normal flow, once at the end; a failed cleanup fails the run.
    let mut e = engine(CLEANUP);
    e.handle(Event::Start, 1);
    let fx = e.handle(Event::StepFinished(outcome(0, true, false)), 2);
    assert_eq!(executed(&fx), ["after"]);
    let fx = e.handle(Event::StepFinished(outcome(1, true, false)), 3);
    assert_eq!(executed(&fx), ["cleanup"]);
    let fx = e.handle(Event::StepFinished(outcome(2, false, false)), 4);
    assert!(fx.contains(&EngineEffect::Finished(RunStatus::Failed)));
    assert!(e
        .state
        .failure
        .as_deref()
        .is_some_and(|f| f.contains("cleanup step `cleanup` failed")));
}

#[test]
fn a_drill_never_runs_a_rollback_marked_skip_in_a_drill() {
    let src = r#"
name = "t"
title = "T"
kind = "restore"
drillable = true

[drill]

[[step]]
id = "risky"
kind = "command"
argv = ["false"]
rollback = "undo"

[[step]]
id = "undo"
kind = "command"
argv = ["true"]
rollback_only = true
drill = "skip"
"#;
    let spec = parse(std::path::Path::new("t.toml"), src).unwrap();
    let mut e = Engine::new(
        spec,
        "r".into(),
        BTreeMap::new(),
        RunOptions {
            drill: true,
            ..Default::default()
        },
        "u".into(),
        None,
        0,
    );
    e.handle(Event::Start, 1);
    let fx = e.handle(Event::StepFinished(outcome(0, false, false)), 2);
    assert!(executed(&fx).is_empty(), "{fx:?}");
    assert!(fx.contains(&EngineEffect::Finished(RunStatus::Failed)));
}
