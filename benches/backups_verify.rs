//! Verification throughput against `sha256sum` on the same file (target: within 20 %).
//! The file (256 MiB; `TOBAN_BENCH_VERIFY_MIB` to change) is read from the page cache, so
//! this measures what toban adds on top of hashing.

use std::process::Command;

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use toban::backups::config::BackupsConfig;
use toban::backups::fixture::folder_backup;
use toban::backups::scan::scan_once;
use toban::backups::verify::verify_backup;
use tokio_util::sync::CancellationToken;

fn bench_verify(c: &mut Criterion) {
    let mib: usize = std::env::var("TOBAN_BENCH_VERIFY_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let t = tempfile::tempdir().expect("tempdir");
    let mut data = vec![0u8; mib << 20];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    let dir = folder_backup(
        t.path(),
        "svc",
        "daily",
        Utc::now(),
        true,
        &[("data.tar.gz", &data)],
    )
    .expect("backup");
    drop(data);
    let cfg = BackupsConfig {
        roots: vec![t.path().to_path_buf()],
        ..Default::default()
    };
    let entry = scan_once(&cfg, Utc::now())
        .entries()
        .next()
        .cloned()
        .expect("one backup");
    let file = dir.join("data.tar.gz");

    let mut g = c.benchmark_group("backups_verify");
    g.sample_size(10);
    g.throughput(Throughput::Bytes((mib << 20) as u64));
    let token = CancellationToken::new();
    g.bench_function("toban_verify", |b| {
        b.iter(|| {
            let r = verify_backup(&entry, &token, &mut |_| {});
            assert!(r.ok());
            r
        })
    });
    if Command::new("sha256sum").arg("--version").output().is_ok() {
        g.bench_function("sha256sum", |b| {
            b.iter(|| {
                let out = Command::new("sha256sum")
                    .arg(&file)
                    .output()
                    .expect("sha256sum");
                assert!(out.status.success());
                out
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_verify);
criterion_main!(benches);
