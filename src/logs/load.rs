//! Loading a file into a [`LineStore`]: the tail first (the last screen shows at once,
//! whatever the file's size), then the whole file in large blocks, each indexed with memchr
//! as it arrives.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use super::follow::READ_BLOCK;
use super::store::LineStore;

/// How much of the end is read first: a few screens of ordinary lines.
pub const TAIL: u64 = 64 * 1024;

/// The last lines of `path` (whole lines from its last `TAIL` bytes up to `end`).
pub fn tail(path: &Path, end: u64, cap: usize) -> io::Result<LineStore> {
    let mut f = File::open(path)?;
    let start = end.saturating_sub(TAIL);
    f.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::with_capacity((end - start) as usize);
    f.take(end - start).read_to_end(&mut buf)?;
    if start > 0 {
        // Drop the first, probably partial, line.
        let cut = memchr::memchr(b'\n', &buf).map_or(buf.len(), |p| p + 1);
        buf.drain(..cut);
    }
    cut_partial(&mut buf);
    let mut s = LineStore::new(cap);
    s.push_bytes(buf);
    Ok(s)
}

/// Bytes `0..end` of `path` as whole lines; a last line without a newline is left for the
/// follower. Returns the store and the offset read up to.
pub fn full(path: &Path, end: u64, cap: usize) -> io::Result<(LineStore, u64)> {
    let mut f = File::open(path)?;
    let mut s = LineStore::new(cap);
    let mut carry: Vec<u8> = Vec::new();
    let mut read = 0u64;
    while read < end {
        let want = ((end - read) as usize).min(READ_BLOCK);
        let mut buf = std::mem::take(&mut carry);
        let had = buf.len();
        buf.reserve(want);
        (&mut f).take(want as u64).read_to_end(&mut buf)?;
        let got = buf.len() - had;
        if got == 0 {
            break;
        }
        read += got as u64;
        match memchr::memrchr(b'\n', &buf) {
            Some(last) => {
                carry = buf.split_off(last + 1);
                s.push_bytes(buf);
            }
            None => carry = buf,
        }
    }
    Ok((s, read - carry.len() as u64))
}

fn cut_partial(buf: &mut Vec<u8>) {
    let keep = memchr::memrchr(b'\n', buf).map_or(0, |p| p + 1);
    buf.truncate(keep);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_then_full_agree_on_the_last_lines() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("big.log");
        let text: String = (0..50_000).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&p, format!("{text}partial")).unwrap();
        let end = std::fs::metadata(&p).unwrap().len();
        let t = tail(&p, end, 1_000_000).unwrap();
        assert!(t.len() > 1000 && t.len() < 50_000);
        assert_eq!(t.line(t.len() - 1), b"line 49999");
        let (f, upto) = full(&p, end, 1_000_000).unwrap();
        assert_eq!(f.len(), 50_000);
        assert_eq!(upto, text.len() as u64);
        assert_eq!(f.line(12_345), b"line 12345");
    }
}
