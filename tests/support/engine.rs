//! Helpers for the executor tests: the test binary standing in for toban's supervisor and
//! for a toban that gets killed, and a throw-away image for the container engine tests.

use std::path::PathBuf;

use toban::runbook::exec::supervise::SUPERVISE_DIR_ENV;
use toban::runbook::exec::{set_supervisor, Supervisor};

/// Env var that makes [`spawner_hook!`]'s test act as a toban that starts a command.
pub const SPAWNER_DIR_ENV: &str = "TOBAN_TEST_SPAWNER_DIR";
/// JSON argv for the spawner.
pub const SPAWNER_ARGV_ENV: &str = "TOBAN_TEST_SPAWNER_ARGV";

/// libtest arguments that run exactly one test of this binary, with nothing captured.
pub fn run_one_test(name: &str) -> Vec<String> {
    [name, "--exact", "--nocapture", "--test-threads=1", "-q"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Makes `spawn_command` start this test binary's `supervisor_hook` test as the
/// supervisor: the same `supervise_main` that `toban __supervise` runs.
pub fn use_test_supervisor() {
    set_supervisor(Supervisor {
        program: std::env::current_exe().expect("test binary path"),
        args: run_one_test("supervisor_hook"),
    });
}

/// When this process was started as a supervisor, become one and exit.
pub fn maybe_supervise() {
    if std::env::var_os(SUPERVISE_DIR_ENV).is_some() {
        std::process::exit(toban::runbook::exec::supervise_main(&[]));
    }
}

/// Defines the `supervisor_hook` test: a no-op in a normal run, the supervisor when
/// started by `spawn_command`.
#[macro_export]
macro_rules! supervisor_hook {
    () => {
        #[test]
        fn supervisor_hook() {
            $crate::support::engine::maybe_supervise();
        }
    };
}

/// A unique path under /tmp that does not exist yet.
pub fn unique_tmp(prefix: &str) -> PathBuf {
    PathBuf::from(format!(
        "/tmp/{prefix}{}_{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ))
}

/// Is `pid` a live process (not absent, not a zombie)?
pub fn process_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s
            .rfind(')')
            .map(|i| !s[i + 2..].starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}
