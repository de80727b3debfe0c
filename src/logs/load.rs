//! Loading a file into a [`LineStore`]: the tail first (the last screen shows at once,
//! whatever the file's size), then the whole file in large blocks, each indexed with memchr
//! as it arrives.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use super::follow::READ_BLOCK;
use super::store::{Chunk, LineStore};

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
/// follower. Returns the store and the offset read up to. Each block read is indexed and
/// sealed (compressed) in parallel parts, and the read buffer is reused, so the file's raw
/// bytes are never all in memory.
pub fn full(path: &Path, end: u64, cap: usize) -> io::Result<(LineStore, u64)> {
    let mut f = File::open(path)?;
    let mut s = LineStore::new(cap);
    // What was read and not yet stored: a line still without its newline, then a block.
    let mut buf: Vec<u8> = Vec::new();
    let mut read = 0u64;
    while read < end {
        let want = ((end - read) as usize).min(READ_BLOCK);
        let had = buf.len();
        buf.reserve(want);
        (&mut f).take(want as u64).read_to_end(&mut buf)?;
        let got = buf.len() - had;
        if got == 0 {
            break;
        }
        read += got as u64;
        // The carried part has no newline, so only the new bytes are looked at.
        if let Some(last) = memchr::memrchr(b'\n', &buf[had..]).map(|p| had + p) {
            for c in sealed_parts(&buf[..=last]) {
                s.push(Arc::new(c));
            }
            buf.drain(..=last);
        }
    }
    Ok((s, read - buf.len() as u64))
}

/// `bytes` (whole lines) as sealed chunks, one part per core, in order.
fn sealed_parts(bytes: &[u8]) -> Vec<Chunk> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = cores.min(bytes.len() / (1 << 20) + 1);
    let mut cuts = vec![0];
    for k in 1..n {
        let at = (bytes.len() * k / n).max(cuts[cuts.len() - 1]);
        let cut = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |p| at + p + 1);
        cuts.push(cut);
    }
    cuts.push(bytes.len());
    cuts.dedup();
    let parts: Vec<&[u8]> = cuts.windows(2).map(|w| &bytes[w[0]..w[1]]).collect();
    let Some((head, rest)) = parts.split_first() else {
        return Vec::new();
    };
    std::thread::scope(|sc| {
        let others: Vec<_> = rest
            .iter()
            .map(|p| sc.spawn(move || Chunk::sealed(p)))
            .collect();
        let mut out = vec![Chunk::sealed(head)];
        for h in others {
            out.push(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        out
    })
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
        assert_eq!(&*t.line(t.len() - 1), b"line 49999");
        let (f, upto) = full(&p, end, 1_000_000).unwrap();
        assert_eq!(f.len(), 50_000);
        assert_eq!(upto, text.len() as u64);
        assert_eq!(&*f.line(12_345), b"line 12345");
    }
}
