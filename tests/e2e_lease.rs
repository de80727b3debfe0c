//! End to end, two sessions on one data folder: `toban runbook run` drives a slow run (and
//! holds its lease); a console started meanwhile in tmux at 80x24 does not take it for
//! interrupted and says who drives it; `resume` and `abort` from a third shell are refused;
//! once the driver is killed (-9), `abort` ends the run at once (its holder is gone).

mod support;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BOOK: &str = r#"
name = "slow-e2e"
title = "Slow, for two sessions"
kind = "maintenance"

[[step]]
id = "slow"
kind = "command"
argv = ["sleep", "120"]
timeout = "5m"
"#;

fn have_tmux() -> bool {
    match Command::new("tmux").arg("-V").output() {
        Ok(_) => true,
        Err(e) => {
            support::service_unavailable("tmux", &format!("cannot run tmux: {e}"));
            false
        }
    }
}

fn toban(home: &Path) -> Command {
    let mut c = Command::new(support::toban_bin());
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("c"))
        .env("XDG_DATA_HOME", home.join("d"))
        .env("XDG_STATE_HOME", home.join("s"))
        .env_remove("SSH_CONNECTION")
        .env_remove("SSH_CLIENT");
    c
}

fn run(home: &Path, args: &[&str]) -> (i32, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = toban(home).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&stdout).to_string() + &String::from_utf8_lossy(&stderr);
    (status.code().unwrap_or(-1), text)
}

fn tmux(socket: &str, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .arg("-L")
        .arg(socket)
        .args(args)
        .output()
        .expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_until(what: &str, mut f: impl FnMut() -> Option<String>) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_second_session_is_refused_by_the_lease() {
    if !have_tmux() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let books = home.path().join("c/toban/runbooks");
    std::fs::create_dir_all(&books).unwrap();
    std::fs::write(books.join("slow-e2e.toml"), BOOK).unwrap();

    // The store made once first: two processes creating one SQLite file at the same moment
    // would race on its migrations.
    assert_eq!(run(home.path(), &["runbook", "history"]).0, 0);
    // Session one: the headless run, holding the lease while its step sleeps.
    let driver = toban(home.path())
        .args(["runbook", "run", "slow-e2e"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut driver = Killed(driver);
    let run_id = wait_until("the run to be recorded", || {
        let (_, text) = run(home.path(), &["runbook", "history"]);
        text.lines()
            .find(|l| l.contains("slow-e2e") && l.contains("active"))
            .and_then(|l| l.split_whitespace().next())
            .map(str::to_string)
    });

    // Session two: the console at 80x24 leaves the run alone and says who drives it.
    let socket = format!("toban-e2e-lease-{}", std::process::id());
    let script = format!(
        "HOME={h} XDG_CONFIG_HOME={h}/c XDG_DATA_HOME={h}/d XDG_STATE_HOME={h}/s {bin}",
        h = home.path().display(),
        bin = support::toban_bin().display(),
    );
    tmux(
        &socket,
        &[
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            "80",
            "-y",
            "24",
            "sh",
            "-c",
            &script,
        ],
    );
    let screen = wait_until("the console to name the holder", || {
        let s = tmux(&socket, &["capture-pane", "-p", "-t", "e2e"]);
        s.contains("is being driven by another session, held by")
            .then_some(s)
    });
    assert!(
        !screen.contains("Slow, for two sessions"),
        "no wizard opened:\n{screen}"
    );
    tmux(&socket, &["send-keys", "-t", "e2e", "q"]);
    std::thread::sleep(Duration::from_millis(300));
    tmux(&socket, &["kill-server"]);

    // A third shell: history says who drives it; resume and abort are refused while the
    // lease is live.
    let (_, history) = run(home.path(), &["runbook", "history"]);
    assert!(
        history.contains("held by") && history.contains("pid"),
        "{history}"
    );

    let (code, text) = run(home.path(), &["runbook", "resume", &run_id]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("held by"), "{text}");
    let (code, text) = run(home.path(), &["runbook", "abort", &run_id]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("another session"), "{text}");

    // The driver killed: its holder is gone, so abort works at once.
    driver.0.kill().unwrap();
    driver.0.wait().unwrap();
    let (code, text) = run(
        home.path(),
        &["runbook", "abort", &run_id, "--reason", "driver died"],
    );
    assert_eq!(code, 0, "{text}");
    let (_, history) = run(home.path(), &["runbook", "history", "--run", &run_id]);
    assert!(history.contains("driver died"), "{history}");
    // The supervised sleep outlives its driver by design: stop its process group by the pid
    // the supervisor recorded.
    let pid_file = home
        .path()
        .join(format!("d/toban/runs/{run_id}/steps/slow/command.pid"));
    if let Some(pid) = std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|p| p.trim().parse::<i32>().ok())
        .filter(|p| *p > 1)
    {
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
}
