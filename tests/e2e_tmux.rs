//! End to end: the real binary in tmux at 80x24 — start, visit every tab, open help, quit —
//! and the terminal is left sane (normal screen, cursor visible). The binary is the release
//! build under `.ci/run` (`TOBAN_E2E_BIN`), else the debug build `cargo test` made.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::tmux::Tui;

/// `toban --demo` at `cols`x`rows` in its own tmux server and HOME.
fn demo(name: &str, cols: u16, rows: u16) -> Option<Tui> {
    let tui = Tui::start(name)?;
    tui.launch(cols, rows, &["--demo"], &[]);
    tui.wait_for("1 Overview");
    Some(tui)
}

#[test]
fn start_visit_every_tab_help_and_quit_leaves_a_sane_terminal() {
    let Some(tui) = demo("tabs", 80, 24) else {
        return;
    };
    let screen = tui.screen();
    assert!(screen.contains("Host"), "{screen}");
    assert_eq!(
        tui.tmux(&["display", "-p", "-t", "e2e", "#{alternate_on}"])
            .trim(),
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
        tui.key(key);
        tui.wait_for(needle);
    }
    // The demo's deliberately corrupted backup is found by verifying the service.
    tui.key("3");
    tui.wait_for("newest good");
    tui.key("V");
    tui.wait_for("9 ok, 1 FAILED");
    tui.key("1");
    tui.wait_for("Filesystems");

    // Grow and shrink back to 80x24: the screen is redrawn whole, nothing garbled.
    tui.tmux(&["resize-window", "-t", "e2e", "-x", "120", "-y", "40"]);
    tui.wait_for("2 Alarms  3 Backups");
    tui.tmux(&["resize-window", "-t", "e2e", "-x", "80", "-y", "24"]);
    let screen = tui.wait_for("DEMO 1 Overview");
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

    tui.key("?");
    tui.wait_for("Keys — default keymap");
    tui.key("Escape");
    assert_eq!(tui.quit(), 0);
    let screen = tui.screen();
    assert!(
        !screen.contains("Filesystems"),
        "the alternate screen is gone: {screen}"
    );
    let alt = tui.tmux(&["display", "-p", "-t", "e2e", "#{alternate_on}"]);
    let cursor = tui.tmux(&["display", "-p", "-t", "e2e", "#{cursor_flag}"]);
    assert_eq!(alt.trim(), "0", "left the alternate screen");
    assert_eq!(cursor.trim(), "1", "cursor visible again");
}

#[test]
fn sighup_restores_the_terminal() {
    let Some(tui) = demo("hup", 80, 24) else {
        return;
    };
    // The pane's shell waits for toban, its one child.
    let shell = tui.tmux(&["display", "-p", "-t", "e2e", "#{pane_pid}"]);
    let out = Command::new("pgrep")
        .args(["-P", shell.trim()])
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!pid.is_empty(), "toban's pid under the shell {shell}");
    Command::new("kill").args(["-HUP", &pid]).status().unwrap();
    tui.wait_for(support::tmux::EXITED);
    let alt = tui.tmux(&["display", "-p", "-t", "e2e", "#{alternate_on}"]);
    let cursor = tui.tmux(&["display", "-p", "-t", "e2e", "#{cursor_flag}"]);
    assert_eq!(alt.trim(), "0");
    assert_eq!(cursor.trim(), "1");
}

/// The guided restore drill, as an operator does it: Backups tab, `d` on the newest
/// backup, Enter through the steps; the drill is recorded and listed with its RTO.
#[test]
fn a_restore_drill_from_the_backups_tab_is_recorded() {
    let Some(tui) = demo("drill", 100, 32) else {
        return;
    };
    tui.key("3");
    tui.wait_for("No restore drills recorded yet");
    tui.key("d");
    tui.wait_for("[DRILL]");
    let mut screen = String::new();
    for _ in 0..20 {
        screen = tui.screen();
        if screen.contains("RTO") {
            break;
        }
        if !screen.contains("[DRILL]") {
            // The wizard closed when the run finished: back on the Backups tab.
            tui.key("3");
        } else {
            tui.key("Enter");
        }
        std::thread::sleep(Duration::from_millis(800));
    }
    tui.key("Escape");
    let screen_after = tui.wait_for("RTO");
    assert_eq!(tui.quit(), 0);
    assert!(screen_after.contains("passed"), "{screen}\n{screen_after}");
}

/// The path from an alarm to its fix, by keys at 80x24: the demo's backup alarm (blog is a
/// day short of its retention) → `r` → the drill form → every step, each screen read →
/// the drill passed and listed. Three keys from the Alarms tab to the run's first step
/// (`r`, `Enter`, `Enter`) when the backup alarm is the worst one.
#[test]
fn a_backup_alarm_leads_to_a_passing_drill_in_three_keys() {
    let Some(tui) = demo("alarm", 80, 24) else {
        return;
    };
    tui.key("2");
    tui.wait_for("backup.retention:blog");
    // A loaded test machine may raise a CPU alarm above it: the filter makes the backup
    // alarm the selected one whatever else fires.
    tui.key("/");
    tui.wait_for("Filter the alarms");
    tui.type_text("retention");
    tui.key("Enter");
    tui.wait_for("filter: retention");
    tui.key("r");
    tui.wait_for("[DRILL] — before it starts");
    // The form's one question (which component) has its default: Enter moves to the
    // start button, Enter starts.
    tui.keys(&["Enter", "Enter"]);
    tui.wait_for("Choose the backup");
    for next in [
        "Verify the backup",
        "Dry run: what would change",
        "Restore  [extract]",
        "Verify the restored files",
        "Run finished: every step done.",
    ] {
        tui.key("Enter");
        tui.wait_for(next);
    }
    tui.key("Escape");
    tui.key("3");
    let screen = tui.wait_for("RTO");
    assert_eq!(tui.quit(), 0);
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
