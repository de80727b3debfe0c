//! Verification against real files: corruption is caught, nothing outside a backup is
//! read, results are stored, the CLI's exit codes and JSON, the provider end to end.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use toban::backups::catalog::{BackupEntry, VerificationState};
use toban::backups::cli::verify_command;
use toban::backups::config::BackupsConfig;
use toban::backups::fixture::{
    dump, flip_byte, folder_backup, gzip, truncate_half, write_manifest_json,
};
use toban::backups::provider::{spawn, BackupsUpdate, VerifyTarget};
use toban::backups::scan::scan_once;
use toban::backups::verify::{hex, verify_backup, FileOutcome, VerifyReport};
use toban::store::Store;
use toban::time::Zone;
use tokio_util::sync::CancellationToken;

fn cfg(root: &Path) -> BackupsConfig {
    BackupsConfig {
        roots: vec![root.to_path_buf()],
        storage_warn: 100.0,
        storage_crit: 100.0,
        ..Default::default()
    }
}

fn entry_at(root: &Path, path: &Path) -> BackupEntry {
    scan_once(&cfg(root), Utc::now())
        .entries()
        .find(|e| e.path == path)
        .cloned()
        .unwrap_or_else(|| panic!("{} not in the catalog", path.display()))
}

fn verify(e: &BackupEntry) -> VerifyReport {
    verify_backup(e, &CancellationToken::new(), &mut |_| {})
}

fn big(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn an_intact_backup_verifies_and_progress_reaches_the_total() {
    let t = tempfile::tempdir().unwrap();
    let data = big(3 << 20, 1);
    let d = folder_backup(
        t.path(),
        "mail",
        "daily",
        Utc::now(),
        true,
        &[("mail-data.tar.gz", &data), ("sub/config.tar.gz", b"cfg")],
    )
    .unwrap();
    let e = entry_at(t.path(), &d);
    let mut last = (0, 0);
    let r = verify_backup(&e, &CancellationToken::new(), &mut |p| {
        last = (p.bytes_done, p.bytes_total)
    });
    assert!(r.ok(), "{r:#?}");
    assert_eq!(r.bytes, data.len() as u64 + 3);
    assert_eq!(last, (data.len() as u64 + 3, data.len() as u64 + 3));
    assert!(r.summary().starts_with("2 files ok"), "{}", r.summary());
    assert!(matches!(r.state(), VerificationState::Ok { .. }));
}

#[test]
fn a_flipped_byte_a_truncated_file_and_a_missing_file_are_each_named() {
    let t = tempfile::tempdir().unwrap();
    let files: [(&str, &[u8]); 4] = [
        ("flipped.tar.gz", &big(100_000, 2)),
        ("truncated.tar.gz", &big(100_000, 3)),
        ("missing.tar.gz", b"will be deleted"),
        ("fine.tar.gz", b"fine"),
    ];
    let d = folder_backup(t.path(), "mail", "daily", Utc::now(), true, &files).unwrap();
    flip_byte(&d.join("flipped.tar.gz")).unwrap();
    truncate_half(&d.join("truncated.tar.gz")).unwrap();
    fs::remove_file(d.join("missing.tar.gz")).unwrap();
    let r = verify(&entry_at(t.path(), &d));
    assert!(!r.ok());
    let outcome = |name: &str| {
        r.files
            .iter()
            .find(|f| f.path == name)
            .unwrap()
            .outcome
            .clone()
    };
    match outcome("flipped.tar.gz") {
        FileOutcome::ChecksumMismatch { expected, actual } => {
            assert_eq!(
                expected,
                hex(&<sha2::Sha256 as sha2::Digest>::digest(big(100_000, 2)))
            );
            assert_ne!(expected, actual);
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(
        outcome("truncated.tar.gz"),
        FileOutcome::SizeMismatch {
            expected: 100_000,
            actual: 50_000
        }
    );
    assert_eq!(outcome("missing.tar.gz"), FileOutcome::Missing);
    assert_eq!(outcome("fine.tar.gz"), FileOutcome::Ok);
    assert!(
        r.summary().contains("flipped.tar.gz: checksum mismatch"),
        "{}",
        r.summary()
    );
    assert!(r.summary().contains("and 2 more"), "{}", r.summary());
}

/// Files outside the backup are FIFOs: opening one for reading blocks until a writer comes,
/// so a verification that tried to read one would hang instead of finishing.
#[test]
fn traversal_absolute_paths_and_escaping_symlinks_are_refused_and_nothing_outside_is_opened() {
    let t = tempfile::tempdir().unwrap();
    let outside = t.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    let fifo = outside.join("secret");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let root = t.path().join("root");
    let d = folder_backup(
        &root,
        "svc",
        "daily",
        Utc::now(),
        true,
        &[("ok", b"fine"), ("link", b"xx")],
    )
    .unwrap();
    fs::remove_file(d.join("link")).unwrap();
    std::os::unix::fs::symlink(&fifo, d.join("link")).unwrap();
    std::os::unix::fs::symlink(&outside, d.join("dirlink")).unwrap();
    let zero = "00".repeat(32);
    write_manifest_json(
        &d,
        &serde_json::json!({"created": Utc::now().to_rfc3339(), "status": "success", "service": "svc", "kind": "daily",
        "files": [
            {"path": "ok", "size": 4, "sha256": hex(&<sha2::Sha256 as sha2::Digest>::digest(b"fine"))},
            {"path": fifo.display().to_string(), "size": 2, "sha256": zero},
            {"path": "../../outside/secret", "size": 2, "sha256": zero},
            {"path": "link", "size": 2, "sha256": zero},
            {"path": "dirlink/secret", "size": 2, "sha256": zero},
        ]}),
    )
    .unwrap();
    let (tx, rx) = std_mpsc::channel();
    let root2 = root.clone();
    let d2 = d.clone();
    std::thread::spawn(move || {
        let e = entry_at(&root2, &d2);
        let _ = tx.send((e.problems.len(), verify(&e)));
    });
    let (scan_problems, r) = rx
        .recv_timeout(StdDuration::from_secs(20))
        .expect("verification hung: it opened a file outside the backup");
    assert_eq!(scan_problems, 4);
    let outcomes: Vec<(&str, &FileOutcome)> = r
        .files
        .iter()
        .map(|f| (f.path.as_str(), &f.outcome))
        .collect();
    assert_eq!(outcomes[0], ("ok", &FileOutcome::Ok));
    for (path, o) in &outcomes[1..] {
        assert!(matches!(o, FileOutcome::Refused { .. }), "{path}: {o:?}");
    }
    let reasons: Vec<String> = outcomes[1..].iter().map(|(_, o)| o.describe()).collect();
    assert!(reasons[0].contains("absolute"), "{reasons:?}");
    assert!(reasons[1].contains(".."), "{reasons:?}");
    assert!(
        reasons[2].contains("outside") && reasons[3].contains("outside"),
        "{reasons:?}"
    );
    assert!(!r.ok());
}

#[test]
fn a_manifest_that_is_a_symlink_is_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let d = folder_backup(t.path(), "svc", "daily", Utc::now(), true, &[("a", b"x")]).unwrap();
    let elsewhere = t.path().join("elsewhere.json");
    fs::rename(d.join("manifest.json"), &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, d.join("manifest.json")).unwrap();
    let e = entry_at(t.path(), &d);
    assert!(
        e.problems[0].message.contains("symlink"),
        "{:?}",
        e.problems
    );
    let r = verify(&e);
    assert!(!r.ok());
    assert!(r.problems[0].contains("symlink"));
}

#[test]
fn dumps_verify_as_complete_gzip_streams_and_against_a_manifest_when_listed() {
    let t = tempfile::tempdir().unwrap();
    let now = Utc::now();
    let good = dump(
        t.path(),
        "db",
        Some("db"),
        now - Duration::hours(1),
        &big(2 << 20, 5),
        true,
    )
    .unwrap();
    let cut = dump(
        t.path(),
        "db",
        Some("db"),
        now - Duration::hours(25),
        &big(2 << 20, 6),
        false,
    )
    .unwrap();
    let r = verify(&entry_at(t.path(), &good));
    assert!(r.ok(), "{r:#?}");
    let r = verify(&entry_at(t.path(), &cut));
    assert!(
        matches!(&r.files[0].outcome, FileOutcome::IncompleteGzip { error } if error.contains("truncated")),
        "{r:#?}"
    );

    // A manifest beside the dumps lists the good one with the wrong checksum.
    let name = good.file_name().unwrap().to_str().unwrap();
    let size = fs::metadata(&good).unwrap().len();
    write_manifest_json(
        good.parent().unwrap(),
        &serde_json::json!({"created": now.to_rfc3339(), "status": "success", "service": "db", "kind": "dump",
            "files": [{"path": name, "size": size, "sha256": "ab".repeat(32)}]}),
    )
    .unwrap();
    let r = verify(&entry_at(t.path(), &good));
    assert!(
        matches!(r.files[0].outcome, FileOutcome::ChecksumMismatch { .. }),
        "{r:#?}"
    );
    let sha = hex(&<sha2::Sha256 as sha2::Digest>::digest(
        fs::read(&good).unwrap(),
    ));
    write_manifest_json(
        good.parent().unwrap(),
        &serde_json::json!({"created": now.to_rfc3339(), "status": "success", "service": "db", "kind": "dump",
            "files": [{"path": name, "size": size, "sha256": sha}]}),
    )
    .unwrap();
    assert!(verify(&entry_at(t.path(), &good)).ok());
}

#[test]
fn a_cancelled_verification_is_not_a_pass() {
    let t = tempfile::tempdir().unwrap();
    let d = folder_backup(
        t.path(),
        "s",
        "daily",
        Utc::now(),
        true,
        &[("a", &big(1 << 20, 1))],
    )
    .unwrap();
    let token = CancellationToken::new();
    token.cancel();
    let r = verify_backup(&entry_at(t.path(), &d), &token, &mut |_| {});
    assert!(r.cancelled && !r.ok());
    assert_eq!(r.files[0].outcome, FileOutcome::Cancelled);
}

async fn sqlite_store(dir: &Path) -> Store {
    Store::open(None, dir).await.unwrap()
}

async fn check_store(store: &Store, root: &Path) {
    let d = folder_backup(root, "s", "daily", Utc::now(), true, &[("a", b"abc")]).unwrap();
    let e = entry_at(root, &d);
    let r1 = verify(&e);
    store.record_backup_verification(&r1).await.unwrap();
    flip_byte(&d.join("a")).unwrap();
    let r2 = verify(&e);
    assert!(!r2.ok());
    store.record_backup_verification(&r2).await.unwrap();
    let latest = store.latest_backup_verifications().await.unwrap();
    match latest.get(&e.id) {
        Some(VerificationState::Failed { what, .. }) => {
            assert!(what.contains("checksum mismatch"), "{what}")
        }
        other => panic!("{other:?}"),
    }
    let rec = store
        .latest_backup_verification(&e.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.report, r2);
    assert_eq!(
        store.backup_verifications(&e.id, 10).await.unwrap().len(),
        2
    );
    let mut cancelled = r1.clone();
    cancelled.cancelled = true;
    assert!(store.record_backup_verification(&cancelled).await.is_err());
}

#[tokio::test]
async fn verifications_are_stored_and_the_latest_wins_sqlite() {
    let t = tempfile::tempdir().unwrap();
    let store = sqlite_store(&t.path().join("state")).await;
    check_store(&store, &t.path().join("root")).await;
}

#[tokio::test]
async fn verifications_are_stored_and_the_latest_wins_postgres() {
    // A fresh database on the shared throw-away cluster (or TOBAN_TEST_PG_URL); skips on
    // a laptop without PostgreSQL, fails under CI.
    let Some(url) = support::postgres::fresh_pg_url().await else {
        return;
    };
    let store = Store::open_url(&url).await.unwrap();
    let t = tempfile::tempdir().unwrap();
    check_store(&store, t.path()).await;
}

fn good_tree(root: &Path) -> PathBuf {
    for d in 0..3 {
        folder_backup(
            root,
            "mail",
            "daily",
            Utc::now() - Duration::days(d),
            true,
            &[("a.tar.gz", &big(10_000, d as u8))],
        )
        .unwrap();
    }
    dump(
        root,
        "db",
        None,
        Utc::now() - Duration::hours(3),
        b"CREATE TABLE x();",
        true,
    )
    .unwrap();
    root.join("mail/daily")
}

#[tokio::test]
async fn verify_command_exit_codes_and_json() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    good_tree(&root);
    let store = sqlite_store(&t.path().join("state")).await;
    let mut out = Vec::new();
    assert_eq!(
        verify_command(&cfg(&root), &Zone::UTC, Some(&store), None, false, &mut out)
            .await
            .unwrap(),
        0
    );
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("4 backups verified: 4 ok, 0 failed"),
        "{text}"
    );
    assert_eq!(store.latest_backup_verifications().await.unwrap().len(), 4);

    // Corrupt one: exit 1, named in text and JSON.
    let victim = fs::read_dir(root.join("mail/daily"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    flip_byte(&victim.join("a.tar.gz")).unwrap();
    let mut out = Vec::new();
    assert_eq!(
        verify_command(&cfg(&root), &Zone::UTC, None, None, false, &mut out)
            .await
            .unwrap(),
        1
    );
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("FAIL") && text.contains("a.tar.gz: checksum mismatch"),
        "{text}"
    );

    let mut out = Vec::new();
    assert_eq!(
        verify_command(&cfg(&root), &Zone::UTC, None, Some("mail"), true, &mut out)
            .await
            .unwrap(),
        1
    );
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["verified"], 3);
    assert_eq!(v["failed"], 1);
    let bad: Vec<&serde_json::Value> = v["backups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["ok"] == false)
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0]["service"], "mail");
    assert_eq!(bad[0]["kind"], "daily");
    assert_eq!(bad[0]["report"]["files"][0]["outcome"], "checksum_mismatch");
    assert_eq!(bad[0]["report"]["files"][0]["path"], "a.tar.gz");

    // Only the healthy service: exit 0.
    let mut out = Vec::new();
    assert_eq!(
        verify_command(&cfg(&root), &Zone::UTC, None, Some("db"), true, &mut out)
            .await
            .unwrap(),
        0
    );

    // Usage and configuration errors: exit 2.
    let mut out = Vec::new();
    assert_eq!(
        verify_command(&cfg(&root), &Zone::UTC, None, Some("nope"), false, &mut out)
            .await
            .unwrap(),
        2
    );
    assert!(String::from_utf8(out).unwrap().contains("found: db, mail"));
    let mut out = Vec::new();
    assert_eq!(
        verify_command(
            &BackupsConfig::default(),
            &Zone::UTC,
            None,
            None,
            false,
            &mut out
        )
        .await
        .unwrap(),
        2
    );
    assert!(String::from_utf8(out).unwrap().contains("roots = ["));

    // A root that is not there: exit 1, said so.
    let mut out = Vec::new();
    assert_eq!(
        verify_command(
            &cfg(&t.path().join("gone")),
            &Zone::UTC,
            None,
            None,
            false,
            &mut out
        )
        .await
        .unwrap(),
        1
    );
    assert!(String::from_utf8(out).unwrap().contains("missing"));
}

async fn next_catalog(
    rx: &mut tokio::sync::mpsc::Receiver<BackupsUpdate>,
) -> std::sync::Arc<toban::backups::catalog::Catalog> {
    loop {
        match tokio::time::timeout(StdDuration::from_secs(20), rx.recv()).await {
            Ok(Some(BackupsUpdate::Catalog(c))) => return c,
            Ok(Some(_)) => continue,
            other => panic!("no catalog: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_rescans_on_change_and_verifies_in_the_background() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    good_tree(&root);
    let store = sqlite_store(&t.path().join("state")).await;
    let mut cf = cfg(&root);
    cf.roots.push(t.path().join("not-mounted"));
    cf.debounce = StdDuration::from_millis(100);
    cf.rescan_interval = StdDuration::from_secs(3600);
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let cancel = CancellationToken::new();
    let h = spawn(cf, Some(store.clone()), tx, cancel.clone());

    let c = next_catalog(&mut rx).await;
    assert_eq!(c.backup_count(), 4);
    assert!(
        c.roots[1].error.is_some(),
        "a missing root is reported, not fatal"
    );
    // Reading the tree (scan, manifests, dumps) must not look like a change to the watcher.
    let quiet = tokio::time::timeout(StdDuration::from_millis(1500), next_catalog(&mut rx)).await;
    assert!(quiet.is_err(), "the provider rescanned without any change");

    // A new dump appears: the watcher notices without waiting for the hourly interval.
    // (Give the recursive watch a moment to be installed.)
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    dump(
        &root,
        "db",
        None,
        Utc::now() - Duration::minutes(1),
        &gzip(b"x"),
        true,
    )
    .unwrap();
    let mut c = next_catalog(&mut rx).await;
    while c.backup_count() < 5 {
        c = next_catalog(&mut rx).await;
    }

    // Corrupt one and verify the service.
    let victim = c.service("mail").unwrap().backups[0].clone();
    flip_byte(&victim.path.join("a.tar.gz")).unwrap();
    h.verify(VerifyTarget::Service("mail".into()));
    let mut started = false;
    let mut reports = Vec::new();
    let summary = loop {
        match tokio::time::timeout(StdDuration::from_secs(20), rx.recv())
            .await
            .unwrap()
            .unwrap()
        {
            BackupsUpdate::VerifyStarted { backups, .. } => {
                started = true;
                assert_eq!(backups, 3);
            }
            BackupsUpdate::Verified(r) => reports.push(r),
            BackupsUpdate::VerifyFinished(s) => break s,
            _ => {}
        }
    };
    assert!(started);
    assert_eq!(
        (summary.ok, summary.failed, summary.cancelled),
        (2, 1, false)
    );
    assert_eq!(reports.len(), 3);
    let stored = store.latest_backup_verifications().await.unwrap();
    assert!(stored.get(&victim.id).unwrap().is_failed());
    // The next catalog carries the states; the corrupted backup is no longer the newest good.
    let c = next_catalog(&mut rx).await;
    let v = c.find(&victim.id).unwrap();
    assert!(v.verification.is_failed() && !v.newest_good);
    assert!(c.findings.iter().any(|f| f.key == "backup.integrity:mail"));

    // An unknown backup is refused with a reason, not a crash.
    h.verify(VerifyTarget::Backup("/nope".into()));
    loop {
        if let BackupsUpdate::VerifyFinished(s) =
            tokio::time::timeout(StdDuration::from_secs(20), rx.recv())
                .await
                .unwrap()
                .unwrap()
        {
            assert!(s.error.unwrap().contains("/nope"));
            break;
        }
    }
    cancel.cancel();
}

#[test]
fn the_demo_tree_has_a_corrupt_backup_a_gap_and_good_dumps() {
    let t = tempfile::tempdir().unwrap();
    let now = Utc::now();
    let demo = toban::backups::demo::make_demo_tree(t.path(), now).unwrap();
    assert!(fs::read(&demo.database)
        .unwrap()
        .starts_with(b"SQLite format 3\0"));
    let mut c = demo.config();
    c.storage_warn = 100.0;
    c.storage_crit = 100.0;
    let cat = scan_once(&c, now);
    let blog = cat.service("blog").unwrap();
    assert_eq!(blog.backups.len(), 6 + 4);
    assert_eq!(cat.service("db").unwrap().backups.len(), 3);
    // The missing day is a retention gap straight away.
    let f = cat
        .findings
        .iter()
        .find(|f| f.key == "backup.retention:blog")
        .unwrap();
    assert!(f.message.contains("6 of 7 daily"), "{}", f.message);
    let mut failed = Vec::new();
    let mut states = std::collections::HashMap::new();
    for e in cat.entries() {
        let r = verify(e);
        states.insert(e.id.clone(), r.state());
        if !r.ok() {
            failed.push((e.path.clone(), r.summary()));
        }
    }
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, demo.corrupted);
    assert!(
        failed[0].1.contains("data.tar.gz: checksum mismatch"),
        "{failed:?}"
    );
    // The missing day shows as a retention gap once the corruption is known.
    assert!(
        cat.findings
            .iter()
            .any(|f| f.key == "backup.retention:blog"),
        "{:?}",
        cat.findings
    );
    // The tarballs are real: the weekly one lists the database.
    let weekly = blog
        .backups
        .iter()
        .find(|b| b.kind == toban::backups::catalog::BackupKind::Weekly)
        .unwrap();
    let f = fs::File::open(weekly.path.join("full-backup.tar.gz")).unwrap();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let names: Vec<String> = ar
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(names.iter().any(|n| n == "blog.db"), "{names:?}");
    assert!(
        names.iter().any(|n| n.starts_with("blog/posts/")),
        "{names:?}"
    );
}

#[tokio::test]
async fn verify_command_shows_times_in_the_configured_zone() {
    use chrono::TimeZone;
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    let at = Utc
        .timestamp_opt(Utc::now().timestamp() - 3 * 3600, 0)
        .unwrap();
    toban::backups::fixture::dump(&root, "db", None, at, b"select 1;", true).unwrap();
    let tokyo = Zone::parse("Asia/Tokyo").unwrap();
    let mut out = Vec::new();
    let code = verify_command(&cfg(&root), &tokyo, None, None, false, &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(code, 0, "{text}");
    let line = text.lines().find(|l| l.contains("db")).unwrap();
    let shown = at
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    assert!(line.contains(&shown), "{shown} in {text}");
    assert!(text.contains("(times in Asia/Tokyo)"), "{text}");
}
