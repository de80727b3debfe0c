//! The gate before a restore is the backup catalog's verifier: a backup with a missing
//! file, a file of the wrong size, a file that is a symlink leading out of the backup, or a
//! manifest saying the job failed is refused by the restore runbooks exactly as
//! `toban backups verify` refuses it — the same verdict, the same words — and nothing is
//! restored.

#[path = "runbook_common.rs"]
mod common;

use std::path::{Path, PathBuf};

use common::*;
use toban::backups::cli::verify_command;
use toban::backups::config::BackupsConfig;
use toban::runbook::runner::{self, HeadlessOpts};

const MAIL: &[u8] = b"Subject: hello\r\n\r\nbody\n";

struct Setup {
    t: TestEnv,
    root: PathBuf,
    backup: PathBuf,
    target: PathBuf,
}

async fn setup() -> Setup {
    let t = sqlite_env().await;
    let root = t.path("backups");
    let backup = root.join("mailserver/daily/2026-11-20");
    make_backup(
        &backup,
        &[
            ("mail", &[("cur/1.eml", MAIL)]),
            ("config", &[("main.cf", b"myhostname = mx\n")]),
        ],
    );
    let target = t.path("restore-target");
    std::fs::create_dir_all(&target).unwrap();
    Setup {
        t,
        root,
        backup,
        target,
    }
}

/// What `toban backups verify --json` says of the one backup under `root`.
async fn cli_verdict(root: &Path) -> (i32, bool, String) {
    let cfg = BackupsConfig {
        roots: vec![root.to_path_buf()],
        ..Default::default()
    };
    let mut out = Vec::new();
    let code = verify_command(&cfg, &toban::time::Zone::UTC, None, None, true, &mut out)
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let b = &v["backups"][0];
    (
        code,
        b["ok"].as_bool().unwrap(),
        b["summary"].as_str().unwrap().to_string(),
    )
}

/// restore-files run headless on `backup` (confirmed): its exit code and what it printed.
async fn restore_files(s: &Setup, backup: &Path) -> (i32, String) {
    let target = s.target.to_str().unwrap().to_string();
    let mut out = Vec::new();
    let code = runner::run_headless(
        &s.t.env,
        &shipped("restore-files"),
        &params(&[("backup", backup.to_str().unwrap()), ("target", &target)]),
        &HeadlessOpts {
            yes: Some(target.clone()),
            ..Default::default()
        },
        &mut out,
    )
    .await;
    (code, String::from_utf8(out).unwrap())
}

/// Both refuse, with the same summary, and nothing reached the target.
async fn refused_alike(s: &Setup, defect: &str) {
    let (cli_code, cli_ok, summary) = cli_verdict(&s.root).await;
    assert_eq!(cli_code, 1, "{defect}: toban backups verify passes it");
    assert!(!cli_ok, "{defect}");
    let (code, text) = restore_files(s, &s.backup).await;
    assert_eq!(code, runner::EXIT_FAILED, "{defect}: {text}");
    assert!(
        text.contains(&format!("FAILED: {summary}")),
        "{defect}: the runbook's refusal is not the CLI's `{summary}`:\n{text}"
    );
    assert!(
        text.contains("step `verify` failed"),
        "{defect}: stopped elsewhere:\n{text}"
    );
    assert_eq!(
        std::fs::read_dir(&s.target).unwrap().count(),
        0,
        "{defect}: something was restored"
    );
}

#[tokio::test]
async fn an_intact_backup_passes_both_and_is_restored() {
    let s = setup().await;
    let (code, ok, _) = cli_verdict(&s.root).await;
    assert_eq!((code, ok), (0, true));
    let (code, text) = restore_files(&s, &s.backup).await;
    assert_eq!(code, 0, "{text}");
    assert_eq!(std::fs::read(s.target.join("cur/1.eml")).unwrap(), MAIL);
}

#[tokio::test]
async fn a_missing_file_is_refused() {
    let s = setup().await;
    std::fs::remove_file(s.backup.join("config.tar.gz")).unwrap();
    refused_alike(&s, "missing file").await;
}

#[tokio::test]
async fn a_file_of_the_wrong_size_is_refused() {
    let s = setup().await;
    let p = s.backup.join("mail.tar.gz");
    let mut bytes = std::fs::read(&p).unwrap();
    bytes.extend_from_slice(b"trailing junk");
    std::fs::write(&p, bytes).unwrap();
    refused_alike(&s, "wrong size").await;
}

#[tokio::test]
async fn a_symlink_leading_out_of_the_backup_is_refused_even_to_identical_bytes() {
    let s = setup().await;
    let inside = s.backup.join("config.tar.gz");
    let outside = s.t.path("elsewhere/config.tar.gz");
    std::fs::create_dir_all(outside.parent().unwrap()).unwrap();
    std::fs::copy(&inside, &outside).unwrap();
    std::fs::remove_file(&inside).unwrap();
    std::os::unix::fs::symlink(&outside, &inside).unwrap();
    refused_alike(&s, "symlink out").await;
}

#[tokio::test]
async fn a_backup_whose_job_failed_is_refused() {
    let s = setup().await;
    let m = s.backup.join("manifest.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
    v["status"] = "failed".into();
    std::fs::write(&m, serde_json::to_string(&v).unwrap()).unwrap();
    refused_alike(&s, "status failed").await;
}

#[tokio::test]
async fn a_dump_cut_short_is_refused_by_restore_postgres_before_anything_runs() {
    let t = sqlite_env().await;
    let root = t.path("backups");
    let dir = root.join("backup_mgmt");
    std::fs::create_dir_all(&dir).unwrap();
    let dump = dir.join("20260225_030000.sql.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &b"SELECT 1;\n".repeat(5000)).unwrap();
    let bytes = gz.finish().unwrap();
    std::fs::write(&dump, &bytes[..bytes.len() / 2]).unwrap();

    let cfg = BackupsConfig {
        roots: vec![root.clone()],
        ..Default::default()
    };
    let mut out = Vec::new();
    assert_eq!(
        verify_command(&cfg, &toban::time::Zone::UTC, None, None, true, &mut out)
            .await
            .unwrap(),
        1
    );
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let summary = v["backups"][0]["summary"].as_str().unwrap().to_string();

    let mut out = Vec::new();
    let code = runner::run_headless(
        &t.env,
        &shipped("restore-postgres"),
        &params(&[
            ("dump", dump.to_str().unwrap()),
            ("database", "nowhere"),
            ("port", "1"),
            ("services", ""),
        ]),
        &HeadlessOpts {
            yes: Some("nowhere".into()),
            ..Default::default()
        },
        &mut out,
    )
    .await;
    let text = String::from_utf8(out).unwrap();
    assert_eq!(code, runner::EXIT_FAILED, "{text}");
    assert!(
        text.contains(&format!("FAILED: {summary}")),
        "{summary}\n{text}"
    );
    assert!(!text.contains("==> Restore"), "{text}");
}
