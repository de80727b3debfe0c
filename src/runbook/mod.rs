//! Runbooks: TOML files of steps that the wizard runs one confirmed step at a time.
//!
//! - [`spec`]: the file format, validation with file/line/field ([`spec::load_all`],
//!   [`spec::check`] for `toban config check`); shipped runbooks are embedded.
//! - [`template`]: `{{params.x}}` and friends; one template is always one argv element.
//! - [`engine`]: the pure run state machine (`Engine::handle(event, now_ms) -> effects`).
//! - [`steps`]: the built-in executors behind the [`steps::StepExecutor`] trait.
//! - [`runner`]: carries out effects — headless ([`runner::run_headless`]) or for the
//!   wizard ([`runner::RunnerHandle`]) — and finds interrupted runs at start
//!   ([`runner::interrupted_runs`]).
//! - [`cli`]: `toban runbook list | show | run | history`.
//!
//! The wizard's state is `crate::runbook::wizard::WizardState`, drawn by
//! `crate::runbook::wizard::view::render`.

pub mod cli;
pub mod config;
pub mod engine;
pub mod exec;
pub mod runner;
pub mod spec;
pub mod steps;
pub mod template;
pub mod wizard;
