use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::*;
use crate::action::Action;
use crate::backups::catalog::{BackupKind, Problem, ProblemKind, RootStatus, Usage};
use crate::backups::config::BackupsConfig;
use crate::backups::provider::{BackupsUpdate, VerifyProgress, VerifyTarget};
use crate::backups::state::DrillRecord;

fn now() -> DateTime<Utc> {
    // Times are shown in local time; pin it so snapshots do not depend on the machine.
    std::env::set_var("TZ", "UTC");
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap()
}

fn entry(service: &str, kind: BackupKind, name: &str, age_h: i64, size: u64) -> BackupEntry {
    BackupEntry {
        id: format!("/mnt/backup-hdd/{service}/{kind}/{name}"),
        service: service.into(),
        kind,
        name: name.into(),
        path: format!("/mnt/backup-hdd/{service}/{name}").into(),
        time: now() - chrono::Duration::hours(age_h),
        size,
        files: 3,
        status: BackupStatus::Success,
        problems: vec![],
        verification: VerificationState::Never,
        newest_good: false,
    }
}

fn catalog_with_corruption_and_gap() -> Catalog {
    let n = now();
    let mut mail = Vec::new();
    for day in [0i64, 1, 3, 4, 5, 6] {
        let t = n - chrono::Duration::hours(24 * day + 6);
        let mut e = entry(
            "mailserver",
            BackupKind::Daily,
            &t.format("%Y-%m-%d").to_string(),
            24 * day + 6,
            48 << 20,
        );
        if day == 0 {
            e.verification = VerificationState::Ok {
                at: n - chrono::Duration::hours(1),
            };
        }
        if day == 1 {
            e.verification = VerificationState::Failed {
                at: n - chrono::Duration::minutes(20),
                what: "mail-data.tar.gz: checksum mismatch: sha256 3f1c0aa9e2b1…, manifest says 9a0e44c1d7f2…".into(),
            };
        }
        mail.push(e);
    }
    for w in 0..4i64 {
        let t = n - chrono::Duration::hours(24 * 7 * w + 31);
        mail.push(entry(
            "mailserver",
            BackupKind::Weekly,
            &t.format("%Y-%m-%d").to_string(),
            24 * 7 * w + 31,
            310 << 20,
        ));
    }
    let mut db = Vec::new();
    for (i, d) in [6i64, 30, 54].iter().enumerate() {
        let t = n - chrono::Duration::hours(*d);
        let mut e = entry(
            "db",
            BackupKind::Dump,
            &format!("{}.sql.gz", t.format("%Y%m%d_%H%M%S")),
            *d,
            5 << 20,
        );
        e.files = 1;
        if i == 0 {
            e.status = BackupStatus::Incomplete;
            e.problems.push(Problem::new(
                ProblemKind::IncompleteGzip,
                "gzip stream ends early (truncated)",
            ));
        }
        db.push(e);
    }
    let cfg = BackupsConfig::default();
    let mut c = Catalog {
        scanned_at: n - chrono::Duration::minutes(2),
        scan_duration: Duration::from_millis(40),
        roots: vec![RootStatus {
            path: "/mnt/backup-hdd".into(),
            error: None,
            usage: Some(Usage {
                total: 1000,
                used: 620,
                available: 380,
            }),
            storage_warn: 80.0,
            storage_crit: 95.0,
        }],
        services: vec![
            ServiceCatalog {
                name: "db".into(),
                root: "/mnt/backup-hdd".into(),
                policy: cfg.policy("db"),
                backups: db,
            },
            ServiceCatalog {
                name: "mailserver".into(),
                root: "/mnt/backup-hdd".into(),
                policy: cfg.policy("mailserver"),
                backups: mail,
            },
        ],
        findings: vec![],
        notes: vec![],
        pending_checks: 0,
    };
    c.mark_newest_good();
    c.findings = rules::evaluate(&c, n);
    c
}

fn draw(state: &BackupsState, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    let theme = Theme::fallback();
    use crate::config::keymap::{KeyContext, Keymap};
    let km = Keymap::builtin_default();
    let ctx = [KeyContext::Backups, KeyContext::List];
    let hints: Vec<Hint> = [
        (Action::Verify, "verify"),
        (Action::VerifyAll, "verify service"),
        (Action::Restore, "restore"),
        (Action::Drill, "drill"),
    ]
    .into_iter()
    .map(|(action, label)| Hint {
        action,
        key: km
            .key_for(&ctx, action)
            .expect("bound in the default keymap"),
        label: label.into(),
    })
    .collect();
    t.draw(|f| render(f, f.area(), state, &theme, now(), &hints))
        .unwrap();
    t.backend().to_string()
}

fn corrupt_state() -> BackupsState {
    let mut s = BackupsState::new(true);
    s.apply(BackupsUpdate::Catalog(Arc::new(
        catalog_with_corruption_and_gap(),
    )));
    s.select_next();
    s.select_next();
    s.select_next();
    s
}

#[test]
fn backups_empty_80x24() {
    insta::assert_snapshot!(draw(&BackupsState::new(false), 80, 24));
}

#[test]
fn backups_empty_160x48() {
    insta::assert_snapshot!(draw(&BackupsState::new(false), 160, 48));
}

#[test]
fn backups_corrupt_and_gap_80x24() {
    let out = draw(&corrupt_state(), 80, 24);
    assert!(out.contains("retention not met"), "{out}");
    assert!(out.contains("2026-11-21  no backup this day"), "{out}");
    assert!(
        out.contains(NO_DRILLS.split(" — ").next().unwrap()),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn backups_corrupt_and_gap_160x48() {
    let mut s = corrupt_state();
    s.drills.push(DrillRecord {
        at: now() - chrono::Duration::days(20),
        service: "mailserver".into(),
        backup: "2026-11-02".into(),
        duration: Duration::from_secs(252),
        result: crate::backups::state::DrillResult::Passed,
        machine: Some(Duration::from_secs(71)),
        interactive: true,
        proof:
            "every table matches the dump: 2 tables, 2002 rows\npublic.items 2000\npublic.notes 2"
                .into(),
    });
    let out = draw(&s, 160, 48);
    assert!(out.contains("checksum mismatch"), "{out}");
    assert!(out.contains("RTO 1m 11s machine / 4m 12s wall"), "{out}");
    assert!(out.contains("public.items 2000, public.notes 2"), "{out}");
    insta::assert_snapshot!(out);
}

fn verifying_state() -> BackupsState {
    let mut s = corrupt_state();
    s.apply(BackupsUpdate::VerifyStarted {
        target: VerifyTarget::Service("mailserver".into()),
        backups: 10,
        bytes: 1528 << 20,
    });
    s.apply(BackupsUpdate::VerifyProgress(VerifyProgress {
        target: VerifyTarget::Service("mailserver".into()),
        backup_id: "x".into(),
        service: "mailserver".into(),
        name: "2026-11-19".into(),
        file: "mail-data.tar.gz".into(),
        backups_done: 3,
        backups_total: 10,
        bytes_done: 573 << 20,
        bytes_total: 1528 << 20,
    }));
    s
}

#[test]
fn backups_verifying_80x24() {
    let out = draw(&verifying_state(), 80, 24);
    assert!(out.contains("4/10 backups"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn backups_verifying_160x48() {
    insta::assert_snapshot!(draw(&verifying_state(), 160, 48));
}

#[test]
fn escape_sequences_from_disk_are_made_inert() {
    let mut c = catalog_with_corruption_and_gap();
    c.services[0].name = "evil\x1b[2J".into();
    let mut s = BackupsState::new(true);
    s.apply(BackupsUpdate::Catalog(Arc::new(c)));
    let out = draw(&s, 80, 24);
    assert!(!out.contains('\x1b'));
    assert!(out.contains("evil?[2J"), "{out}");
}
