//! Runbooks: TOML files of steps that the wizard runs one confirmed step at a time.
//!
//! - [`spec`]: the file format, validation with file/line/field ([`spec::load_all`],
//!   [`spec::check`] for `toban config check`); shipped runbooks are embedded.
//! - [`steps`]: the step kinds, one file each behind the [`steps::StepKind`] trait, and
//!   the executor every run uses.
//! - [`template`]: `{{params.x}}` and friends; one template is always one argv element.
//! - [`engine`]: the pure run state machine (`Engine::handle(event, now_ms) -> effects`).
//! - [`runner`]: carries out effects — headless ([`runner::run_headless`]) or for the
//!   wizard ([`runner::RunnerHandle`]) — and finds interrupted runs at start
//!   ([`runner::interrupted_runs`]): a run whose runbook changed since it started (its
//!   spec digest) opens read-only, one another session holds is left alone.
//! - [`lease`]: who drives an open run (host, pid, session, heartbeat) and taking over a
//!   lapsed one.
//! - [`exec`]: the machinery under the kinds: supervised commands, SQL, waits.
//! - [`store`]: runs, the audit log, drills and follow-ups in toban's store.
//! - [`cli`]: `toban runbook list | show | run | history | resume | abort`.
//!
//! Imports go one way: `spec` and `engine` use `steps`, `steps` uses `exec`, `template`
//! and the store; nothing below imports what is above it.
//!
//! The wizard's state is `crate::runbook::wizard::WizardState`, drawn by
//! `crate::runbook::wizard::view::render`; the console opens it and feeds it.

pub mod cli;
pub mod engine;
pub mod exec;
pub mod lease;
pub mod runner;
pub mod spec;
pub mod steps;
pub mod store;
pub mod template;
pub mod wizard;
