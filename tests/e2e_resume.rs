//! Resume as an operator meets it: the binary in tmux at 80x24 is killed (`kill -9`) while a
//! step's command runs; started again, it reopens the run on its own, says the command is
//! still running (and offers no "run again" while it does), notices by itself when it has
//! finished, and goes on from the next step when the operator accepts — each step run once.

mod support;

use std::time::{Duration, Instant};

use support::tmux::Tui;

const BOOK: &str = r#"
name = "zz-slow-e2e"
title = "A slow step, for resume"
kind = "maintenance"

[[param]]
name = "out"
kind = "path"
label = "Marker file"

[[step]]
id = "slow"
kind = "command"
title = "Sleep a while"
argv = ["sleep", "10"]
timeout = "1m"

[[step]]
id = "mark"
kind = "command"
title = "Leave a mark"
argv = ["touch", "{{params.out}}"]
timeout = "1m"
"#;

/// The pid of toban in the pane (the shell's child: `env` execs it).
fn toban_pid(tui: &Tui) -> i32 {
    let shell = tui.tmux(&["display-message", "-p", "-t", "e2e", "#{pane_pid}"]);
    let shell = shell.trim();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = std::process::Command::new("pgrep")
            .args(["-P", shell])
            .output()
            .expect("pgrep runs");
        let text = String::from_utf8_lossy(&out.stdout);
        if let Some(pid) = text.lines().next().and_then(|l| l.trim().parse().ok()) {
            return pid;
        }
        assert!(Instant::now() < deadline, "no toban under the pane's shell");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Until the supervisor has recorded the command's pid somewhere under `runs`.
fn wait_for_command(runs: &std::path::Path) {
    fn found(dir: &std::path::Path) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        entries.flatten().any(|e| {
            let path = e.path();
            if path.is_dir() {
                found(&path)
            } else {
                e.file_name() == "command.pid"
            }
        })
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while !found(runs) {
        assert!(
            Instant::now() < deadline,
            "the step's command never started under {}",
            runs.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn killed_mid_step_the_run_reopens_waits_for_the_command_and_goes_on() {
    let Some(tui) = Tui::start("resume") else {
        return;
    };
    let books = tui.config_dir().join("runbooks");
    std::fs::create_dir_all(&books).unwrap();
    std::fs::write(books.join("zz-slow-e2e.toml"), BOOK).unwrap();
    let mark = tui.home().join("mark");

    tui.launch(80, 24, &[], &[]);
    tui.wait_for("1 Over");
    tui.key("R");
    tui.wait_for("Runbooks");
    tui.key("End");
    tui.key("Enter");
    tui.wait_for("A slow step, for resume — before it starts");
    tui.type_text(mark.to_str().unwrap());
    tui.keys(&["Enter", "Enter"]);
    tui.wait_for("Sleep a while");
    tui.key("Enter");
    tui.wait_for("running");
    // "running" is drawn as the step starts, a moment before its command exists; a kill in
    // that moment leaves nothing to reattach to (an honest "outcome unknown", not this case).
    wait_for_command(&tui.data_dir().join("runs"));
    let pid = toban_pid(&tui);
    unsafe { libc::kill(pid, libc::SIGKILL) };
    tui.wait_for(support::tmux::EXITED);
    tui.tmux(&["kill-session", "-t", "e2e"]);

    // Started again: the run is back, its command still running without toban.
    tui.launch(80, 24, &[], &[]);
    let running = tui.wait_for("is still running");
    assert!(
        !running.contains("Run the step again"),
        "no re-run while the original runs:\n{running}"
    );
    assert!(running.contains("▸ Wait for it"), "{running}");
    // Nobody presses a key: the wizard sees the command end by itself.
    let finished = tui.wait_for_within("with exit code 0", 30);
    assert!(
        finished.contains("▸ Accept what is known and go on"),
        "{finished}"
    );
    assert!(!mark.exists(), "the next step waits for the operator");
    tui.key("Enter");
    tui.wait_for("Leave a mark");
    tui.key("Enter");
    tui.wait_for("Run finished: every step done.");
    assert!(mark.exists());
    tui.key("Escape");
    assert_eq!(tui.quit(), 0);

    let history = tui.command().args(["runbook", "history"]).output().unwrap();
    let text = String::from_utf8_lossy(&history.stdout);
    assert!(
        text.lines()
            .any(|l| l.contains("zz-slow-e2e") && l.contains("succeeded")),
        "{text}"
    );
}
