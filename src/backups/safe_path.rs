//! Reading files named by a manifest without ever leaving the backup folder.
//!
//! A manifest is written by a script and may be wrong or hostile: absolute paths, `..`
//! components and symlinks that lead elsewhere are refused before anything is opened. The
//! folder is canonicalized once; every file is resolved and must stay under it; the final
//! open uses `O_NOFOLLOW` on a path that has no symlinks left, so a file swapped for a
//! symlink between the check and the open fails instead of being followed.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

/// Why a manifest path is not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    Absolute,
    ParentComponent,
    /// Resolves (through a symlink) to this place outside the backup folder.
    Escapes(PathBuf),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Empty => write!(f, "empty path"),
            Refusal::Absolute => write!(f, "absolute path"),
            Refusal::ParentComponent => write!(f, "path with a `..` component"),
            Refusal::Escapes(p) => {
                write!(f, "symlink leading outside the backup to {}", p.display())
            }
        }
    }
}

/// A manifest path made relative and harmless, or why it is refused. Nothing is touched on
/// disk.
pub fn check_relative(path: &str) -> Result<PathBuf, Refusal> {
    if path.is_empty() || path.contains('\0') {
        return Err(Refusal::Empty);
    }
    let mut out = PathBuf::new();
    for c in Path::new(path).components() {
        match c {
            Component::Prefix(_) | Component::RootDir => return Err(Refusal::Absolute),
            Component::ParentDir => return Err(Refusal::ParentComponent),
            Component::CurDir => {}
            Component::Normal(n) => out.push(n),
        }
    }
    if out.as_os_str().is_empty() {
        return Err(Refusal::Empty);
    }
    Ok(out)
}

#[derive(Debug)]
pub enum Resolved {
    /// A path under the folder with no symlinks in it, and its metadata.
    File(PathBuf, std::fs::Metadata),
    Missing,
    NotAFile,
    Refused(Refusal),
    Error(io::Error),
}

/// Resolves `rel` (already passed through [`check_relative`]) under `base`, which must be
/// canonical.
pub fn resolve_inside(base: &Path, rel: &Path) -> Resolved {
    let joined = base.join(rel);
    // Fast path for the usual flat backup folder: one lstat, no canonicalize.
    if rel.components().count() == 1 {
        match std::fs::symlink_metadata(&joined) {
            Ok(m) if m.file_type().is_file() => return Resolved::File(joined, m),
            Ok(m) if m.file_type().is_dir() => return Resolved::NotAFile,
            Ok(_) => {} // a symlink (or a device): resolve it below
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Resolved::Missing,
            Err(e) => return Resolved::Error(e),
        }
    }
    let canon = match std::fs::canonicalize(&joined) {
        Ok(c) => c,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // A dangling symlink may still point outside; say so rather than "missing".
            if let Ok(target) = std::fs::read_link(&joined) {
                let abs = joined.parent().unwrap_or(base).join(&target);
                if !lexically_inside(base, &abs) {
                    return Resolved::Refused(Refusal::Escapes(target));
                }
            }
            return Resolved::Missing;
        }
        Err(e) => return Resolved::Error(e),
    };
    if !canon.starts_with(base) {
        return Resolved::Refused(Refusal::Escapes(canon));
    }
    match std::fs::symlink_metadata(&canon) {
        Ok(m) if m.file_type().is_file() => Resolved::File(canon, m),
        Ok(_) => Resolved::NotAFile,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Resolved::Missing,
        Err(e) => Resolved::Error(e),
    }
}

fn lexically_inside(base: &Path, p: &Path) -> bool {
    let mut parts: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                parts.pop();
            }
            Component::CurDir => {}
            c => parts.push(c),
        }
    }
    parts.iter().collect::<PathBuf>().starts_with(base)
}

/// Opens a regular file for reading without following a symlink in the last component.
pub fn open_nofollow(path: &Path) -> io::Result<File> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    if !f.metadata()?.file_type().is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_pass_and_escapes_are_refused() {
        assert_eq!(
            check_relative("a/b.tar.gz").unwrap(),
            PathBuf::from("a/b.tar.gz")
        );
        assert_eq!(check_relative("./a").unwrap(), PathBuf::from("a"));
        assert_eq!(check_relative("/etc/passwd"), Err(Refusal::Absolute));
        assert_eq!(check_relative("../x"), Err(Refusal::ParentComponent));
        assert_eq!(check_relative("a/../../x"), Err(Refusal::ParentComponent));
        assert_eq!(check_relative(""), Err(Refusal::Empty));
        assert_eq!(check_relative("."), Err(Refusal::Empty));
    }

    #[test]
    fn symlinks_out_of_the_folder_are_refused_inside_ones_allowed() {
        let t = tempfile::tempdir().unwrap();
        let base = t.path().join("b");
        std::fs::create_dir_all(base.join("sub")).unwrap();
        std::fs::write(t.path().join("secret"), "x").unwrap();
        std::fs::write(base.join("sub/data"), "d").unwrap();
        std::os::unix::fs::symlink(t.path().join("secret"), base.join("out")).unwrap();
        std::os::unix::fs::symlink("sub/data", base.join("in")).unwrap();
        std::os::unix::fs::symlink("../../nowhere", base.join("dangling")).unwrap();
        std::os::unix::fs::symlink(t.path(), base.join("dirout")).unwrap();
        let base = std::fs::canonicalize(&base).unwrap();
        assert!(matches!(
            resolve_inside(&base, Path::new("out")),
            Resolved::Refused(_)
        ));
        assert!(matches!(
            resolve_inside(&base, Path::new("dirout/secret")),
            Resolved::Refused(_)
        ));
        assert!(matches!(
            resolve_inside(&base, Path::new("dangling")),
            Resolved::Refused(_)
        ));
        assert!(matches!(
            resolve_inside(&base, Path::new("in")),
            Resolved::File(..)
        ));
        assert!(matches!(
            resolve_inside(&base, Path::new("sub/data")),
            Resolved::File(..)
        ));
        assert!(matches!(
            resolve_inside(&base, Path::new("nope")),
            Resolved::Missing
        ));
        assert!(open_nofollow(&base.join("out")).is_err());
    }
}
