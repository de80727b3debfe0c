//! The wizard's driver: one task per run takes [`Job`]s from the UI and answers with
//! [`RunnerMsg`]s. A step's output goes to the screen through bounded channels, so when the
//! screen falls behind, the reader of the command's output waits instead of memory growing.

use std::collections::HashMap;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{engine_jobs, perform_step, reattach_events, record, RunEnv};
use crate::runbook::engine::{Engine, EngineEffect, Event, Rendered, RunState};

/// Output lines of one step waiting for the screen.
const LINES_QUEUE: usize = 256;

/// Work the wizard hands to its run's task.
#[derive(Debug, Clone)]
pub enum Job {
    /// Persist / Audit / RecordDrill (with the state as it was when asked).
    Record(Box<RunState>, EngineEffect),
    Execute(Box<RunState>, Rendered),
    Interrupt {
        step: usize,
    },
    /// Ask what became of the interrupted steps of a resumed run.
    Reattach(Box<Engine>),
    /// Hold the run's lease while this session drives it (renewed every few seconds);
    /// `take_over`: the operator typed the confirmation to take a lapsed lease.
    Hold {
        run_id: String,
        take_over: bool,
    },
}

/// What the run's task tells the wizard.
#[derive(Debug, Clone, PartialEq)]
pub enum RunnerMsg {
    /// Feed this to the engine.
    Event(Event),
    Output {
        step: usize,
        line: String,
    },
    /// The store failed: show it (the run itself goes on).
    Error(String),
}

/// One run's task: jobs in, [`RunnerMsg`]s out. Records are written in order, before a
/// step that follows them starts; steps run concurrently with further jobs so a cancel can
/// reach them.
#[derive(Clone)]
pub struct RunnerHandle {
    tx: mpsc::UnboundedSender<Job>,
}

impl RunnerHandle {
    /// `msgs` is bounded: when the wizard does not keep up, output waits in the step.
    pub fn spawn(env: RunEnv, msgs: mpsc::Sender<RunnerMsg>) -> RunnerHandle {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(async move {
            let mut running: HashMap<usize, CancellationToken> = HashMap::new();
            let mut held: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
            while let Some(job) = rx.recv().await {
                match job {
                    Job::Record(state, effect) => {
                        if let Err(e) = record(&env, &state, &effect).await {
                            let _ = msgs.send(RunnerMsg::Error(e)).await;
                        }
                    }
                    Job::Execute(state, r) => {
                        let token = CancellationToken::new();
                        running.retain(|_, t| !t.is_cancelled());
                        running.insert(r.step, token.clone());
                        let (env, msgs) = (env.clone(), msgs.clone());
                        tokio::spawn(async move {
                            let (ltx, mut lrx) = mpsc::channel::<String>(LINES_QUEUE);
                            let step = r.step;
                            let fwd = {
                                let msgs = msgs.clone();
                                tokio::spawn(async move {
                                    while let Some(line) = lrx.recv().await {
                                        let out = RunnerMsg::Output { step, line };
                                        if msgs.send(out).await.is_err() {
                                            break;
                                        }
                                    }
                                })
                            };
                            let o = perform_step(&env, &state, r, Some(ltx), token).await;
                            let _ = fwd.await;
                            let _ = msgs.send(RunnerMsg::Event(Event::StepFinished(o))).await;
                        });
                    }
                    Job::Interrupt { step } => {
                        if let Some(t) = running.remove(&step) {
                            t.cancel();
                        }
                    }
                    Job::Hold { run_id, take_over } => {
                        held.retain(|_, h| !h.is_finished());
                        if let Some(old) = held.remove(&run_id) {
                            old.abort();
                        }
                        let keeper = super::lease_keeper::keep(
                            env.store.clone(),
                            run_id.clone(),
                            take_over,
                            Some(msgs.clone()),
                        );
                        held.insert(run_id, keeper);
                    }
                    Job::Reattach(engine) => {
                        for ev in reattach_events(&env, &engine).await {
                            let _ = msgs.send(RunnerMsg::Event(ev)).await;
                        }
                    }
                }
            }
        });
        RunnerHandle { tx }
    }

    pub fn submit(&self, job: Job) {
        let _ = self.tx.send(job);
    }

    /// Turns the engine's effects into jobs, in order. Returns the effects meant for the
    /// screen (notices, finished).
    pub fn submit_effects(&self, engine: &Engine, effects: Vec<EngineEffect>) -> Vec<EngineEffect> {
        let (jobs, rest) = engine_jobs(engine, effects);
        for j in jobs {
            self.submit(j);
        }
        rest
    }
}
