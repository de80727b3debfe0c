//! Following a file while Debian's real `logrotate` rotates it (`create` and
//! `copytruncate`), with a writer and the follower running concurrently: every line is read
//! exactly once, in order.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use toban::logs::follow::Follower;

fn logrotate() -> Option<&'static str> {
    ["/usr/sbin/logrotate", "/sbin/logrotate"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

fn rotate_while_following(mode: &'static str) {
    let Some(bin) = logrotate() else {
        support::service_unavailable("logrotate", "not installed (apt-get install logrotate)");
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    let conf = d.path().join("rotate.conf");
    std::fs::write(
        &conf,
        format!(
            "{} {{\n  rotate 10\n  {mode}\n  nocompress\n  missingok\n}}\n",
            log.display()
        ),
    )
    .unwrap();

    // The writer opens the file by name for every line, as a daemon does after its HUP. It
    // pauses while logrotate runs: copy-then-truncate loses what is written in between in
    // logrotate itself, which is not what is under test here.
    let gate = Arc::new(Mutex::new(()));
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (gate, done, log) = (gate.clone(), done.clone(), log.clone());
        std::thread::spawn(move || {
            let mut n = 0u32;
            while !done.load(Ordering::Relaxed) {
                {
                    let _g = gate.lock().unwrap();
                    let mut f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&log)
                        .unwrap();
                    for _ in 0..20 {
                        writeln!(f, "line {n:06} of the {mode} test").unwrap();
                        n += 1;
                    }
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            n
        })
    };
    let follower = {
        let (done, log) = (done.clone(), log.clone());
        std::thread::spawn(move || {
            let mut f = Follower::open(&log, false).unwrap();
            let mut got = Vec::new();
            let mut rotations = 0;
            loop {
                let finished = done.load(Ordering::Relaxed);
                let r = f.poll(&mut got, 1 << 20).unwrap();
                if r != toban::logs::follow::Rotation::None {
                    rotations += 1;
                }
                if finished {
                    // One more poll after the writer stopped: everything is on disk.
                    f.poll(&mut got, usize::MAX).unwrap();
                    return (got, rotations);
                }
                std::thread::sleep(Duration::from_millis(3));
            }
        })
    };
    let state = d.path().join("state");
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(120));
        let _g = gate.lock().unwrap();
        let out = Command::new(bin)
            .arg("-f")
            .arg("-s")
            .arg(&state)
            .arg(&conf)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "logrotate: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::thread::sleep(Duration::from_millis(120));
    done.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let (got, rotations) = follower.join().unwrap();
    let got = String::from_utf8(got).unwrap();
    let lines: Vec<&str> = got.lines().collect();
    let want: Vec<String> = (0..written)
        .map(|n| format!("line {n:06} of the {mode} test"))
        .collect();
    assert_eq!(lines.len(), want.len(), "{mode}: lines lost or repeated");
    assert!(
        lines.iter().zip(&want).all(|(a, b)| a == b),
        "{mode}: lines out of order"
    );
    assert!(rotations >= 4, "{mode}: rotations seen: {rotations}");
    let rotated = std::fs::read_dir(d.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("app.log.")
        })
        .count();
    assert_eq!(rotated, 4, "logrotate made its copies");
}

#[test]
fn follows_across_logrotate_create() {
    rotate_while_following("create");
}

#[test]
fn follows_across_logrotate_copytruncate() {
    rotate_while_following("copytruncate");
}
