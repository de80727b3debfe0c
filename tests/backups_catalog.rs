//! Catalogs of real trees in temp dirs, and the alarms the rules raise on them.

use std::fs;
use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use toban::backups::catalog::{BackupKind, BackupStatus, Catalog, ProblemKind};
use toban::backups::config::BackupsConfig;
use toban::backups::fixture::{dump, flip_byte, folder_backup, gzip, write_manifest_json};
use toban::backups::rules::{self, Finding};
use toban::backups::scan::{scan_once, Scanner};
use toban::health::Severity;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
}

fn cfg(root: &Path) -> BackupsConfig {
    BackupsConfig {
        roots: vec![root.to_path_buf()],
        // The test machine's own disk must not decide these tests.
        storage_warn: 100.0,
        storage_crit: 100.0,
        ..Default::default()
    }
}

/// Seed 000's nightly at about 03:00: 7 daily and 4 weekly good backups.
fn healthy_mailserver(root: &Path) {
    for d in 0..7 {
        let t = now() - Duration::days(d) - Duration::hours(6);
        folder_backup(
            root,
            "mailserver",
            "daily",
            t,
            true,
            &[
                ("mysql-dump.sql.gz", &gzip(format!("dump {d}").as_bytes())),
                ("mail-data.tar.gz", format!("mail {d}").as_bytes()),
                ("config.tar.gz", b"cfg"),
            ],
        )
        .unwrap();
    }
    for w in 0..4 {
        let t = now() - Duration::days(7 * w + 1) - Duration::hours(7);
        folder_backup(
            root,
            "mailserver",
            "weekly",
            t,
            true,
            &[("full-backup.tar.gz", b"full")],
        )
        .unwrap();
    }
}

/// Seed 004's `pg_dump | gzip > /backup/db/$(date +%Y%m%d_%H%M%S).sql.gz`, 3 days of them.
fn healthy_dumps(root: &Path) {
    for d in 0..3 {
        let t = now() - Duration::days(d) - Duration::hours(6);
        dump(
            root,
            "backup_mgmt",
            Some("db"),
            t,
            b"CREATE TABLE t (id int);\n",
            true,
        )
        .unwrap();
    }
    dump(
        root,
        "reports",
        None,
        now() - Duration::hours(2),
        b"SELECT 1;\n",
        true,
    )
    .unwrap();
}

fn keys(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.key.as_str()).collect()
}

fn find<'a>(c: &'a Catalog, key: &str) -> Option<&'a Finding> {
    c.findings.iter().find(|f| f.key == key)
}

#[test]
fn both_layouts_are_cataloged_and_a_healthy_tree_raises_nothing() {
    let t = tempfile::tempdir().unwrap();
    healthy_mailserver(t.path());
    healthy_dumps(t.path());
    fs::create_dir_all(t.path().join("lost+found")).unwrap();
    fs::write(t.path().join("mailserver/daily/README"), "not a backup").unwrap();
    let c = scan_once(&cfg(t.path()), now());

    let names: Vec<&str> = c.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["backup_mgmt", "mailserver", "reports"]);
    let mail = c.service("mailserver").unwrap();
    assert_eq!(mail.backups.len(), 11);
    assert_eq!(
        mail.backups
            .iter()
            .filter(|b| b.kind == BackupKind::Daily)
            .count(),
        7
    );
    assert_eq!(
        mail.backups
            .iter()
            .filter(|b| b.kind == BackupKind::Weekly)
            .count(),
        4
    );
    let newest = mail.newest_good().unwrap();
    assert_eq!(newest.time, now() - Duration::hours(6));
    assert_eq!(newest.files, 3);
    assert_eq!(
        newest.size,
        fs::metadata(newest.path.join("mail-data.tar.gz"))
            .unwrap()
            .len()
            + 3
            + fs::metadata(newest.path.join("mysql-dump.sql.gz"))
                .unwrap()
                .len()
    );
    assert_eq!(mail.backups.iter().filter(|b| b.newest_good).count(), 1);
    assert!(mail
        .backups
        .iter()
        .all(|b| b.status == BackupStatus::Success && b.problems.is_empty()));

    let dumps = c.service("backup_mgmt").unwrap();
    assert_eq!(dumps.backups.len(), 3);
    assert!(dumps
        .backups
        .iter()
        .all(|b| b.kind == BackupKind::Dump && b.status == BackupStatus::Success));
    assert_eq!(c.service("reports").unwrap().backups.len(), 1);

    assert!(c.findings.is_empty(), "{:#?}", c.findings);
    let sums = rules::summaries(&c, now());
    let m = sums.iter().find(|s| s.service == "mailserver").unwrap();
    assert_eq!(
        m.newest_good_age,
        Some(std::time::Duration::from_secs(6 * 3600))
    );
    assert_eq!(m.severity, Severity::Ok);
    assert_eq!(m.success_rate, Some(100.0));
}

#[test]
fn rpo_is_judged_on_the_newest_good_backup() {
    let t = tempfile::tempdir().unwrap();
    // Newest is a failed job; the newest good one is 30 h old: over the 24 h RPO.
    folder_backup(
        t.path(),
        "blog",
        "daily",
        now() - Duration::hours(6),
        false,
        &[("a", b"x")],
    )
    .unwrap();
    folder_backup(
        t.path(),
        "blog",
        "daily",
        now() - Duration::hours(30),
        true,
        &[("a", b"x")],
    )
    .unwrap();
    // 50 h: past twice the RPO.
    folder_backup(
        t.path(),
        "wiki",
        "daily",
        now() - Duration::hours(50),
        true,
        &[("a", b"x")],
    )
    .unwrap();
    // Nothing good at all.
    dump(
        t.path(),
        "db",
        None,
        now() - Duration::hours(1),
        b"x",
        false,
    )
    .unwrap();
    // Fresh: no alarm.
    folder_backup(
        t.path(),
        "mail",
        "daily",
        now() - Duration::hours(23),
        true,
        &[("a", b"x")],
    )
    .unwrap();

    let c = scan_once(&cfg(t.path()), now());
    let blog = find(&c, "backup.rpo:blog").expect("blog breaches the RPO");
    assert_eq!(blog.severity, Severity::Warning);
    assert!((blog.value - 30.0).abs() < 0.01, "{}", blog.value);
    assert!(
        blog.message.contains("1d 6h old") && blog.message.contains("RPO 24h"),
        "{}",
        blog.message
    );
    assert_eq!(
        find(&c, "backup.rpo:wiki").unwrap().severity,
        Severity::Critical
    );
    let db = find(&c, "backup.rpo:db").unwrap();
    assert_eq!(db.severity, Severity::Critical);
    assert!(db.message.contains("no good backup"));
    assert!(find(&c, "backup.rpo:mail").is_none());

    // A per-service RPO of 48 h lets the 30 h old blog backup pass.
    let mut cf = cfg(t.path());
    cf.services
        .insert("blog".into(), toml::from_str("rpo = \"48h\"").unwrap());
    let c = scan_once(&cf, now());
    assert!(
        find(&c, "backup.rpo:blog").is_none(),
        "{:?}",
        keys(&c.findings)
    );
}

#[test]
fn failed_jobs_lower_the_success_rate_below_95_percent() {
    let t = tempfile::tempdir().unwrap();
    // 30 nightly jobs, 2 failed: 93.3 %.
    for d in 0..30 {
        let ok = d != 3 && d != 10;
        folder_backup(
            t.path(),
            "mail",
            "daily",
            now() - Duration::days(d) - Duration::hours(6),
            ok,
            &[("a", b"x")],
        )
        .unwrap();
    }
    // 30 jobs, 1 failed: 96.7 %, fine.
    for d in 0..30 {
        folder_backup(
            t.path(),
            "blog",
            "daily",
            now() - Duration::days(d) - Duration::hours(6),
            d != 5,
            &[("a", b"x")],
        )
        .unwrap();
    }
    // Older failures fall outside the 30-day window.
    for d in 31..35 {
        folder_backup(
            t.path(),
            "blog",
            "daily",
            now() - Duration::days(d) - Duration::hours(6),
            false,
            &[("a", b"x")],
        )
        .unwrap();
    }
    let mut cf = cfg(t.path());
    let keep30: toban::backups::config::ServiceOverride =
        toml::from_str("retention = { daily = 30, weekly = 0 }").unwrap();
    cf.services.insert("mail".into(), keep30.clone());
    cf.services.insert(
        "blog".into(),
        toml::from_str("retention = { daily = 40, weekly = 0 }").unwrap(),
    );
    let c = scan_once(&cf, now());
    let f = find(&c, "backup.success_rate:mail").expect("93% < 95%");
    assert_eq!(f.severity, Severity::Warning);
    assert!((f.value - 93.33).abs() < 0.01, "{}", f.value);
    assert!(f.message.contains("2 of 30 failed"), "{}", f.message);
    assert!(
        find(&c, "backup.success_rate:blog").is_none(),
        "{:?}",
        keys(&c.findings)
    );

    // Truncated dumps are failed jobs too.
    let t2 = tempfile::tempdir().unwrap();
    for d in 0..10 {
        dump(
            t2.path(),
            "db",
            None,
            now() - Duration::days(d) - Duration::hours(3),
            b"SQL",
            d != 4,
        )
        .unwrap();
    }
    let c = scan_once(&cfg(t2.path()), now());
    let f = find(&c, "backup.success_rate:db").unwrap();
    assert!((f.value - 90.0).abs() < 0.01);
    let bad = c
        .service("db")
        .unwrap()
        .backups
        .iter()
        .find(|b| b.status == BackupStatus::Incomplete)
        .unwrap();
    assert_eq!(bad.problems[0].kind, ProblemKind::IncompleteGzip);
}

#[test]
fn a_missing_day_breaks_retention_and_names_the_gap() {
    let t = tempfile::tempdir().unwrap();
    healthy_mailserver(t.path());
    let gap_day = now() - Duration::days(2) - Duration::hours(6);
    let gap = t.path().join("mailserver/daily").join(
        gap_day
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d")
            .to_string(),
    );
    fs::remove_dir_all(&gap).unwrap();
    // And one weekly backup fewer than the four kept.
    let weeklies: Vec<_> = fs::read_dir(t.path().join("mailserver/weekly"))
        .unwrap()
        .flatten()
        .collect();
    fs::remove_dir_all(weeklies[0].path()).unwrap();

    let c = scan_once(&cfg(t.path()), now());
    let f = find(&c, "backup.retention:mailserver").expect("6 of 7 daily");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.message.contains("6 of 7 daily"), "{}", f.message);
    assert!(f.message.contains("3 of 4 weekly"), "{}", f.message);
    let day = gap_day
        .with_timezone(&chrono::Local)
        .format("%Y-%m-%d")
        .to_string();
    assert!(f.message.contains(&day), "{} should name {day}", f.message);
    assert_eq!(f.value, 2.0);
    // The RPO is still met: a gap two days ago is a retention problem, not a freshness one.
    assert!(find(&c, "backup.rpo:mailserver").is_none());
}

/// Five missing days are named; the rest are counted, never dropped without a word.
#[test]
fn more_than_five_missing_days_are_counted() {
    let t = tempfile::tempdir().unwrap();
    healthy_mailserver(t.path());
    let mut daily: Vec<_> = fs::read_dir(t.path().join("mailserver/daily"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    daily.sort();
    // Keep only the newest of seven: six days missing.
    for old in &daily[..6] {
        fs::remove_dir_all(old).unwrap();
    }
    let c = scan_once(&cfg(t.path()), now());
    let f = find(&c, "backup.retention:mailserver").expect("1 of 7 daily");
    assert!(f.message.contains("1 of 7 daily"), "{}", f.message);
    assert!(f.message.contains("and 1 more days"), "{}", f.message);
}

#[test]
fn backups_kept_past_retention_are_reported() {
    let t = tempfile::tempdir().unwrap();
    healthy_mailserver(t.path());
    // Two daily backups 9 and 12 days old, one weekly 6 weeks old: the cleanup did not run.
    for d in [9, 12] {
        folder_backup(
            t.path(),
            "mailserver",
            "daily",
            now() - Duration::days(d),
            true,
            &[("a", b"x")],
        )
        .unwrap();
    }
    folder_backup(
        t.path(),
        "mailserver",
        "weekly",
        now() - Duration::days(42),
        true,
        &[("a", b"x")],
    )
    .unwrap();
    // Dumps: one 31 days + 6 h old is still within a day's grace, one 40 days old is not.
    healthy_dumps(t.path());
    dump(
        t.path(),
        "backup_mgmt",
        Some("db"),
        now() - Duration::days(40),
        b"x",
        true,
    )
    .unwrap();
    dump(
        t.path(),
        "backup_mgmt",
        Some("db"),
        now() - Duration::days(30) - Duration::hours(6),
        b"x",
        true,
    )
    .unwrap();

    let c = scan_once(&cfg(t.path()), now());
    let f = find(&c, "backup.retention_excess:mailserver").expect("3 too old");
    assert_eq!(f.value, 3.0);
    assert!(f.message.contains("weekly"), "{}", f.message);
    let f = find(&c, "backup.retention_excess:backup_mgmt").expect("1 dump too old");
    assert_eq!(f.value, 1.0);
    assert!(find(&c, "backup.retention:mailserver").is_none());
}

#[test]
fn hostile_and_broken_backups_are_reported_per_backup() {
    let t = tempfile::tempdir().unwrap();
    let secret = t.path().join("outside-secret");
    fs::write(&secret, "do not read").unwrap();
    let root = t.path().join("root");
    let base = now() - Duration::hours(5);
    // Good, newest-good candidate is pushed down by broken newer ones.
    folder_backup(
        &root,
        "svc",
        "daily",
        base - Duration::days(6),
        true,
        &[("a.tar.gz", b"good")],
    )
    .unwrap();
    // Size that lies.
    let liar = folder_backup(
        &root,
        "svc",
        "daily",
        base - Duration::days(5),
        true,
        &[("a.tar.gz", b"1234")],
    )
    .unwrap();
    fs::write(liar.join("a.tar.gz"), b"12").unwrap();
    // Missing file.
    let gone = folder_backup(
        &root,
        "svc",
        "daily",
        base - Duration::days(4),
        true,
        &[("a.tar.gz", b"x"), ("b.tar.gz", b"y")],
    )
    .unwrap();
    fs::remove_file(gone.join("b.tar.gz")).unwrap();
    // Bad JSON.
    let bad = folder_backup(
        &root,
        "svc",
        "daily",
        base - Duration::days(3),
        true,
        &[("a", b"x")],
    )
    .unwrap();
    fs::write(
        bad.join("manifest.json"),
        b"{\"created\": \"2026-11-20T03:00:00Z\", \"files\": [",
    )
    .unwrap();
    // Absolute path and `..`.
    let trav = folder_backup(
        &root,
        "svc",
        "daily",
        base - Duration::days(2),
        true,
        &[("a", b"x")],
    )
    .unwrap();
    write_manifest_json(
        &trav,
        &serde_json::json!({"created": (base - Duration::days(2)).to_rfc3339(), "status": "success",
            "service": "svc", "kind": "daily", "files": [
                {"path": secret.display().to_string(), "size": 11, "sha256": "00".repeat(32)},
                {"path": "../../outside-secret", "size": 11, "sha256": "00".repeat(32)}]}),
    )
    .unwrap();
    // A symlink leading out of the backup.
    let link = folder_backup(
        &root,
        "svc",
        "daily",
        base - Duration::days(1),
        true,
        &[("data", b"0123456789a")],
    )
    .unwrap();
    fs::remove_file(link.join("data")).unwrap();
    std::os::unix::fs::symlink(&secret, link.join("data")).unwrap();
    // No manifest at all.
    let bare = root.join("svc/daily").join(
        base.with_timezone(&chrono::Local)
            .format("%Y-%m-%d")
            .to_string(),
    );
    fs::create_dir_all(&bare).unwrap();
    fs::write(bare.join("x.tar.gz"), b"abc").unwrap();

    let c = scan_once(&cfg(&root), now());
    let svc = c.service("svc").unwrap();
    let by_path = |p: &Path| svc.backups.iter().find(|b| b.path == p).unwrap();
    let kinds = |p: &Path| {
        by_path(p)
            .problems
            .iter()
            .map(|p| p.kind)
            .collect::<Vec<_>>()
    };

    assert_eq!(kinds(&liar), [ProblemKind::SizeMismatch]);
    assert!(by_path(&liar).problems[0]
        .message
        .contains("2 bytes, manifest says 4"));
    assert_eq!(kinds(&gone), [ProblemKind::MissingFile]);
    assert!(kinds(&bad).contains(&ProblemKind::ManifestInvalid));
    assert_eq!(by_path(&bad).status, BackupStatus::Unknown);
    assert_eq!(
        kinds(&trav),
        [ProblemKind::UnsafePath, ProblemKind::UnsafePath]
    );
    assert_eq!(kinds(&link), [ProblemKind::UnsafePath]);
    assert!(by_path(&link).problems[0].message.contains("outside"));
    assert_eq!(kinds(&bare), [ProblemKind::ManifestMissing]);
    assert_eq!(by_path(&bare).files, 1);
    assert_eq!(by_path(&bare).size, 3);

    // Only the oldest one is good, and it is the newest good.
    let good: Vec<_> = svc.backups.iter().filter(|b| b.is_good()).collect();
    assert_eq!(good.len(), 1);
    assert!(good[0].newest_good);
    let f = find(&c, "backup.integrity:svc").unwrap();
    assert_eq!(f.value, 6.0);
    // The RPO is judged on that 6-day-old backup.
    assert_eq!(
        find(&c, "backup.rpo:svc").unwrap().severity,
        Severity::Critical
    );
    // And the secret was never modified (nothing writes) — reading is proved in backups_verify.
    assert_eq!(fs::read_to_string(&secret).unwrap(), "do not read");
}

#[test]
fn missing_and_odd_roots_are_reported_not_fatal() {
    let t = tempfile::tempdir().unwrap();
    healthy_dumps(t.path());
    let file_root = t.path().join("a-file");
    fs::write(&file_root, "x").unwrap();
    let mut cf = cfg(t.path());
    cf.roots.push(t.path().join("not-mounted"));
    cf.roots.push(file_root);
    let c = scan_once(&cf, now());
    assert_eq!(c.roots.len(), 3);
    assert!(c.roots[0].error.is_none() && c.roots[0].usage.is_some());
    assert!(c.roots[1].error.as_deref().unwrap().contains("missing"));
    assert!(c.roots[2]
        .error
        .as_deref()
        .unwrap()
        .contains("not a folder"));
    let f = c
        .findings
        .iter()
        .filter(|f| f.key.starts_with("backup.root:"))
        .count();
    assert_eq!(f, 2);
    assert_eq!(c.service("backup_mgmt").unwrap().backups.len(), 3);
}

#[test]
fn rescans_reuse_unchanged_backups_and_notice_changes() {
    let t = tempfile::tempdir().unwrap();
    healthy_mailserver(t.path());
    healthy_dumps(t.path());
    let cf = cfg(t.path());
    let mut s = Scanner::new();
    let first = s.scan(&cf, now());
    assert_eq!(s.last_fresh, 11 + 4);
    let second = s.scan(&cf, now());
    assert_eq!(s.last_fresh, 0, "nothing changed, nothing re-read");
    assert_eq!(first.services, second.services);

    // A job rewrites a manifest (now failed) and a new dump appears.
    let newest = first
        .service("mailserver")
        .unwrap()
        .newest_good()
        .unwrap()
        .path
        .clone();
    let m = fs::read_to_string(newest.join("manifest.json"))
        .unwrap()
        .replace("\"success\"", "\"failed\"");
    fs::write(newest.join("manifest.json"), m).unwrap();
    dump(
        t.path(),
        "reports",
        None,
        now() - Duration::minutes(5),
        b"x",
        true,
    )
    .unwrap();
    let third = s.scan(&cf, now());
    assert_eq!(s.last_fresh, 2);
    let b = third
        .service("mailserver")
        .unwrap()
        .backups
        .iter()
        .find(|b| b.path == newest)
        .unwrap();
    assert_eq!(b.status, BackupStatus::Failed);
    assert!(!b.newest_good);
    assert_eq!(third.service("reports").unwrap().backups.len(), 2);

    // A dump cut short in place is re-checked (size and mtime changed).
    let d = &third.service("reports").unwrap().backups[0].path;
    let bytes = fs::read(d).unwrap();
    fs::write(d, &bytes[..bytes.len() - 5]).unwrap();
    let fourth = s.scan(&cf, now());
    assert_eq!(
        fourth.service("reports").unwrap().backups[0].status,
        BackupStatus::Incomplete
    );
}

#[test]
fn corrupt_content_is_invisible_to_the_scan_but_not_to_verification() {
    // The scan reads no data; a flipped byte keeps the size. This is why verify exists.
    let t = tempfile::tempdir().unwrap();
    let d = folder_backup(
        t.path(),
        "s",
        "daily",
        now() - Duration::hours(2),
        true,
        &[("a", b"hello world")],
    )
    .unwrap();
    flip_byte(&d.join("a")).unwrap();
    let c = scan_once(&cfg(t.path()), now());
    let e = &c.service("s").unwrap().backups[0];
    assert!(e.problems.is_empty());
    let r = toban::backups::verify::verify_backup(e, &Default::default(), &mut |_| {});
    assert!(!r.ok());
    assert!(matches!(
        r.files[0].outcome,
        toban::backups::verify::FileOutcome::ChecksumMismatch { .. }
    ));
}

#[test]
fn dump_checks_over_budget_wait_for_the_next_scan_newest_first() {
    let t = tempfile::tempdir().unwrap();
    healthy_dumps(t.path());
    dump(
        t.path(),
        "backup_mgmt",
        Some("db"),
        now() - Duration::hours(1),
        b"x",
        false,
    )
    .unwrap();
    let cf = cfg(t.path());
    let mut s = Scanner::new();
    s.check_budget = Some(std::time::Duration::ZERO);
    let c = s.scan(&cf, now());
    assert_eq!(c.pending_checks, 5);
    let db = c.service("backup_mgmt").unwrap();
    assert!(db
        .backups
        .iter()
        .all(|b| b.status == BackupStatus::Unchecked && !b.is_good()));
    // Unchecked dumps are neither successes nor failures.
    assert!(find(&c, "backup.success_rate:backup_mgmt").is_none());
    s.check_budget = None;
    let c = s.scan(&cf, now());
    assert_eq!(c.pending_checks, 0);
    let db = c.service("backup_mgmt").unwrap();
    assert_eq!(db.backups[0].status, BackupStatus::Incomplete);
    assert!(db.backups[1].newest_good);
}
