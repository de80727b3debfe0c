//! Rotations that really rotate: renew-certificate against a local TLS listener whose
//! certificate the test swaps (what the server SERVES, by SNI), rotate-logs with real
//! logrotate and toban's own rotation (mode and owner kept, "written again" meaning new
//! bytes), rotate-db-password on a real PostgreSQL (the secret file keeps its owner; a write
//! that fails after ALTER USER puts the old password back), and a run's secrets, whose files
//! live only as long as the run.

#[path = "runbook_common.rs"]
mod common;
mod support;
#[path = "support/tls_swap.rs"]
mod tls;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use common::*;
use toban::runbook::engine::{EngineEffect, Event, RunOptions, RunStatus};
use toban::runbook::runner::{self, HeadlessOpts};

const NAME: &str = "app.example.test";

async fn headless(t: &TestEnv, spec: &str, kv: &[(&str, &str)]) -> (i32, String) {
    let mut out = Vec::new();
    let code = runner::run_headless(
        &t.env,
        &shipped(spec),
        &params(kv),
        &HeadlessOpts::default(),
        &mut out,
    )
    .await;
    (code, String::from_utf8(out).unwrap())
}

async fn last_run_audit(t: &TestEnv) -> String {
    let runs = t.env.store.run_history(1).await.unwrap();
    let audit = t.env.store.run_audit(&runs[0].run_id).await.unwrap();
    serde_json::to_string_pretty(&audit).unwrap()
}

#[tokio::test]
async fn renew_certificate_passes_only_when_the_served_expiry_moves_forward() {
    let t = sqlite_env().await;
    let dir = t.path("tls");
    std::fs::create_dir_all(&dir).unwrap();
    let server = tls::Server::start(&dir, NAME);
    let port = server.port.to_string();
    let day = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%d").to_string();

    // Renewed on disk, but the server is never reloaded: it still serves the old one.
    let (code, text) = headless(
        &t,
        "renew-certificate",
        &[
            ("cert_name", "app"),
            ("host", "127.0.0.1"),
            ("port", &port),
            ("server_name", NAME),
            ("renew", &server.renew_cmd()),
            ("reload", ""),
        ],
    )
    .await;
    assert_eq!(code, runner::EXIT_FAILED, "{text}");
    assert!(
        text.contains("not installed or the server not reloaded"),
        "{text}"
    );
    assert!(text.contains(&day(server.served_before)), "{text}");
    // The SNI name chose the certificate: the other name's 400-day one never showed.
    assert!(!text.contains(&day(server.other)), "{text}");

    // Put the old one back, then renew and reload: the served expiry moved forward.
    std::fs::copy(dir.join("cert.pem"), dir.join("next-cert.pem")).unwrap();
    let (next_cert, next_key, next) = tls::make(NAME, 90);
    std::fs::write(dir.join("next-cert.pem"), next_cert).unwrap();
    std::fs::write(dir.join("next-key.pem"), next_key).unwrap();
    let (cert, key, before) = tls::make(NAME, 10);
    std::fs::write(dir.join("cert.pem"), cert).unwrap();
    std::fs::write(dir.join("key.pem"), key).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(dir.join("reloaded"), "x").unwrap();
    let (code, text) = headless(
        &t,
        "renew-certificate",
        &[
            ("cert_name", "app"),
            ("host", "127.0.0.1"),
            ("port", &port),
            ("server_name", NAME),
            ("cert_file", dir.join("cert.pem").to_str().unwrap()),
            ("renew", &server.renew_cmd()),
            ("reload", &server.reload_cmd()),
        ],
    )
    .await;
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("later than before"), "{text}");
    assert!(text.contains(&day(next)), "{text}");
    assert!(text.contains(&day(before)), "{text}");
    let audit = last_run_audit(&t).await;
    assert!(
        audit.contains(&format!("127.0.0.1:{port} (SNI {NAME}) serves")),
        "{audit}"
    );

    // Nothing listens: the first check fails at once, saying where it looked.
    let (code, text) = headless(
        &t,
        "renew-certificate",
        &[
            ("cert_name", "app"),
            ("host", "127.0.0.1"),
            ("port", "1"),
            ("renew", "true"),
        ],
    )
    .await;
    assert_eq!(code, runner::EXIT_FAILED, "{text}");
    assert!(text.contains("127.0.0.1:1"), "{text}");
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn owner(p: &Path) -> (u32, u32) {
    let m = std::fs::metadata(p).unwrap();
    (m.uid(), m.gid())
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

/// Writes a line to `log` once it has been emptied by a rotation.
fn write_after_rotation(log: &Path) -> std::thread::JoinHandle<bool> {
    let log = log.to_path_buf();
    std::thread::spawn(move || {
        for _ in 0..300 {
            std::thread::sleep(Duration::from_millis(100));
            if std::fs::metadata(&log)
                .map(|m| m.len() == 0)
                .unwrap_or(false)
            {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
                writeln!(f, "new line after rotation").unwrap();
                return true;
            }
        }
        false
    })
}

#[tokio::test]
async fn toban_s_own_rotation_keeps_the_logs_mode_and_owner() {
    let t = sqlite_env().await;
    let log = t.path("app.log");
    std::fs::write(&log, "old line\n".repeat(100)).unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o640)).unwrap();
    if is_root() {
        std::os::unix::fs::chown(&log, Some(4242), Some(4343)).unwrap();
    }
    let before = owner(&log);
    let writer = write_after_rotation(&log);
    let log_s = log.to_str().unwrap();
    let (code, text) = headless(
        &t,
        "rotate-logs",
        &[("files", log_s), ("check_file", log_s)],
    )
    .await;
    assert!(writer.join().unwrap());
    assert_eq!(code, 0, "{text}");
    let gz: Vec<_> = std::fs::read_dir(t.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".gz"))
        .collect();
    assert_eq!(gz.len(), 1);
    assert_eq!(mode(&gz[0]), 0o640, "the copy is as private as the log");
    assert_eq!(
        owner(&gz[0]),
        before,
        "the copy keeps the log's owner and group"
    );
    assert!(text.contains("after the rotation began"), "{text}");
}

#[tokio::test]
async fn rotate_logs_with_logrotate_waits_for_bytes_written_after_the_rotation() {
    if let Err(e) = std::process::Command::new("logrotate")
        .arg("--version")
        .output()
    {
        support::service_unavailable("logrotate", &format!("cannot run logrotate: {e}"));
        return;
    }
    let t = sqlite_env().await;
    let log = t.path("app.log");
    std::fs::write(&log, "old line\n".repeat(100)).unwrap();
    let conf = t.path("logrotate.conf");
    std::fs::write(
        &conf,
        format!(
            "{} {{\n  rotate 3\n  compress\n  copytruncate\n  missingok\n}}\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o644)).unwrap();
    let writer = write_after_rotation(&log);
    let log_s = log.to_str().unwrap();
    let (code, text) = headless(
        &t,
        "rotate-logs",
        &[
            ("logrotate_config", conf.to_str().unwrap()),
            ("files", log_s),
            ("check_file", log_s),
        ],
    )
    .await;
    assert!(writer.join().unwrap());
    assert_eq!(code, 0, "{text}");
    assert!(t.path("app.log.1.gz").exists(), "{text}");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "new line after rotation\n"
    );
}

/// "Written again" is new bytes, not a file that is merely not empty: a log full of old
/// lines nobody writes to after the rotation step keeps the wait waiting, a line appended
/// ends it.
#[tokio::test]
async fn a_full_log_nobody_writes_to_is_not_written_again() {
    let t = sqlite_env().await;
    let log = t.path("app.log");
    std::fs::write(&log, "old line\n".repeat(100)).unwrap();
    let spec = toban::runbook::spec::parse(
        Path::new("inline.toml"),
        &format!(
            "name = \"w\"\ntitle = \"T\"\nkind = \"maintenance\"\n\n\
             [[step]]\nid = \"rotate\"\nkind = \"command\"\nargv = [\"true\"]\n\n\
             [[step]]\nid = \"written\"\nkind = \"wait\"\nwritten = \"{}\"\ntimeout = \"3s\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let mut e = runner::new_engine(&spec, &params(&[]), RunOptions::default()).unwrap();
    let d = drive(&t.env, &mut e, vec![], true).await;
    assert_eq!(d.status, Some(RunStatus::Failed));
    let msg = &e.state.steps[1].message;
    assert!(msg.contains("not written to after the rotation"), "{msg}");

    let appender = {
        let log = log.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
            writeln!(f, "fresh").unwrap();
        })
    };
    let mut e = runner::new_engine(&spec, &params(&[]), RunOptions::default()).unwrap();
    let d = drive(&t.env, &mut e, vec![], true).await;
    appender.join().unwrap();
    assert_eq!(
        d.status,
        Some(RunStatus::Succeeded),
        "{:?}",
        e.state.steps[1]
    );
}

// ---- a run's secrets -------------------------------------------------------------------

fn secret_runbook() -> toban::runbook::spec::Runbook {
    toban::runbook::spec::parse(
        Path::new("inline.toml"),
        "name = \"s\"\ntitle = \"T\"\nkind = \"rotation\"\n\n\
         [[step]]\nid = \"gen\"\nkind = \"generate_secret\"\n\n\
         [[step]]\nid = \"pause\"\nkind = \"confirm\"\nprompt = \"go on?\"\n",
    )
    .unwrap()
}

/// Starts a run that generated a secret and waits at its confirmation.
async fn run_with_a_secret(t: &TestEnv) -> (toban::runbook::engine::Engine, String) {
    let spec = secret_runbook();
    let mut e = runner::new_engine(&spec, &params(&[]), RunOptions::default()).unwrap();
    let d = drive(&t.env, &mut e, vec![], true).await;
    assert_eq!(d.executed, ["gen"]);
    let secret = e.state.secrets["gen"].clone();
    (e, secret)
}

fn kept_files(t: &TestEnv, run_id: &str) -> Vec<String> {
    let dir = runner::secrets_dir(&t.env, run_id);
    match std::fs::read_dir(&dir) {
        Ok(r) => r
            .flatten()
            .map(|f| std::fs::read_to_string(f.path()).unwrap())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test]
async fn a_secret_made_again_replaces_the_kept_one_and_never_reaches_store_or_debug() {
    let t = sqlite_env().await;
    let (mut e, first) = run_with_a_secret(&t).await;
    let run_id = e.state.run_id.clone();
    assert_eq!(kept_files(&t, &run_id), vec![first.clone()]);
    let dir = runner::secrets_dir(&t.env, &run_id);
    assert_eq!(mode(&dir), 0o700);
    for f in std::fs::read_dir(&dir).unwrap().flatten() {
        assert_eq!(mode(&f.path()), 0o600);
    }
    // Generated again (a rerun): the file holds the new value, not the old one.
    e.state
        .secrets
        .insert("gen".into(), "second-secret-value-0123456789".into());
    runner::record(&t.env, &e.state, &EngineEffect::Persist)
        .await
        .unwrap();
    assert_eq!(kept_files(&t, &run_id), ["second-secret-value-0123456789"]);
    // Nowhere else: not the saved state, not the audit, not a debug print of the run.
    let saved: (String,) = sqlx::query_as("SELECT state_json FROM runbook_runs WHERE run_id = $1")
        .bind(&run_id)
        .fetch_one(t.env.store.pool())
        .await
        .unwrap();
    let audit = serde_json::to_string(&t.env.store.run_audit(&run_id).await.unwrap()).unwrap();
    let debug = format!("{:?} {:#?}", e.state, e);
    for text in [&saved.0, &audit, &debug] {
        assert!(
            !text.contains(&first) && !text.contains("second-secret-value"),
            "{text}"
        );
    }
    // The screen says where it is kept.
    assert!(
        e.state.outputs["gen"].contains(dir.to_str().unwrap()),
        "{:?}",
        e.state.outputs
    );
}

#[tokio::test]
async fn a_runs_secrets_go_when_it_finishes() {
    let t = sqlite_env().await;
    let (mut e, _) = run_with_a_secret(&t).await;
    let run_id = e.state.run_id.clone();
    let d = drive(&t.env, &mut e, vec![Event::Confirm(true)], false).await;
    assert_eq!(d.status, Some(RunStatus::Succeeded));
    assert!(!runner::secrets_dir(&t.env, &run_id).exists());
    assert!(kept_files(&t, &run_id).is_empty());
}

#[tokio::test]
async fn a_runs_secrets_go_when_it_is_aborted_from_the_command_line() {
    let t = sqlite_env().await;
    let (e, _) = run_with_a_secret(&t).await;
    let run_id = e.state.run_id.clone();
    let spec = e.spec.clone();
    drop(e);
    assert!(runner::secrets_dir(&t.env, &run_id).exists());
    let mut out = Vec::new();
    let code = toban::runbook::cli::abort(&mut out, &t.env, &[spec], &run_id, Some("test")).await;
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&out));
    assert!(!runner::secrets_dir(&t.env, &run_id).exists());
}

#[tokio::test]
async fn an_abandoned_runs_secrets_are_swept_and_a_live_ones_kept() {
    let t = sqlite_env().await;
    let (abandoned, _) = run_with_a_secret(&t).await;
    let (resumable, _) = run_with_a_secret(&t).await;
    let (ended, _) = run_with_a_secret(&t).await;
    let now = chrono::Utc::now().timestamp_millis();
    let held_elsewhere = |run_id: String, heartbeat_ms: i64| {
        let pool = t.env.store.pool().clone();
        async move {
            sqlx::query(
                "UPDATE runbook_runs SET lease_host = 'another-host', lease_pid = 1, \
                 lease_session_ms = 1, lease_user = 'someone', lease_heartbeat_ms = $2 \
                 WHERE run_id = $1",
            )
            .bind(run_id)
            .bind(heartbeat_ms)
            .execute(&pool)
            .await
            .unwrap();
        }
    };
    // Held by a session on another host that stopped renewing a day and a bit ago.
    let id = &abandoned.state.run_id;
    held_elsewhere(id.clone(), now - runner::ABANDONED_AFTER_MS - 60_000).await;
    // Lapsed an hour ago: may still be resumed, its secrets stay.
    let rid = &resumable.state.run_id;
    held_elsewhere(rid.clone(), now - 3_600_000).await;
    // Ended, but toban died before its last save removed the files: the sweep does it.
    let eid = ended.state.run_id.clone();
    let mut finished = ended.state.clone();
    finished.status = RunStatus::Aborted;
    finished.finished_ms = Some(now);
    t.env
        .store
        .save_run(&finished, chrono::Utc::now())
        .await
        .unwrap();
    let kept_dir = runner::secrets_dir(&t.env, &eid);
    std::fs::create_dir_all(&kept_dir).unwrap();
    std::fs::write(kept_dir.join("67656e"), "left-behind").unwrap();

    let swept = runner::sweep_secrets(&t.env).await;
    assert!(!runner::secrets_dir(&t.env, id).exists(), "{swept:?}");
    assert!(!kept_dir.exists(), "{swept:?}");
    assert!(runner::secrets_dir(&t.env, rid).exists(), "{swept:?}");
    assert_eq!(swept.len(), 2, "{swept:?}");
    assert!(swept
        .iter()
        .any(|l| l.contains(id) && l.contains("abandoned")));
    assert!(swept.iter().all(|l| !l.contains("left-behind")));
}
