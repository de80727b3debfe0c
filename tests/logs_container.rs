//! Container logs from a real container (an image built here from busybox): `toban logs
//! container:NAME` prints stdout and stderr with the engine's timestamps, levels detected and
//! escape sequences inert; the provider follows new output as it is written.

mod support;

use std::process::Command;
use std::time::Duration;

use support::engine::{engine_or_skip, TestContainer, TestImage};
use toban::logs::LogsMsg;
use tokio_util::sync::CancellationToken;

const SCRIPT: &str = "echo 'INFO started'; echo 'ERROR boom on stderr' >&2; \
    echo -e '\\033]0;pwned\\007WARN \\033[31mred\\033[0m text'; \
    i=0; while true; do sleep 0.2; i=$((i+1)); echo \"INFO tick $i\"; done";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn container_output_is_printed_and_followed() {
    if engine_or_skip().await.is_none() {
        return;
    }
    let image = TestImage::build().unwrap_or_else(|e| panic!("building the test image: {e}"));
    let c = TestContainer::run(&image, &[], &["sh", "-c", SCRIPT]).unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;

    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "[calendar]\npresets = []\n").unwrap();
    let source = format!("container:{}", c.name);
    let out = Command::new(env!("CARGO_BIN_EXE_toban"))
        .arg("--config")
        .arg(&cfg)
        .args(["logs", &source, "--level", "warn"])
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    // stdout and stderr are separate streams: their order is the engine's.
    assert!(
        lines.iter().any(|l| l.ends_with("Z ERROR boom on stderr")),
        "{text}"
    );
    assert!(
        lines.iter().any(|l| l.ends_with("Z WARN red text")),
        "{text}"
    );
    assert!(!text.contains('\x1b'));

    // `--follow`: the history once, then new ticks as the container writes them.
    let mut child = Command::new(env!("CARGO_BIN_EXE_toban"))
        .arg("--config")
        .arg(&cfg)
        .args(["logs", &source, "--follow", "--grep", "started|tick"])
        .env("HOME", dir.path())
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
    // Three seconds of reading after the history: new ticks must arrive by following.
    let first = lrx.recv_timeout(Duration::from_secs(20)).expect("history");
    let t0 = std::time::Instant::now();
    let mut followed = vec![first];
    let mut late = 0;
    while t0.elapsed() < Duration::from_secs(3) {
        if let Ok(l) = lrx.recv_timeout(Duration::from_millis(200)) {
            if t0.elapsed() > Duration::from_millis(1500) && l.contains("INFO tick ") {
                late += 1;
            }
            followed.push(l);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        late >= 3,
        "ticks written after the history came: {followed:?}"
    );
    assert!(followed[0].ends_with("INFO started"), "{followed:?}");
    assert_eq!(
        followed
            .iter()
            .filter(|l| l.ends_with("INFO started"))
            .count(),
        1
    );
    let ticks: Vec<u32> = followed
        .iter()
        .filter_map(|l| l.split("INFO tick ").nth(1).map(|n| n.parse().unwrap()))
        .collect();
    assert!(
        ticks.windows(2).all(|w| w[1] == w[0] + 1),
        "no tick lost or repeated: {ticks:?}"
    );

    // The provider: the history first, then new ticks as they are written.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    toban::logs::provider::spawn_container(
        0,
        c.name.clone(),
        1000,
        move |m| tx.send(m).is_ok(),
        cancel.clone(),
    );
    let mut store = None;
    let mut appended = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while appended < 3 {
        let m = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("container lines in time")
            .unwrap();
        match m {
            LogsMsg::Loaded { store: s, .. } => store = Some(s),
            LogsMsg::Appended { chunk, .. } => {
                let s = store.as_mut().expect("history before new lines");
                s.push(chunk);
                appended += 1;
            }
            LogsMsg::Failed { error, .. } => panic!("{error}"),
            _ => {}
        }
    }
    cancel.cancel();
    let s = store.unwrap();
    let all: Vec<String> = (0..s.len())
        .map(|i| String::from_utf8_lossy(&s.line(i)).into_owned())
        .collect();
    assert!(all.iter().any(|l| l.ends_with("INFO started")), "{all:?}");
    assert!((0..s.len()).any(|i| s.level(i) == Some(toban::logs::Level::Error)));
    let ticks: Vec<u32> = all
        .iter()
        .filter_map(|l| l.split("INFO tick ").nth(1).map(|n| n.parse().unwrap()))
        .collect();
    assert!(ticks.len() >= 4, "{all:?}");
    assert!(
        ticks.windows(2).all(|w| w[1] == w[0] + 1),
        "no tick lost or repeated: {ticks:?}"
    );
}
