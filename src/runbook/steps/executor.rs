//! The executor the runner hands rendered steps to: every kind runs through
//! [`SupervisedExecutor`] (commands under a supervisor that outlives toban), in production
//! and in the tests alike.
//!
//! It is also the safety net behind each kind's own cancel: a step that has not ended
//! [`STOP_GRACE`] after the operator's cancel or its time limit is dropped and reported as
//! stopped, so no step can hold a run for good.

use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::context::{ExecContext, StepContext};
use super::outcome::{Outcome, Reattach, Rendered, StepOutcome};

/// How long a step may take to stop after its cancel or time limit before it is dropped.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

pub struct ExecRequest {
    pub ctx: ExecContext,
    pub step: Rendered,
    /// Output lines as they come, for the wizard's pane (bounded).
    pub lines: Option<mpsc::Sender<String>>,
    pub cancel: CancellationToken,
}

pub trait StepExecutor: Send + Sync {
    fn execute(&self, req: ExecRequest) -> BoxFuture<'static, StepOutcome>;
    /// What became of a step found running after a restart.
    fn reattach(&self, ctx: &ExecContext, step_id: &str) -> BoxFuture<'static, Reattach>;
}

/// Runs every step kind; command steps run under `runbook::exec`'s supervisor, a process of
/// its own that outlives toban, enforces the time limit even when toban is gone and writes
/// the exit status, so a resumed run learns how the command really ended. Needs toban's
/// `__supervise` subcommand wired (see `exec::supervise_main`).
#[derive(Debug, Clone, Default)]
pub struct SupervisedExecutor;

impl StepExecutor for SupervisedExecutor {
    fn execute(&self, req: ExecRequest) -> BoxFuture<'static, StepOutcome> {
        Box::pin(run(req))
    }

    fn reattach(&self, ctx: &ExecContext, step_id: &str) -> BoxFuture<'static, Reattach> {
        let dir = ctx.step_dir(step_id);
        Box::pin(async move { super::command::reattach(&dir) })
    }
}

async fn run(req: ExecRequest) -> StepOutcome {
    let started = Instant::now();
    let i = req.step.step;
    let cx = StepContext {
        exec: req.ctx,
        step_id: req.step.id.clone(),
        cancel: req.cancel.clone(),
        time_limit: req.step.action.time_limit(),
        started,
        since: req
            .step
            .since_ms
            .and_then(chrono::DateTime::from_timestamp_millis),
        lines: req.lines,
        drill: req.step.drill,
    };
    let limit = cx.time_limit;
    let work = req.step.action.execute(cx);
    let cancel = req.cancel;
    let outcome = tokio::select! {
        o = work => o,
        _ = async {
            cancel.cancelled().await;
            tokio::time::sleep(STOP_GRACE).await;
        } => Outcome {
            cancelled: true,
            ..Outcome::fail(format!(
                "interrupted by the operator; the step did not stop within {}s and was abandoned",
                STOP_GRACE.as_secs()
            ))
        },
        _ = tokio::time::sleep_until(started + limit + STOP_GRACE) => Outcome::fail(format!(
            "stopped at its time limit of {}; the step did not stop by itself and was abandoned",
            humantime::format_duration(limit)
        )),
    };
    StepOutcome::from_outcome(i, outcome, started.elapsed())
}
