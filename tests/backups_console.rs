//! The Backups tab by keys: `Enter` shows the selected backup in full — path, time, size,
//! job, problems, verification, the service's drills — and `Esc` goes back.

mod common;

use std::sync::Arc;

use chrono::Duration;
use common::console::Console;
use toban::backups::config::BackupsConfig;
use toban::backups::fixture::dump;
use toban::backups::provider::BackupsUpdate;
use toban::backups::scan::scan_once;
use toban::state::Msg;

#[test]
fn enter_shows_the_selected_backup_in_full_and_esc_goes_back() {
    let mut c = Console::shipped();
    let t = tempfile::tempdir().unwrap();
    let now = c.s.now;
    for d in 0..2 {
        dump(
            t.path(),
            "backup_mgmt",
            Some("db"),
            now - Duration::days(d) - Duration::hours(6),
            b"CREATE TABLE t (id int);\n",
            true,
        )
        .unwrap();
    }
    let cfg = BackupsConfig {
        roots: vec![t.path().to_path_buf()],
        storage_warn: 100.0,
        storage_crit: 100.0,
        ..Default::default()
    };
    c.s.backups.configured = true;
    c.msg(Msg::Backups(BackupsUpdate::Catalog(Arc::new(scan_once(
        &cfg, now,
    )))));
    c.keys("3 <Enter>");
    assert!(c.s.backups.detail);
    let screen = c.screen(80, 24);
    for want in [
        "backup_mgmt dump",
        "the newest good backup of this service",
        "Verification: never verified",
        "Restore drills of backup_mgmt: none recorded",
        "Esc back",
    ] {
        assert!(screen.contains(want), "`{want}` missing:\n{screen}");
    }
    let root = t.path().display().to_string();
    // The temp folder's name and its disk's fill level change from run to run.
    let wide = c.screen(160, 48).replace(&root, "<root>");
    let wide = match wide.find("% full") {
        Some(i) => {
            let start = wide[..i].rfind(' ').map_or(i, |s| s + 1);
            format!("{}NN{}", &wide[..start], &wide[i..])
        }
        None => wide,
    };
    insta::assert_snapshot!("backup_detail_160x48", wide);
    // The detail is of the selection: `d` drills the backup shown.
    c.keys("<Esc>");
    assert!(!c.s.backups.detail);
}
