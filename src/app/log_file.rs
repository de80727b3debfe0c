//! toban's own log (`<state dir>/toban.log`): created 0600 and tightened to 0600 if an older
//! toban left it wider — it names hosts, runs and errors that are nobody else's business.

use std::fs::File;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const NAME: &str = "toban.log";

/// The log file opened for appending, private to its owner.
pub fn open(state_dir: &Path) -> std::io::Result<File> {
    let path = state_dir.join(NAME);
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)?;
    if f.metadata()?.permissions().mode() & 0o077 != 0 {
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_private_whether_new_or_left_wide_by_an_older_toban() {
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        drop(open(dir.path()).unwrap());
        assert_eq!(mode(&dir.path().join(NAME)), 0o600);
        std::fs::set_permissions(
            dir.path().join(NAME),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        drop(open(dir.path()).unwrap());
        assert_eq!(mode(&dir.path().join(NAME)), 0o600);
    }
}
