//! The headless commands as cron and monitors use them: exit codes and messages.

use std::process::Command;

fn toban(config: &str, args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_toban"))
        .arg("--config")
        .arg(&path)
        .args(args)
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("c"))
        .env("XDG_DATA_HOME", dir.path().join("d"))
        .env("XDG_STATE_HOME", dir.path().join("s"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// Thresholds are chosen so the result does not depend on this machine's load: CPU and
// disks are not checked, memory use is always above 0 % and below 100 %; and not on the
// time of day: no calendar duties.
const OK: &str = "[host]\ncpu = { enabled = false }\ndisk = { enabled = false }\nmemory = { warn = 100, crit = 100 }\n[calendar]\npresets = []\n";
const WARNING: &str = "[host]\ncpu = { enabled = false }\ndisk = { enabled = false }\nmemory = { warn = 0, crit = 100 }\n[calendar]\npresets = []\n";
const CRITICAL: &str = "[host]\ncpu = { enabled = false }\ndisk = { enabled = false }\nmemory = { warn = 0, crit = 0 }\n[calendar]\npresets = []\n";

#[test]
fn status_exit_codes_follow_the_monitoring_plugin_convention() {
    let (code, out, _) = toban(OK, &["status"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("TOBAN OK"), "{out}");

    let (code, out, _) = toban(WARNING, &["status"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("TOBAN WARNING - Memory"), "{out}");

    let (code, out, _) = toban(CRITICAL, &["status"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.starts_with("TOBAN CRITICAL"), "{out}");
}

#[test]
fn status_json_is_machine_readable() {
    let (code, out, _) = toban(CRITICAL, &["status", "--json"]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "critical");
    assert_eq!(v["exit_code"], 2);
    let mem = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "host.memory")
        .unwrap();
    assert_eq!(mem["severity"], "critical");
    assert!(mem["value"].as_f64().unwrap() > 0.0);
}

#[test]
fn config_check_names_file_line_and_field() {
    let (code, _, err) = toban(
        "[host]\ninterval = \"2s\"\nintervall = \"5s\"\n",
        &["config", "check"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("config.toml:3"), "{err}");
    assert!(err.contains("intervall"), "{err}");
}

#[test]
fn config_check_passes_a_good_file() {
    let (code, out, err) = toban(OK, &["config", "check"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_broken_config_does_not_stop_status() {
    let (code, out, err) = toban("[host\n", &["status"]);
    assert!(err.contains("config.toml:1"), "{err}");
    assert!(
        out.starts_with("TOBAN "),
        "status still runs on defaults: {out}"
    );
    assert!((0..=3).contains(&code));
}

#[test]
fn config_check_reports_bad_backup_policy_with_its_line() {
    let (code, _, err) = toban(
        "[backups]\nroots = [\"/nonexistent\"]\nsuccess_rate = 140\n",
        &["config", "check"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("config.toml:3"), "{err}");
    assert!(err.contains("success_rate"), "{err}");
}

#[test]
fn read_only_refuses_a_real_runbook_run_but_allows_a_dry_run() {
    let (code, _, err) = toban(OK, &["--read-only", "runbook", "run", "rotate-logs"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("read-only"), "{err}");
    let (code, out, err) = toban(
        OK,
        &[
            "--read-only",
            "runbook",
            "run",
            "rotate-logs",
            "--dry-run",
            "--set",
            "files=/tmp/x.log",
        ],
    );
    assert_ne!(code, 2, "{out}{err}");
}
