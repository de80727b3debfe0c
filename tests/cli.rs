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
const HOST_OK: &str = "[host]\ncpu = { enabled = false }\ndisk = { enabled = false }\nmemory = { warn = 100, crit = 100 }\n";
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

/// A misspelt key in `[host]` must not cost the backup checks or the host thresholds: every
/// check still runs, and the mistake is a WARNING line of its own.
#[test]
fn status_with_a_broken_config_runs_every_check_and_warns_about_the_config() {
    let roots = tempfile::tempdir().unwrap();
    let three_days_ago = chrono::Utc::now() - chrono::Duration::days(3);
    toban::backups::fixture::folder_backup(
        roots.path(),
        "blog",
        "daily",
        three_days_ago,
        true,
        &[("site.tar.gz", b"not really a tarball".as_slice())],
    )
    .unwrap();
    let config = format!(
        "timezone = \"Asia/Tokyo\"\n{HOST_OK}intervall = \"5s\"\n[backups]\nroots = [{:?}]\n[calendar]\npresets = []\n",
        roots.path()
    );
    let (code, out, _) = toban(&config, &["status"]);
    assert_eq!(code, 2, "the stale backup is critical:\n{out}");
    assert!(out.starts_with("TOBAN CRITICAL"), "{out}");
    let line = |key: &str| {
        out.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(key))
    };
    let config_line = line("config").unwrap_or_else(|| panic!("no config line:\n{out}"));
    assert!(config_line.starts_with("WARNING"), "{out}");
    assert!(
        config_line.contains("config.toml:6:1: `host.intervall`: unknown key"),
        "{out}"
    );
    assert!(config_line.contains("did you mean `interval`?"), "{out}");
    // The host section's other settings were kept: memory is judged against 100 %.
    assert!(line("host.memory").unwrap().starts_with("OK"), "{out}");
    assert!(line("host.cpu").unwrap().contains("not checked"), "{out}");
    let blog = line("backup.rpo:blog").unwrap_or_else(|| panic!("no backup check:\n{out}"));
    assert!(blog.starts_with("CRITICAL"), "{out}");
    // Times are shown in the configured zone, named.
    assert!(out.lines().last().unwrap().starts_with("checked "), "{out}");
    assert!(out.trim_end().ends_with(" JST"), "{out}");

    // Nothing else wrong: the config problem alone makes it a WARNING (exit 1), not OK.
    let (code, out, _) = toban(&format!("{OK}intervall = \"5s\"\n"), &["status"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("TOBAN WARNING - "), "{out}");
    assert!(out.contains("intervall"), "{out}");
}

#[test]
fn config_check_lists_every_problem() {
    let (code, _, err) = toban(
        "thme = \"nord\"\n[host]\nintervall = \"5s\"\n[backups]\nrpo = 3\n",
        &["config", "check"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("config.toml:1:1: `thme`"), "{err}");
    assert!(err.contains("config.toml:3:1: `host.intervall`"), "{err}");
    assert!(err.contains("config.toml:5:7: `backups.rpo`"), "{err}");
    assert!(err.contains("3 problem(s)"), "{err}");
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

/// Every theme and keymap file in the repository is embedded, and `--help` names them all.
#[test]
fn help_lists_every_shipped_theme_and_keymap() {
    let out = Command::new(env!("CARGO_BIN_EXE_toban"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    for (folder, shipped) in [
        ("themes", toban::config::theme::SHIPPED),
        ("keymaps", toban::config::keymap::SHIPPED),
    ] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut embedded: Vec<String> = shipped.iter().map(|(n, _)| n.to_string()).collect();
        embedded.sort();
        assert_eq!(embedded, files, "{folder}/*.toml and SHIPPED differ");
        let line = help
            .lines()
            .find(|l| l.contains(&format!("--{}", folder.trim_end_matches('s'))))
            .unwrap();
        for name in &files {
            assert!(line.contains(name), "--help lacks {name}: {line}");
        }
    }
    assert!(help.contains("nord"), "{help}");
}
