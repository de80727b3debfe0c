//! restore-files as an operator runs it: the release binary in tmux at 80x24, by keys only.
//! A real dated backup folder under a configured root; the Backups tab → `r` → the form →
//! choose → where (typed) → verify → the dry run's listing shown before the typed
//! confirmation → extract → compare; then the files are checked byte for byte and the
//! Backups tab shows the backup verified.

#[path = "runbook_common.rs"]
mod common;
mod support;

use support::tmux::Tui;

fn binary() -> Vec<u8> {
    (0..50_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect()
}

#[test]
fn restore_files_by_keys_shows_the_listing_and_restores_byte_for_byte() {
    let Some(tui) = Tui::start("restore-files") else {
        return;
    };
    let root = tui.home().join("backups");
    let day = chrono::Local::now().format("%Y-%m-%d").to_string();
    let backup = root.join("web/daily").join(&day);
    let bin = binary();
    common::make_backup(
        &backup,
        &[(
            "config",
            &[
                ("etc/app/app.conf", b"setting = 1\n"),
                ("etc/app/data.bin", &bin),
            ],
        )],
    );
    let target = tui.home().join("srv");
    std::fs::create_dir_all(target.join("etc/app")).unwrap();
    std::fs::write(target.join("etc/app/app.conf"), b"setting = broken\n").unwrap();
    std::fs::write(target.join("keep.txt"), b"not in the backup").unwrap();
    std::fs::create_dir_all(tui.config_dir()).unwrap();
    std::fs::write(
        tui.config_dir().join("config.toml"),
        format!("[backups]\nroots = [\"{}\"]\n", root.display()),
    )
    .unwrap();
    let target_s = target.to_str().unwrap();

    tui.launch(80, 24, &[], &[]);
    tui.wait_for("1 Over");
    tui.key("3");
    tui.wait_for("not verified");
    tui.key("r");
    tui.wait_for("Restore files from a tar backup — before it starts");
    // The form's one question has its default (`all`): Enter to the button, Enter starts.
    tui.keys(&["Enter", "Enter"]);
    tui.wait_for("Choose the backup");
    tui.key("Enter");
    tui.wait_for("Where to restore");
    tui.type_text(target_s);
    tui.key("Enter");
    tui.wait_for("Verify the backup");
    tui.key("Enter");
    tui.wait_for("Dry run: what would change");
    tui.key("Enter");
    // The confirmation shows what the dry run found, above the box to type in.
    let confirm = tui.wait_for("to confirm:");
    assert!(
        confirm.contains("changed etc/app/app.conf")
            && confirm.contains("new     etc/app/data.bin"),
        "the listing is on the confirmation screen:\n{confirm}"
    );
    tui.type_text(target_s);
    tui.key("Enter");
    tui.wait_for("Restore  [extract]");
    tui.key("Enter");
    tui.wait_for("Verify the restored files");
    tui.key("Enter");
    let done = tui.wait_for("Run finished: every step done.");
    assert!(done.contains("identical to the backup"), "{done}");

    assert_eq!(std::fs::read(target.join("etc/app/data.bin")).unwrap(), bin);
    assert_eq!(
        std::fs::read(target.join("etc/app/app.conf")).unwrap(),
        b"setting = 1\n"
    );
    assert_eq!(
        std::fs::read(target.join("keep.txt")).unwrap(),
        b"not in the backup"
    );

    // Back on the Backups tab: the run's verification counts as one.
    tui.key("Escape");
    tui.key("3");
    let tab = tui.wait_for("ok ");
    assert!(!tab.contains("not verified"), "{tab}");
    assert_eq!(tui.quit(), 0);
}
