//! `toban logs` as scripts use it: the same lines as `grep -E` on a million-line file,
//! levels, JSON, exit codes, and escape sequences made inert unless `--raw`.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Command;

fn toban(dir: &Path, args: &[&str]) -> (i32, Vec<u8>, String) {
    let cfg = dir.join("config.toml");
    if !cfg.exists() {
        std::fs::write(&cfg, "[calendar]\npresets = []\n").unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_toban"))
        .arg("--config")
        .arg(&cfg)
        .arg("logs")
        .args(args)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("c"))
        .env("XDG_DATA_HOME", dir.join("d"))
        .env("XDG_STATE_HOME", dir.join("s"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A million lines of about 77 bytes: times, levels, services, ids, paths, durations.
pub fn million_lines(path: &Path) {
    let levels = [
        "INFO", "INFO", "INFO", "DEBUG", "WARN", "INFO", "ERROR", "INFO",
    ];
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    for i in 0..1_000_000u64 {
        let s = i % 86_400;
        writeln!(
            f,
            "2026-12-03T{:02}:{:02}:{:02}Z {:<5} [svc-{}] req={:07} GET /api/v1/items/{} took={}ms",
            s / 3600,
            s / 60 % 60,
            s % 60,
            levels[(i * 7 % 8) as usize],
            i % 13,
            i,
            i * 31 % 977,
            i * 17 % 1500
        )
        .unwrap();
    }
}

#[test]
fn grep_agrees_with_grep_e_line_for_line_on_a_million_lines() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("big.log");
    million_lines(&log);
    let size = std::fs::metadata(&log).unwrap().len();
    assert!(size > 70_000_000 && size < 85_000_000, "{size}");
    for re in [
        "ERROR.*svc-1[0-2]",
        "took=14[0-9]{2}ms",
        "^2026-12-03T07:5",
        "took=(12|977)ms$",
    ] {
        let grep = Command::new("grep")
            .args(["-E", re])
            .arg(&log)
            .env("LC_ALL", "C")
            .output()
            .unwrap();
        let (code, out, err) = toban(d.path(), &[log.to_str().unwrap(), "--grep", re]);
        assert_eq!(
            code,
            if grep.stdout.is_empty() { 1 } else { 0 },
            "{re}: {err}"
        );
        assert!(!grep.stdout.is_empty(), "{re} matches something");
        assert!(out == grep.stdout, "{re}: toban and grep -E differ");
    }
}

#[test]
fn levels_json_and_exit_codes() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("app.log");
    std::fs::write(
        &log,
        "2026-12-03T07:00:00Z INFO started\n\
         2026-12-03T07:00:01Z level=error msg=\"db down\"\n\
         {\"time\":\"2026-12-03T07:00:02Z\",\"level\":\"warn\",\"msg\":\"slow\"}\n\
         no newline at the end ERROR",
    )
    .unwrap();
    let p = log.to_str().unwrap();
    let (code, out, _) = toban(d.path(), &[p, "--level", "error"]);
    assert_eq!(code, 0);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "2026-12-03T07:00:01Z level=error msg=\"db down\"\nno newline at the end ERROR\n"
    );
    let (_, out, _) = toban(d.path(), &[p, "--level", "warn", "--json"]);
    let rows: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1]["level"], "warn");
    assert_eq!(rows[1]["time"], "2026-12-03T07:00:02+00:00");
    assert_eq!(rows[1]["source"], p);
    let (code, out, _) = toban(d.path(), &[p, "--grep", "nothing-like-this"]);
    assert_eq!((code, out.len()), (1, 0));
    let (code, _, err) = toban(d.path(), &[p, "--grep", "("]);
    assert_eq!(code, 2);
    assert!(err.contains("invalid regex"), "{err}");
    let (code, _, err) = toban(d.path(), &["/nonexistent/x.log"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/x.log"), "{err}");
    let (code, _, _) = toban(d.path(), &[p, "--level", "loud"]);
    assert_eq!(code, 2);
}

#[test]
fn since_keeps_recent_lines() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("app.log");
    let now = chrono::Utc::now();
    let old = (now - chrono::Duration::hours(3)).to_rfc3339();
    let new = (now - chrono::Duration::minutes(10)).to_rfc3339();
    std::fs::write(
        &log,
        format!("{old} ERROR old\ncontinued old\n{new} ERROR new\ncontinued new\n"),
    )
    .unwrap();
    let (_, out, _) = toban(d.path(), &[log.to_str().unwrap(), "--since", "1h"]);
    let out = String::from_utf8(out).unwrap();
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.ends_with("continued new\n"));
}

#[test]
fn escape_sequences_are_inert_unless_raw() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("evil.log");
    std::fs::write(
        &log,
        b"ok \x1b]0;pwned\x07title \x1b[2J\x1b[31mred\x1b[0m \xe2\x80\xaeevil \xc2\x9b6n \xffbyte\r\n",
    )
    .unwrap();
    let (_, out, _) = toban(d.path(), &[log.to_str().unwrap()]);
    let s = String::from_utf8(out).unwrap();
    assert_eq!(s, "ok title red evil  \u{fffd}byte\n");
    assert!(!s.contains('\x1b'));
    let (_, raw, _) = toban(d.path(), &[log.to_str().unwrap(), "--raw"]);
    assert_eq!(raw, std::fs::read(&log).unwrap());
}

#[test]
fn config_sources_by_name_are_tagged_when_several() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("logs")).unwrap();
    std::fs::write(d.path().join("logs/a.log"), "ERROR in a\nfine\n").unwrap();
    std::fs::write(d.path().join("logs/b.log"), "ERROR in b\n").unwrap();
    std::fs::write(
        d.path().join("config.toml"),
        format!(
            "[calendar]\npresets = []\n[[logs.source]]\nname = \"app\"\npath = \"{}/logs/*.log\"\n",
            d.path().display()
        ),
    )
    .unwrap();
    let (code, out, err) = toban(d.path(), &["app", "--grep", "ERROR"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "app:a.log:ERROR in a\napp:b.log:ERROR in b\n"
    );
}
