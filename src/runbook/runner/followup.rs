//! A follow-up's action: the runbook a follow-up names (delete the old access key), run
//! without a person when the operator marks the follow-up done. The operator's "done" is
//! the go-ahead, so the runbook must ask nothing: a confirmation or a checklist in it fails
//! the run, as it does for `toban runbook run` without `--yes`. The run is recorded and
//! audited like any other (`toban runbook history --run ID`).

use super::headless::drive_headless;
use super::{new_engine, RunEnv};
use crate::config::calendar::RunbookLink;
use crate::runbook::engine::{RunOptions, RunStatus};
use crate::runbook::spec::Runbook;
use crate::runbook::steps::outcome::clean_lines;

/// How an action's run went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRun {
    /// None when no run could start (no such runbook, a bad parameter).
    pub run_id: Option<String>,
    pub ok: bool,
    /// One line: what it did, or why it failed.
    pub message: String,
}

/// Runs `link`'s runbook with its parameters to the end.
pub async fn run_action(env: &RunEnv, books: &[Runbook], link: &RunbookLink) -> ActionRun {
    let failed = |run_id: Option<String>, message: String| ActionRun {
        run_id,
        ok: false,
        message,
    };
    let Some(spec) = books.iter().find(|b| b.name == link.name) else {
        return failed(None, format!("no runbook `{}` to run", link.name));
    };
    let opts = RunOptions {
        dry_run: false,
        drill: link.drill,
        step_by_step: false,
    };
    let mut engine = match new_engine(spec, &link.params, opts) {
        Ok(e) => e,
        Err(e) => return failed(None, format!("runbook `{}`: {e}", link.name)),
    };
    let problems = engine.param_errors();
    if !problems.is_empty() {
        return failed(
            None,
            format!("runbook `{}`: {}", link.name, problems.join("; ")),
        );
    }
    let run_id = engine.state.run_id.clone();
    let keeper = super::lease_keeper::keep(env.store.clone(), run_id.clone(), false, None);
    // The printed progress is not wanted here: the run's record and audit keep it.
    let mut sink = std::io::sink();
    drive_headless(env, &mut engine, &None, &mut sink).await;
    keeper.abort();
    let ok = engine.state.status == RunStatus::Succeeded;
    let message = if ok {
        // The last step's message says what was done (`deleted AKIA… of ci-cd-user`).
        engine
            .state
            .steps
            .iter()
            .rev()
            .find(|s| !s.message.is_empty())
            .map(|s| clean_lines(&s.message))
            .unwrap_or_else(|| "succeeded".into())
    } else {
        engine
            .state
            .failure
            .as_deref()
            .map(clean_lines)
            .unwrap_or_else(|| engine.state.status.as_str().to_string())
    };
    ActionRun {
        run_id: Some(run_id),
        ok,
        message: message.lines().next().unwrap_or_default().to_string(),
    }
}
