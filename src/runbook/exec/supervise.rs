//! The supervisor: a separate process (toban re-executed as `toban __supervise --run-dir
//! DIR`) that starts the command, feeds its stdin, enforces the timeout and writes
//! `status.json`, so the exit status is known even if toban's main process died.
//!
//! It runs in its own session (no controlling terminal: a hang-up does not reach it) and
//! never touches a terminal. The command's argv, cwd, stdin source and timeout come from
//! `<run_dir>/spec.json`; its environment is the supervisor's own (secrets are never
//! written to disk); `Bytes` stdin arrives on the supervisor's stdin.

/// The hidden subcommand toban's `main` dispatches to [`supervise_main`].
pub const SUPERVISE_SUBCOMMAND: &str = "__supervise";

/// Entry point of `toban __supervise …`: `args` are the arguments after the subcommand
/// (`--run-dir DIR`). Returns the process exit code (0 when the status was written,
/// whatever the command's own exit code).
pub fn supervise_main(args: &[String]) -> i32 {
    let _ = args;
    unimplemented!()
}
