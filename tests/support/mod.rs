//! Helpers shared by the integration tests: `mod support;` at the top of a test file.
//!
//! Tests that need a real service (PostgreSQL, Docker, moto, tmux, openssl) skip on a laptop
//! without it, but fail when `CI` or `TOBAN_REQUIRE_SERVICES` is set, so CI never passes by
//! skipping. Every skip is recorded, and the last test target of `cargo test`
//! (`tests/zz_skip_summary.rs`) lists them.
#![allow(dead_code)]

pub mod cloudwatch;
pub mod engine;
pub mod moto;
pub mod podman;
pub mod postgres;
pub mod prometheus;
pub mod skips;
pub mod stores;
pub mod tmux;

/// Runs each listed `async fn name(db: support::stores::TestDb)` once per backend, as the
/// tests `name::sqlite` and `name::postgres` (the latter skips, or fails under CI, when
/// PostgreSQL is unavailable). Invoke as `crate::on_both_backends!(a, b, c);`.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test]
            async fn sqlite() {
                super::$test($crate::support::stores::sqlite_db().await).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(db) = $crate::support::stores::postgres_db().await {
                    super::$test(db).await;
                }
            }
        }
    )*};
}

/// True when missing services must fail tests instead of skipping them: `CI` or
/// `TOBAN_REQUIRE_SERVICES` set to anything but empty, `0` or `false`.
pub fn require_services() -> bool {
    ["CI", "TOBAN_REQUIRE_SERVICES"].iter().any(|k| {
        std::env::var(k)
            .map(|v| {
                let v = v.trim();
                !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false")
            })
            .unwrap_or(false)
    })
}

/// Reports a missing service: panics with `why` when services are required, else records
/// the skip for the summary at the end of `cargo test` so the caller can return early.
pub fn service_unavailable(service: &str, why: &str) {
    if require_services() {
        panic!(
            "{service} is required (CI or TOBAN_REQUIRE_SERVICES is set) but unavailable: {why}"
        );
    }
    skipped(service, &format!("unavailable: {why}"));
}

/// Records that this test did not run its checks (a service is there but cannot be used
/// for them, e.g. a PostgreSQL that accepts any password) and prints a note (visible with
/// `--nocapture`). Not a failure, even under CI.
pub fn skipped(what: &str, why: &str) {
    skips::record(what, why);
    eprintln!("skipping: {what} {why}");
}

/// The toban binary the end-to-end tests drive: `TOBAN_E2E_BIN` when set (`.ci/run` builds
/// the release binary and names it there), else the debug binary `cargo test` built.
pub fn toban_bin() -> std::path::PathBuf {
    match std::env::var_os("TOBAN_E2E_BIN").filter(|v| !v.is_empty()) {
        Some(bin) => {
            let bin = std::path::PathBuf::from(bin);
            assert!(
                bin.is_file(),
                "TOBAN_E2E_BIN={} is not a file (build it: cargo build --release)",
                bin.display()
            );
            bin
        }
        None => env!("CARGO_BIN_EXE_toban").into(),
    }
}

/// What `toban services --json` printed, as JSON; a panic showing both streams when it is
/// not.
pub fn services_report(out: &std::process::Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr)))
}

/// `toban services --json` as a script runs it, with `config` as its config.toml in a fresh
/// HOME: the report and the exit code.
pub fn toban_services_json(config: &str) -> (serde_json::Value, Option<i32>) {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_toban"))
        .arg("--config")
        .arg(&path)
        .args(["services", "--json"])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .output()
        .unwrap();
    (services_report(&out), out.status.code())
}

/// The container `name` of a `toban services --json` report.
pub fn report_container<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no container {name} in {v:#}"))
}
