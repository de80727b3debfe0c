//! The state store, the same suite against SQLite (temp dir) and PostgreSQL (a fresh
//! database on a real server; see tests/support/postgres.rs).

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Duration, TimeZone, Utc};
use toban::alarm_types::AlarmTransition;
use toban::health::Severity;
use toban::providers::host_types::{DiskUsage, HostSample};
use toban::store::{Backend, Store};

use support::stores::{sqlite_db, TestDb};

crate::on_both_backends!(
    migrations_apply_from_empty_and_reopen_is_idempotent,
    samples_round_trip_with_disks,
    latest_sample_is_the_newest,
    pruning_deletes_exactly_the_old_samples,
    alarm_transitions_round_trip_newest_first,
    active_alarms_follow_raise_and_clear_across_a_restart,
    two_stores_on_one_database_write_concurrently,
);

fn t(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap()
}

/// 2026-11-23 03:00:00 UTC, the middle of a night on call.
const T0: i64 = 1_795_402_800_000;

fn sample(at: DateTime<Utc>, cpu: f64) -> HostSample {
    HostSample {
        at,
        cpu_pct: cpu,
        mem_used: 6_442_450_944,
        mem_total: 17_179_869_184,
        load: [0.25, 1.5, 2.75],
        cores: 8,
        disks: vec![
            DiskUsage {
                mount: "/".into(),
                fs_type: "ext4".into(),
                total: 512_110_190_592,
                used: 301_989_888_000,
                avail: 184_000_000_000,
            },
            DiskUsage {
                mount: "/mnt/バックアップ \"hdd\"".into(),
                fs_type: "xfs".into(),
                total: 17_592_186_044_416,
                used: 12_314_530_230_091,
                avail: 5_000_000_000_000,
            },
        ],
    }
}

fn transition(ms: i64, key: &str, from: Severity, to: Severity, value: f64) -> AlarmTransition {
    AlarmTransition {
        at: t(ms),
        key: key.into(),
        from,
        to,
        value,
        message: format!("{key} {} → {} at {value:.1} %", from.as_str(), to.as_str()),
    }
}

fn migration_files(backend: Backend) -> i64 {
    let dir = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dir);
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".sql")
        })
        .count() as i64
}

async fn applied_migrations(store: &Store) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(store.pool())
        .await
        .unwrap();
    n
}

async fn migrations_apply_from_empty_and_reopen_is_idempotent(db: TestDb) {
    let expected = migration_files(db.backend());
    assert!(expected >= 1);
    assert_eq!(applied_migrations(&db.store).await, expected);
    assert!(db.store.host_samples_since(t(0)).await.unwrap().is_empty());
    assert!(db.store.alarm_transitions(10).await.unwrap().is_empty());

    db.store
        .insert_host_sample(&sample(t(T0), 12.5))
        .await
        .unwrap();
    db.store.close().await;

    for _ in 0..2 {
        let again = db.reopen().await;
        assert_eq!(again.backend(), db.backend());
        assert_eq!(applied_migrations(&again).await, expected);
        let kept = again.host_samples_since(t(0)).await.unwrap();
        assert_eq!(kept, vec![sample(t(T0), 12.5)], "data survives a re-open");
        again.close().await;
    }
}

async fn samples_round_trip_with_disks(db: TestDb) {
    let s = &db.store;
    let a = sample(t(T0 - 2_000), 97.125);
    let mut b = sample(t(T0), 3.0);
    b.disks.pop();
    b.load = [0.0, 0.01, 123.456];
    let mut c = sample(t(T0 + 2_000), 0.0);
    c.disks.clear();
    // Inserted out of order: reads are by time, oldest first.
    for x in [&b, &c, &a] {
        s.insert_host_sample(x).await.unwrap();
    }
    assert_eq!(
        s.host_samples_since(t(T0 - 2_000)).await.unwrap(),
        vec![a.clone(), b.clone(), c.clone()]
    );
    assert_eq!(
        s.host_samples_since(t(T0 - 1_999)).await.unwrap(),
        vec![b, c.clone()],
        "`since` excludes earlier samples"
    );
    assert_eq!(s.host_samples_since(t(T0 + 2_001)).await.unwrap(), vec![]);
    let got = s.host_samples_since(t(T0 + 2_000)).await.unwrap();
    assert_eq!(got[0].disks, Vec::<DiskUsage>::new());
    assert_eq!(got, vec![c]);
}

async fn latest_sample_is_the_newest(db: TestDb) {
    let s = &db.store;
    assert_eq!(s.latest_host_sample().await.unwrap(), None);
    s.insert_host_sample(&sample(t(T0), 50.0)).await.unwrap();
    s.insert_host_sample(&sample(t(T0 + 4_000), 70.0))
        .await
        .unwrap();
    s.insert_host_sample(&sample(t(T0 + 2_000), 60.0))
        .await
        .unwrap();
    let latest = s.latest_host_sample().await.unwrap().unwrap();
    assert_eq!(latest, sample(t(T0 + 4_000), 70.0));
    assert_eq!(latest.disks.len(), 2);
}

async fn pruning_deletes_exactly_the_old_samples(db: TestDb) {
    let s = &db.store;
    let hour = 3_600_000;
    let times = [
        T0 - 3 * hour,
        T0 - 2 * hour - 1,
        T0 - 2 * hour,
        T0 - hour,
        T0,
    ];
    for (i, ms) in times.iter().enumerate() {
        s.insert_host_sample(&sample(t(*ms), i as f64))
            .await
            .unwrap();
    }
    let removed = s
        .prune_host_samples_older_than(Duration::hours(2), t(T0))
        .await
        .unwrap();
    assert_eq!(removed, 2);
    let left: Vec<i64> = s
        .host_samples_since(t(0))
        .await
        .unwrap()
        .iter()
        .map(|x| x.at.timestamp_millis())
        .collect();
    assert_eq!(
        left,
        vec![T0 - 2 * hour, T0 - hour, T0],
        "the boundary sample is kept"
    );
    assert_eq!(s.prune_host_samples(t(T0 - 2 * hour)).await.unwrap(), 0);
    assert_eq!(s.prune_host_samples(t(T0 + 1)).await.unwrap(), 3);
    assert_eq!(s.latest_host_sample().await.unwrap(), None);
}

async fn alarm_transitions_round_trip_newest_first(db: TestDb) {
    let s = &db.store;
    let raised = transition(T0, "host.cpu", Severity::Ok, Severity::Warning, 83.25);
    let worse = transition(
        T0 + 6_000,
        "host.cpu",
        Severity::Warning,
        Severity::Critical,
        96.5,
    );
    // Same millisecond as `worse`: insertion order breaks the tie.
    let disk = transition(
        T0 + 6_000,
        "host.disk:/mnt/バックアップ",
        Severity::Ok,
        Severity::Unknown,
        f64::MAX,
    );
    let older = transition(
        T0 - 60_000,
        "backup.rpo:mail",
        Severity::Critical,
        Severity::Ok,
        3.0,
    );
    let mut ids = Vec::new();
    for x in [&raised, &worse, &disk, &older] {
        ids.push(s.record_alarm_transition(x).await.unwrap());
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow: {ids:?}");

    let all = s.alarm_transitions(100).await.unwrap();
    assert_eq!(all, vec![disk.clone(), worse.clone(), raised, older]);
    assert_eq!(s.alarm_transitions(2).await.unwrap(), vec![disk, worse]);
    assert_eq!(s.alarm_transitions(0).await.unwrap(), vec![]);
}

async fn active_alarms_follow_raise_and_clear_across_a_restart(db: TestDb) {
    let s = &db.store;
    assert_eq!(s.active_alarms().await.unwrap(), vec![]);

    let cpu_warn = transition(T0, "host.cpu", Severity::Ok, Severity::Warning, 85.0);
    let cpu_crit = transition(
        T0 + 6_000,
        "host.cpu",
        Severity::Warning,
        Severity::Critical,
        97.0,
    );
    let mem_warn = transition(
        T0 + 2_000,
        "host.memory",
        Severity::Ok,
        Severity::Warning,
        81.0,
    );
    let mem_ok = transition(
        T0 + 8_000,
        "host.memory",
        Severity::Warning,
        Severity::Ok,
        60.0,
    );
    let var_crit = transition(
        T0 + 10_000,
        "host.disk:/var",
        Severity::Ok,
        Severity::Critical,
        91.0,
    );
    // Recorded late but older: the newest by time decides, not the insertion order.
    let var_old = transition(
        T0 + 1_000,
        "host.disk:/var",
        Severity::Ok,
        Severity::Warning,
        72.0,
    );
    for x in [
        &cpu_warn, &cpu_crit, &mem_warn, &mem_ok, &var_crit, &var_old,
    ] {
        s.record_alarm_transition(x).await.unwrap();
    }
    assert_eq!(
        s.active_alarms().await.unwrap(),
        vec![var_crit.clone(), cpu_crit.clone()],
        "memory was cleared; cpu is listed at its latest severity, since it became critical"
    );

    let restarted = db.reopen().await;
    assert_eq!(
        restarted.active_alarms().await.unwrap(),
        vec![var_crit.clone(), cpu_crit],
        "a restarted console lists the same alarms"
    );

    let cpu_ok = transition(
        T0 + 12_000,
        "host.cpu",
        Severity::Critical,
        Severity::Ok,
        40.0,
    );
    restarted.record_alarm_transition(&cpu_ok).await.unwrap();
    assert_eq!(restarted.active_alarms().await.unwrap(), vec![var_crit]);

    let var_ok = transition(
        T0 + 14_000,
        "host.disk:/var",
        Severity::Critical,
        Severity::Ok,
        50.0,
    );
    restarted.record_alarm_transition(&var_ok).await.unwrap();
    assert_eq!(restarted.active_alarms().await.unwrap(), vec![]);
    assert_eq!(restarted.alarm_transitions(100).await.unwrap().len(), 8);
}

async fn two_stores_on_one_database_write_concurrently(db: TestDb) {
    // A second toban (or `toban status` from cron) on the same database must wait its
    // turn, not fail with "database is locked".
    let other = db.reopen().await;
    let mut tasks = Vec::new();
    for (n, store) in [db.store.clone(), other.clone()].into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            for i in 0..40 {
                let at = t(T0 + (n as i64) * 1_000_000 + i);
                store.insert_host_sample(&sample(at, i as f64)).await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(other.host_samples_since(t(0)).await.unwrap().len(), 80);
    assert_eq!(db.store.host_samples_since(t(0)).await.unwrap().len(), 80);
}

// ---- SQLite file hardening -------------------------------------------------------------

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn sqlite_file_is_private_and_in_wal_mode() {
    let db = sqlite_db().await;
    let dir = db.data_dir.clone().unwrap();
    let file = dir.join("toban.db");
    assert_eq!(mode(&dir), 0o700, "toban created the data dir");
    assert_eq!(mode(&file), 0o600);

    let (journal,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(journal.to_lowercase(), "wal");
    let (busy,): (i64,) = sqlx::query_as("PRAGMA busy_timeout")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert!(busy >= 1_000, "busy timeout {busy} ms");

    db.store
        .insert_host_sample(&sample(t(T0), 1.0))
        .await
        .unwrap();
    for side in ["toban.db-wal", "toban.db-shm"] {
        let p = dir.join(side);
        assert!(
            p.exists(),
            "{side} exists while the store is open in WAL mode"
        );
        assert_eq!(mode(&p), 0o600, "{side}");
    }
}

#[tokio::test]
async fn explicit_sqlite_url_gets_a_private_file_too() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("custom.db");
    let url = toban::store::sqlite_url(&file).unwrap();
    let store = Store::open(Some(&url), Path::new("/nonexistent"))
        .await
        .unwrap();
    store.insert_host_sample(&sample(t(T0), 1.0)).await.unwrap();
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&temp.path().join("custom.db-wal")), 0o600);
}

#[tokio::test]
async fn blank_database_url_means_the_default_sqlite_file() {
    let temp = tempfile::tempdir().unwrap();
    let store = Store::open(Some("  "), temp.path()).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    assert!(temp.path().join("toban.db").is_file());
}

#[tokio::test]
async fn in_memory_sqlite_keeps_its_tables_across_queries() {
    let store = Store::open_url("sqlite::memory:").await.unwrap();
    for i in 0..5 {
        store
            .insert_host_sample(&sample(t(T0 + i), i as f64))
            .await
            .unwrap();
    }
    assert_eq!(store.host_samples_since(t(0)).await.unwrap().len(), 5);
}

#[tokio::test]
async fn existing_data_dir_is_left_alone_and_a_loose_database_is_tightened() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("shared");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let file = dir.join("toban.db");
    std::fs::write(&file, b"").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();

    let store = Store::open(None, &dir).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    assert_eq!(
        mode(&dir),
        0o755,
        "a directory toban did not create keeps its mode"
    );
    assert_eq!(mode(&file), 0o600);
}

#[tokio::test]
async fn sqlite_path_with_spaces_and_percent_signs_works() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("on call 100% #1?");
    let store = Store::open(None, &dir).await.unwrap();
    store.insert_host_sample(&sample(t(T0), 5.0)).await.unwrap();
    assert!(
        dir.join("toban.db").is_file(),
        "the file is where it was asked to be"
    );
    assert_eq!(
        store.latest_host_sample().await.unwrap().unwrap().cpu_pct,
        5.0
    );
}

// ---- errors ----------------------------------------------------------------------------

fn error_text(e: &anyhow::Error) -> String {
    format!("{e:#} | {e:?}")
}

#[tokio::test]
async fn unreachable_postgres_error_names_the_host_but_not_the_password() {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    let err = Store::open_url("postgres://toban:Sup3r-s3cret@127.0.0.1:1/toban?sslmode=disable")
        .await
        .unwrap_err();
    let text = error_text(&err);
    assert!(!text.contains("Sup3r-s3cret"), "{text}");
    assert!(
        text.contains("postgres://toban@127.0.0.1:1/toban"),
        "{text}"
    );
    assert!(text.contains("cannot connect"), "{text}");
}

#[tokio::test]
async fn unsupported_scheme_is_refused_without_the_password() {
    let err = Store::open(
        Some("mysql://root:Sup3r-s3cret@db/toban"),
        Path::new("/nonexistent"),
    )
    .await
    .unwrap_err();
    let text = error_text(&err);
    assert!(!text.contains("Sup3r-s3cret"), "{text}");
    assert!(text.contains("mysql://root@db/toban"), "{text}");
    assert!(
        text.contains("sqlite://") && text.contains("postgres://"),
        "{text}"
    );
}

#[tokio::test]
async fn wrong_postgres_password_is_reported_without_it() {
    let Some(url) = support::postgres::fresh_pg_url().await else {
        return;
    };
    let wrong = "Wr0ng-pw-9f3a";
    let mut bad = sqlx::any::AnyConnectOptions::from_str(&url)
        .unwrap()
        .database_url;
    bad.set_password(Some(wrong)).unwrap();
    let user = bad.username().to_string();
    let Err(err) = Store::open_url(bad.as_str()).await else {
        support::skipped(
            "PostgreSQL password check",
            "not run: this server accepts any password (trust authentication)",
        );
        return;
    };
    let text = error_text(&err);
    assert!(!text.contains(wrong), "{text}");
    assert!(text.contains(&format!("postgres://{user}@")), "{text}");
    assert!(text.contains("password authentication failed"), "{text}");
}

#[tokio::test]
async fn sqlite_in_an_unusable_place_names_the_path() {
    let temp = tempfile::tempdir().unwrap();
    let blocker = temp.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let err = Store::open(None, &blocker.join("data")).await.unwrap_err();
    let text = error_text(&err);
    assert!(text.contains("not-a-dir"), "{text}");
}
