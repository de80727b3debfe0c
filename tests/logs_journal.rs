//! The journal as a source: a real journal file written by Debian's systemd-journal-remote
//! from export-format input (a non-UTF-8 MESSAGE among the entries), read by `toban logs
//! journal:FILE` through journalctl, and loaded by the tab's provider.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

const REMOTE: &str = "/lib/systemd/systemd-journal-remote";

fn export(path: &Path) {
    let mut out = Vec::new();
    let entries: [(&str, &[u8]); 4] = [
        ("6", b"Started app.service"),
        ("3", b"app crashed: segfault"),
        ("4", b"disk 85% full"),
        ("3", b"\xffbad utf8 \x1b[31mred\x1b[0m"),
    ];
    for (i, (pri, msg)) in entries.iter().enumerate() {
        let t = 1_764_748_800_000_000u64 + i as u64 * 1_000_000;
        for (k, v) in [
            ("__REALTIME_TIMESTAMP", t.to_string()),
            ("__MONOTONIC_TIMESTAMP", (1000 + i).to_string()),
            ("_BOOT_ID", "0123456789abcdef0123456789abcdef".to_string()),
            ("PRIORITY", pri.to_string()),
            ("_SYSTEMD_UNIT", "app.service".to_string()),
        ] {
            out.extend_from_slice(format!("{k}={v}\n").as_bytes());
        }
        // Binary-safe field: name, newline, little-endian length, data, newline.
        out.extend_from_slice(b"MESSAGE\n");
        out.extend_from_slice(&(msg.len() as u64).to_le_bytes());
        out.extend_from_slice(msg);
        out.extend_from_slice(b"\n\n");
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn a_real_journal_file_is_read_with_levels_and_non_utf8_messages() {
    if !Path::new(REMOTE).exists()
        || Command::new("journalctl")
            .arg("--version")
            .output()
            .is_err()
    {
        support::service_unavailable(
            "systemd-journal-remote",
            "not installed (apt-get install systemd-journal-remote)",
        );
        return;
    }
    let d = tempfile::tempdir().unwrap();
    export(&d.path().join("export.txt"));
    let journal = d.path().join("test.journal");
    let st = Command::new(REMOTE)
        .arg(format!("--output={}", journal.display()))
        .arg(d.path().join("export.txt"))
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );

    let cfg = d.path().join("config.toml");
    std::fs::write(&cfg, "[calendar]\npresets = []\n").unwrap();
    let source = format!("journal:{}", journal.display());
    let out = Command::new(env!("CARGO_BIN_EXE_toban"))
        .arg("--config")
        .arg(&cfg)
        .args(["logs", &source, "--level", "warn"])
        .env("HOME", d.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "2025-12-03T08:00:01.000000Z [error] app.service: app crashed: segfault\n\
         2025-12-03T08:00:02.000000Z [warn] app.service: disk 85% full\n\
         2025-12-03T08:00:03.000000Z [error] app.service: \u{fffd}bad utf8 red\n"
    );

    // `--follow`: the history through journalctl --follow, then it keeps running.
    let mut child = Command::new(env!("CARGO_BIN_EXE_toban"))
        .arg("--config")
        .arg(&cfg)
        .args(["logs", &source, "--follow", "--level", "error"])
        .env("HOME", d.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (ltx, lrx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for l in std::io::BufReader::new(stdout).lines() {
            if ltx.send(l.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let a = lrx.recv_timeout(Duration::from_secs(15)).expect("history");
    let b = lrx.recv_timeout(Duration::from_secs(5)).expect("history");
    assert!(a.ends_with("app crashed: segfault"), "{a}");
    assert!(b.ends_with("\u{fffd}bad utf8 red"), "{b}");
    std::thread::sleep(Duration::from_millis(500));
    assert!(child.try_wait().unwrap().is_none(), "still following");
    let _ = child.kill();
    let _ = child.wait();

    // The tab's provider: the whole journal as the first load.
    let (tx, rx) = std::sync::mpsc::channel();
    let cancel = tokio_util::sync::CancellationToken::new();
    toban::logs::provider::spawn_journal(
        0,
        journal.display().to_string(),
        1000,
        move |m| tx.send(m).is_ok(),
        cancel.clone(),
    );
    match rx.recv_timeout(Duration::from_secs(10)).unwrap() {
        toban::logs::LogsMsg::Loaded { store, .. } => {
            assert_eq!(store.len(), 4);
            assert_eq!(store.level(1), Some(toban::logs::Level::Error));
            assert_eq!(store.level(2), Some(toban::logs::Level::Warn));
        }
        other => panic!("{other:?}"),
    }
    cancel.cancel();
}
