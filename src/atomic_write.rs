//! The one way toban replaces a file whose contents matter (a secret, a run's status, a
//! runbook's `write_file`): written under a temporary name in the same folder, synced,
//! given its owner and mode, then renamed over the old one. A reader never sees half a file, and a
//! crash leaves either the old file or the whole new one.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Replaces `path` with `bytes`, mode `mode` (exactly: the umask does not narrow it).
pub fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    write_as(path, bytes, mode, None)
}

/// Replaces `path` with `bytes`, keeping the owner, group and mode of the file it replaces
/// (an application reading a secret as its own user, or through its group, still can);
/// a new file gets `mode` and toban's user. `mode` given: that mode, the owner still kept.
/// Fails, leaving the old file as it was, when the owner cannot be kept (only root can
/// give a file to another user).
pub fn replace_keeping_owner(path: &Path, bytes: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(old) => write_as(
            path,
            bytes,
            mode.unwrap_or(old.mode() & 0o7777),
            Some((old.uid(), old.gid())),
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            write_as(path, bytes, mode.unwrap_or(0o600), None)
        }
        Err(e) => Err(e),
    }
}

fn write_as(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} has no file name", path.display()),
        )
    })?;
    // Unique per process and call: two writers of one path never share a temporary file.
    let tmp = dir.join(format!(
        ".{}.toban-{}-{:08x}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        rand::random::<u32>()
    ));
    let result = (|| {
        // Created private: the secret is never readable by others, not even for a moment.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        if let Some((uid, gid)) = owner {
            use std::os::unix::fs::MetadataExt;
            let mine = f.metadata()?;
            if (mine.uid(), mine.gid()) != (uid, gid) {
                std::os::unix::fs::fchown(&f, Some(uid), Some(gid)).map_err(|e| {
                    std::io::Error::new(
                        e.kind(),
                        format!("cannot keep its owner {uid}:{gid} ({e})"),
                    )
                })?;
            }
        }
        // After the chown, which clears set-id bits.
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_with_the_exact_mode_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secret");
        std::fs::write(&p, "old").unwrap();
        write_atomically(&p, b"new", 0o640).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1);
        assert!(write_atomically(&dir.path().join("no/such/dir/f"), b"x", 0o600).is_err());
    }

    #[test]
    fn a_replaced_file_keeps_its_mode_and_a_new_one_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secret");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        replace_keeping_owner(&p, b"first", None).unwrap();
        assert_eq!(mode(&p), 0o600);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        replace_keeping_owner(&p, b"second", None).unwrap();
        assert_eq!(mode(&p), 0o640);
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        replace_keeping_owner(&p, b"third", Some(0o600)).unwrap();
        assert_eq!(mode(&p), 0o600);
    }
}
