//! Scanning a catalog of 10,000 backups: 8,000 dated folders with manifests (seed 000) and
//! 2,000 `*.sql.gz` dumps (seed 004) over 50 services. Target: under 1 s.
//! `cold` is a first scan (no cache; the files are in the page cache after the first
//! iteration), `warm` a rescan with nothing changed, `one_changed` a rescan after one
//! manifest was rewritten.

use std::path::Path;

use chrono::{Duration, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use toban::backups::config::BackupsConfig;
use toban::backups::fixture::{dump, folder_backup, gzip};
use toban::backups::scan::Scanner;

fn build_tree(root: &Path) -> usize {
    let now = Utc::now();
    let mut n = 0;
    for s in 0..40 {
        let service = format!("svc{s:02}");
        for d in 0..200 {
            let t = now - Duration::days(d) - Duration::hours(6);
            let data = gzip(format!("{service} {d}").as_bytes());
            folder_backup(
                root,
                &service,
                "daily",
                t,
                d % 50 != 7,
                &[("data.tar.gz", &data), ("config.tar.gz", b"cfg")],
            )
            .expect("writing the tree");
            n += 1;
        }
    }
    for s in 40..50 {
        let service = format!("db{s:02}");
        for d in 0..200 {
            let t = now - Duration::hours(12 * d + 1);
            dump(
                root,
                &service,
                Some("db"),
                t,
                b"CREATE TABLE t (id int);\n",
                d != 3,
            )
            .expect("writing a dump");
            n += 1;
        }
    }
    n
}

fn bench_scan(c: &mut Criterion) {
    let t = tempfile::tempdir().expect("tempdir");
    let n = build_tree(t.path());
    assert_eq!(n, 10_000);
    let cfg = BackupsConfig {
        roots: vec![t.path().to_path_buf()],
        ..Default::default()
    };
    let mut g = c.benchmark_group("backups_scan");
    g.sample_size(10);
    g.bench_function("cold_10000", |b| {
        b.iter(|| {
            let cat = Scanner::new().scan(&cfg, Utc::now());
            assert_eq!(cat.backup_count(), 10_000);
            cat
        })
    });
    let mut warm = Scanner::new();
    warm.scan(&cfg, Utc::now());
    g.bench_function("warm_10000", |b| {
        b.iter(|| {
            let cat = warm.scan(&cfg, Utc::now());
            assert_eq!(warm.last_fresh, 0);
            cat
        })
    });
    let some = std::fs::read_dir(t.path().join("svc00/daily"))
        .expect("listing")
        .flatten()
        .next()
        .expect("a backup")
        .path();
    let manifest = some.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    let mut flip = false;
    g.bench_function("one_changed_10000", |b| {
        b.iter(|| {
            flip = !flip;
            let body = if flip {
                text.replace("\"success\"", "\"failed\"")
            } else {
                text.clone()
            };
            std::fs::write(&manifest, body).expect("rewrite");
            let cat = warm.scan(&cfg, Utc::now());
            assert_eq!(warm.last_fresh, 1);
            cat
        })
    });
    g.finish();
}

criterion_group!(benches, bench_scan);
criterion_main!(benches);
