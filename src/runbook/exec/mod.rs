//! Step executors: real actions with typed requests and outcomes, called by the runbook
//! runner. Nothing here knows about the engine's state machine or the wizard.
//!
//! - [`command`]: argv commands under a supervisor process that outlives toban, output to
//!   `<run_dir>/output.log`, reattach after a crash.
//! - [`sql`]: statements over sqlx's Any driver (PostgreSQL, SQLite), login checks, a safe
//!   `ALTER USER … WITH PASSWORD`.
//! - [`wait`]: wait until an HTTP endpoint, TCP port, file or container is ready.
//! - [`sanitize`]: strip terminal escape sequences from anything shown.

pub mod command;
pub mod sanitize;
pub mod sql;
pub mod supervise;
pub mod wait;

pub use command::{
    read_command_output, reattach, set_supervisor, spawn_command, CancelHandle, CommandOutcome,
    CommandRequest, ExecError, Reattached, RunningCommand, SecretBytes, StdinSource, Supervisor,
    TAIL_LINES,
};
pub use sanitize::strip_escapes;
pub use sql::{
    alter_user_password, alter_user_password_sql, check_login, quote_pg_literal, redact_url,
    run_sql, ExpectRows, SqlOutcome, SqlRequest,
};
pub use supervise::{supervise_main, SUPERVISE_SUBCOMMAND};
pub use wait::{wait_until, WaitCheck, WaitOutcome};
