//! Reading a file and following it by name across rotation, like `tail -F`:
//!
//! - **rename** (logrotate `create`) and **delete-and-recreate**: the name now points at
//!   another inode. The old file is still open here, so it is read to its end first, then
//!   the new file from its start.
//! - **copy-truncate**: same inode, but smaller than what was read (or its first line
//!   changed). Lines written after the last read but before the copy are only in the copy:
//!   a sibling whose first line hashes like ours and which is longer than what was read is
//!   the copy, and its rest is read before the truncated file from its start.
//!
//! No line is lost or shown twice; a last line without its newline is held until it ends.

use std::fs::File;
use std::hash::Hasher;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Reads are this large at most, so one poll of a huge file never holds the thread long.
pub const READ_BLOCK: usize = 8 << 20;

/// What a poll saw besides new lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    None,
    /// The name points at a new file (rename + create, or delete + recreate).
    Replaced,
    /// The file was truncated in place (copy-truncate).
    Truncated,
}

pub struct Follower {
    path: PathBuf,
    file: Option<File>,
    id: (u64, u64),
    offset: u64,
    head: Option<u64>,
    partial: Vec<u8>,
}

fn first_line_hash(path: &Path) -> Option<u64> {
    let mut f = File::open(path).ok()?;
    hash_head(&mut f)
}

fn hash_head(f: &mut File) -> Option<u64> {
    let mut buf = vec![0u8; 4096];
    let n = f.read_at_start(&mut buf)?;
    let end = memchr::memchr(b'\n', &buf[..n])?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    h.write(&buf[..end]);
    Some(h.finish())
}

trait ReadAt {
    fn read_at_start(&mut self, buf: &mut [u8]) -> Option<usize>;
}

impl ReadAt for File {
    fn read_at_start(&mut self, buf: &mut [u8]) -> Option<usize> {
        use std::os::unix::fs::FileExt;
        self.read_at(buf, 0).ok()
    }
}

impl Follower {
    /// Follows `path` from its start (`from_end`: from its current end).
    pub fn open(path: &Path, from_end: bool) -> io::Result<Follower> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        let mut f = Follower {
            path: path.to_path_buf(),
            id: (meta.dev(), meta.ino()),
            offset: if from_end { meta.len() } else { 0 },
            head: None,
            file: Some(file),
            partial: Vec::new(),
        };
        f.head = f.file.as_mut().and_then(hash_head);
        Ok(f)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes read so far from the current file.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Starts at `offset` of the current file (after a tail-first read, say).
    pub fn seek(&mut self, offset: u64) {
        self.offset = offset;
        self.partial.clear();
    }

    /// Appends what is new (whole lines only) to `out`; says whether the file was rotated.
    /// At most about `limit` bytes are read from the current file per call.
    pub fn poll(&mut self, out: &mut Vec<u8>, limit: usize) -> io::Result<Rotation> {
        self.drain(out, limit)?;
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            // Renamed or deleted and not yet recreated: the old file stays open.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Rotation::None),
            Err(e) => return Err(e),
        };
        if (meta.dev(), meta.ino()) != self.id {
            // The old file may still have had a last write in flight: read it to its end.
            self.drain(out, usize::MAX)?;
            self.flush_partial(out);
            let file = File::open(&self.path)?;
            let m = file.metadata()?;
            self.id = (m.dev(), m.ino());
            self.file = Some(file);
            self.offset = 0;
            self.head = self.file.as_mut().and_then(hash_head);
            self.drain(out, limit)?;
            return Ok(Rotation::Replaced);
        }
        let head_now = if self.head.is_some() {
            self.file.as_mut().and_then(hash_head)
        } else {
            None
        };
        let head_changed = self.head.is_some() && head_now != self.head;
        if meta.len() < self.offset || head_changed {
            self.read_copy(out);
            self.flush_partial(out);
            self.offset = 0;
            self.head = self.file.as_mut().and_then(hash_head);
            self.drain(out, limit)?;
            return Ok(Rotation::Truncated);
        }
        if self.head.is_none() {
            self.head = self.file.as_mut().and_then(hash_head);
        }
        Ok(Rotation::None)
    }

    /// Reads the current file from `offset` to its end (or `limit` bytes).
    fn drain(&mut self, out: &mut Vec<u8>, limit: usize) -> io::Result<()> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let len = file.metadata()?.len();
        if len <= self.offset {
            return Ok(());
        }
        let want = ((len - self.offset) as usize).min(limit);
        file.seek(SeekFrom::Start(self.offset))?;
        let mut buf = Vec::with_capacity(want);
        file.take(want as u64).read_to_end(&mut buf)?;
        self.offset += buf.len() as u64;
        self.take_lines(buf, out);
        Ok(())
    }

    fn take_lines(&mut self, buf: Vec<u8>, out: &mut Vec<u8>) {
        match memchr::memrchr(b'\n', &buf) {
            Some(last) => {
                out.append(&mut self.partial);
                out.extend_from_slice(&buf[..=last]);
                self.partial.extend_from_slice(&buf[last + 1..]);
            }
            None => self.partial.extend_from_slice(&buf),
        }
    }

    fn flush_partial(&mut self, out: &mut Vec<u8>) {
        if !self.partial.is_empty() {
            out.append(&mut self.partial);
            out.push(b'\n');
        }
    }

    /// After a copy-truncate: the rest of what we had read, from the copy.
    fn read_copy(&mut self, out: &mut Vec<u8>) {
        let Some(head) = self.head else { return };
        let Some(dir) = self.path.parent() else {
            return;
        };
        let Some(name) = self.path.file_name().and_then(|n| n.to_str()) else {
            return;
        };
        let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        }) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let other = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if other == name || !other.starts_with(name) || other.ends_with(".gz") {
                continue;
            }
            let Ok(m) = e.metadata() else { continue };
            if m.len() <= self.offset || first_line_hash(&p) != Some(head) {
                continue;
            }
            if let Ok(mut f) = File::open(&p) {
                let mut buf = Vec::new();
                if f.seek(SeekFrom::Start(self.offset)).is_ok() && f.read_to_end(&mut buf).is_ok() {
                    self.take_lines(buf, out);
                }
            }
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn append(p: &Path, s: &str) {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .unwrap()
            .write_all(s.as_bytes())
            .unwrap();
    }

    fn poll(f: &mut Follower) -> String {
        let mut out = Vec::new();
        f.poll(&mut out, usize::MAX).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rename_truncate_and_recreate_lose_and_repeat_nothing() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("app.log");
        append(&p, "1\n2\npart");
        let mut f = Follower::open(&p, false).unwrap();
        assert_eq!(poll(&mut f), "1\n2\n");
        append(&p, "ial\n3\n");
        // rename + create, with a write to the old file after the rename
        std::fs::rename(&p, d.path().join("app.log.1")).unwrap();
        append(&d.path().join("app.log.1"), "4\n");
        append(&p, "5\n");
        assert_eq!(poll(&mut f), "partial\n3\n4\n5\n");
        // copy-truncate with lines written after our last read
        append(&p, "6\n");
        std::fs::copy(&p, d.path().join("app.log.2")).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&p)
            .unwrap();
        append(&p, "7\n");
        assert_eq!(poll(&mut f), "6\n7\n");
        // delete and recreate
        std::fs::remove_file(&p).unwrap();
        assert_eq!(poll(&mut f), "");
        append(&p, "8\n");
        assert_eq!(poll(&mut f), "8\n");
    }
}
