//! Step executors: real actions with typed requests and outcomes, called by the runbook
//! runner. Nothing here knows about the engine's state machine or the wizard.
//!
//! - [`command`]: argv commands under a supervisor process that outlives toban, output to
//!   `<run_dir>/output.log`, reattach after a crash; [`supervise`] is that supervisor,
//!   [`run_dir`] the files they share, [`output`] what a command produced.
//! - [`sql`]: statements over sqlx's Any driver (PostgreSQL, SQLite), login checks, a safe
//!   `ALTER USER … WITH PASSWORD` ([`scram`] verifier, [`sql_quote`] quoting), each with a
//!   time limit and a cancel that reaches the server.
//! - [`process_group`]: stopping a command and everything it started.
//! - [`wait`]: wait until an HTTP endpoint, TCP port, file or container is ready.

pub mod command;
pub mod dump_scan;
mod feed;
pub mod output;
pub mod process_group;
pub mod run_dir;
pub mod scram;
pub mod sql;
pub mod sql_quote;
mod sql_session;
pub mod supervise;
pub mod wait;

pub use command::{
    reattach, set_supervisor, spawn_command, CancelHandle, CommandRequest, ExecError, Reattached,
    RunningCommand, SecretBytes, SqlScan, StdinSource, Supervisor,
};
pub use dump_scan::{DumpReport, DumpScan, TableRows};
pub use output::{read_command_output, CommandOutcome, TAIL_LINES};
pub use run_dir::DUMP_SCAN_FILE;
pub use sql::{
    alter_user_password, alter_user_password_sql, check_login, redact_url, run_sql, run_statements,
    set_password, try_login, ExpectRows, Limits, SqlError, SqlOutcome, SqlRequest,
};
pub use sql_quote::{quote_pg_ident, quote_pg_literal};
pub use supervise::{supervise_main, SUPERVISE_SUBCOMMAND};
pub use wait::{wait_until, WaitCheck, WaitOutcome};
