//! End to end: the real binary in tmux at 80x24 — start, visit every tab, open help, quit —
//! and the terminal is left sane (normal screen, cursor visible). The binary is the release
//! build under `.ci/run` (`TOBAN_E2E_BIN`), else the debug build `cargo test` made.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

/// False (after recording the skip) when tmux is not installed; fails instead under CI.
fn have_tmux() -> bool {
    match Command::new("tmux").arg("-V").output() {
        Ok(_) => true,
        Err(e) => {
            support::service_unavailable("tmux", &format!("cannot run tmux: {e}"));
            false
        }
    }
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

/// Starts `toban --demo` in a detached tmux session `e2e` of `cols`x`rows`, with its own
/// HOME and XDG folders; `then` is the shell text after the command (it prints a marker once
/// toban exits, so the screen toban leaves behind can be read).
fn launch(socket: &str, home: &tempfile::TempDir, cols: u16, rows: u16, then: &str) {
    let script = format!(
        "HOME={h} XDG_CONFIG_HOME={h}/c XDG_DATA_HOME={h}/d XDG_STATE_HOME={h}/s {bin} --demo{then}",
        h = home.path().display(),
        bin = support::toban_bin().display(),
    );
    let (cols, rows) = (cols.to_string(), rows.to_string());
    tmux(
        socket,
        &[
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            &cols,
            "-y",
            &rows,
            "sh",
            "-c",
            &script,
        ],
    );
}

fn wait_for(socket: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let screen = tmux(socket, &["capture-pane", "-p", "-t", "e2e"]);
        if screen.contains(needle) {
            return screen;
        }
        if Instant::now() > deadline {
            panic!("`{needle}` never appeared; screen:\n{screen}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn start_visit_every_tab_help_and_quit_leaves_a_sane_terminal() {
    if !have_tmux() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let socket = format!("toban-e2e-{}", std::process::id());
    // The shell prints a marker after toban exits, so the screen toban leaves is visible.
    launch(&socket, &home, 80, 24, "; echo TOBAN-EXITED-$?; sleep 60");
    let screen = wait_for(&socket, "1 Overview");
    assert!(screen.contains("Host"), "{screen}");
    assert_eq!(
        tmux(&socket, &["display", "-p", "-t", "e2e", "#{alternate_on}"]).trim(),
        "1"
    );

    for (key, needle) in [
        ("2", "Alarms — "),
        ("3", "Restore drills"),
        ("4", "No log source yet"),
        ("6", "sort: project"),
        ("5", "Agenda from"),
        ("1", "Filesystems"),
    ] {
        tmux(&socket, &["send-keys", "-t", "e2e", key]);
        wait_for(&socket, needle);
    }
    // The demo's deliberately corrupted backup is found by verifying the service.
    tmux(&socket, &["send-keys", "-t", "e2e", "3"]);
    wait_for(&socket, "newest good");
    tmux(&socket, &["send-keys", "-t", "e2e", "V"]);
    wait_for(&socket, "9 ok, 1 FAILED");
    tmux(&socket, &["send-keys", "-t", "e2e", "1"]);
    wait_for(&socket, "Filesystems");

    // Grow and shrink back to 80x24: the screen is redrawn whole, nothing garbled.
    tmux(
        &socket,
        &["resize-window", "-t", "e2e", "-x", "120", "-y", "40"],
    );
    wait_for(&socket, "2 Alarms  3 Backups");
    tmux(
        &socket,
        &["resize-window", "-t", "e2e", "-x", "80", "-y", "24"],
    );
    let screen = wait_for(&socket, "DEMO 1 Overview");
    let lines: Vec<&str> = screen.lines().collect();
    assert_eq!(lines.len(), 24, "{screen}");
    assert!(lines[0].contains("5 Cale"), "{screen}");
    assert!(lines[1].starts_with("┌ Host"), "{screen}");
    assert!(
        lines
            .iter()
            .all(|l| unicode_width::UnicodeWidthStr::width(*l) <= 80),
        "{screen}"
    );
    assert!(lines[23].contains("? help"), "{screen}");

    tmux(&socket, &["send-keys", "-t", "e2e", "?"]);
    wait_for(&socket, "Keys — default keymap");
    tmux(&socket, &["send-keys", "-t", "e2e", "Escape"]);
    tmux(&socket, &["send-keys", "-t", "e2e", "q"]);
    let screen = wait_for(&socket, "TOBAN-EXITED-0");
    assert!(
        !screen.contains("Filesystems"),
        "the alternate screen is gone: {screen}"
    );
    let alt = tmux(&socket, &["display", "-p", "-t", "e2e", "#{alternate_on}"]);
    let cursor = tmux(&socket, &["display", "-p", "-t", "e2e", "#{cursor_flag}"]);
    tmux(&socket, &["kill-server"]);
    assert_eq!(alt.trim(), "0", "left the alternate screen");
    assert_eq!(cursor.trim(), "1", "cursor visible again");
}

#[test]
fn sighup_restores_the_terminal() {
    if !have_tmux() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let socket = format!("toban-e2e-hup-{}", std::process::id());
    launch(
        &socket,
        &home,
        80,
        24,
        &format!(
            " & echo $! > {}/pid; wait; echo TOBAN-EXITED-$?; sleep 60",
            home.path().display()
        ),
    );
    wait_for(&socket, "1 Overview");
    let pid = std::fs::read_to_string(home.path().join("pid")).unwrap();
    // toban runs in the background of the shell here, so it reads from the terminal only
    // if it is in the foreground; the signal path is what this test is about.
    Command::new("kill")
        .args(["-HUP", pid.trim()])
        .status()
        .unwrap();
    wait_for(&socket, "TOBAN-EXITED-");
    let alt = tmux(&socket, &["display", "-p", "-t", "e2e", "#{alternate_on}"]);
    let cursor = tmux(&socket, &["display", "-p", "-t", "e2e", "#{cursor_flag}"]);
    tmux(&socket, &["kill-server"]);
    assert_eq!(alt.trim(), "0");
    assert_eq!(cursor.trim(), "1");
}

/// The guided restore drill, as an operator does it: Backups tab, `d` on the newest
/// backup, Enter through the steps; the drill is recorded and listed with its RTO.
#[test]
fn a_restore_drill_from_the_backups_tab_is_recorded() {
    if !have_tmux() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let socket = format!("toban-e2e-drill-{}", std::process::id());
    launch(&socket, &home, 100, 32, "; echo TOBAN-EXITED-$?; sleep 60");
    wait_for(&socket, "1 Overview");
    tmux(&socket, &["send-keys", "-t", "e2e", "3"]);
    wait_for(&socket, "No restore drills recorded yet");
    tmux(&socket, &["send-keys", "-t", "e2e", "d"]);
    wait_for(&socket, "[DRILL]");
    let mut screen = String::new();
    for _ in 0..20 {
        screen = tmux(&socket, &["capture-pane", "-p", "-t", "e2e"]);
        if screen.contains("RTO") {
            break;
        }
        if !screen.contains("[DRILL]") {
            // The wizard closed when the run finished: back on the Backups tab.
            tmux(&socket, &["send-keys", "-t", "e2e", "3"]);
        } else {
            tmux(&socket, &["send-keys", "-t", "e2e", "Enter"]);
        }
        std::thread::sleep(Duration::from_millis(800));
    }
    tmux(&socket, &["send-keys", "-t", "e2e", "Escape"]);
    let screen_after = wait_for(&socket, "RTO");
    tmux(&socket, &["send-keys", "-t", "e2e", "q"]);
    wait_for(&socket, "TOBAN-EXITED-0");
    tmux(&socket, &["kill-server"]);
    assert!(screen_after.contains("passed"), "{screen}\n{screen_after}");
}

/// The path from an alarm to its fix, by keys at 80x24: the demo's backup alarm (blog is a
/// day short of its retention) → `r` → the drill form → every step, each screen read →
/// the drill passed and listed. Three keys from the Alarms tab to the run's first step
/// (`r`, `Enter`, `Enter`) when the backup alarm is the worst one.
#[test]
fn a_backup_alarm_leads_to_a_passing_drill_in_three_keys() {
    if !have_tmux() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let socket = format!("toban-e2e-alarm-{}", std::process::id());
    launch(&socket, &home, 80, 24, "; echo TOBAN-EXITED-$?; sleep 60");
    wait_for(&socket, "1 Overview");
    let send = |k: &str| {
        tmux(&socket, &["send-keys", "-t", "e2e", k]);
    };
    send("2");
    wait_for(&socket, "backup.retention:blog");
    // A loaded test machine may raise a CPU alarm above it: the filter makes the backup
    // alarm the selected one whatever else fires.
    send("/");
    wait_for(&socket, "Filter the alarms");
    send("retention");
    send("Enter");
    wait_for(&socket, "filter: retention");
    send("r");
    wait_for(&socket, "[DRILL] — before it starts");
    // The form's one question (which component) has its default: Enter moves to the
    // start button, Enter starts.
    send("Enter");
    send("Enter");
    wait_for(&socket, "Choose the backup");
    for next in [
        "Verify the backup",
        "Dry run: what would change",
        "Restore  [extract]",
        "Verify the restored files",
        "Run finished: every step done.",
    ] {
        send("Enter");
        wait_for(&socket, next);
    }
    send("Escape");
    send("3");
    let screen = wait_for(&socket, "RTO");
    send("q");
    wait_for(&socket, "TOBAN-EXITED-0");
    tmux(&socket, &["kill-server"]);
    assert!(
        screen.contains("blog") && screen.contains("passed"),
        "{screen}"
    );
}

/// The duty calendar by keys at 80x24: the demo's access-key rotation (found by the
/// filter: whether it is due today depends on the hour, as it counts from when toban first
/// saw it at 10:00 Tokyo time) opens its runbook with its parameters, then is marked done
/// with a note and leaves the agenda: the next rotation is 90 days out.
#[test]
fn a_duty_opens_its_runbook_and_marked_done_leaves_the_agenda() {
    let Some(tui) = support::tmux::Tui::start("duty") else {
        return;
    };
    tui.launch(80, 24, &["--demo"], &[]);
    tui.wait_for("1 Overview");
    tui.key("5");
    tui.wait_for("IAM access key rotation");
    tui.key("/");
    tui.type_text("IAM");
    tui.key("Enter");
    let before = tui.wait_for("IAM access key rotation");
    // The duty names a runbook: `r` opens it with the duty's parameters; Esc closes it
    // without starting anything.
    tui.key("r");
    let form = tui.wait_for("Rotate an IAM access key — before it starts");
    assert!(form.contains("ci-cd-user"), "{before}\n{form}");
    tui.key("Escape");
    tui.wait_for("IAM access key rotation");
    tui.key("d");
    tui.wait_for("A note for the history");
    tui.type_text("rotated with the runbook");
    tui.key("Enter");
    tui.wait_for("done access-key-rotation");
    // The notice comes first; the agenda follows when the store's records are read again.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let after = tui.screen();
        if !after.contains("▶ IAM access key rotation") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the duty never left the agenda: {after}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(tui.quit(), 0);
}
