//! A source's lines, stored compactly: chunks of raw bytes with the end offset of each line
//! (found with memchr), never a `String` per line. A chunk is shared (`Arc`), so a snapshot
//! of the store for a search off the UI task costs a few pointer copies. The cap drops the
//! oldest lines and counts them, so the view can say how many are gone.

use std::sync::Arc;

use super::level::{self, Level};
use super::stamp;

/// Complete lines: their bytes (newlines included, as read) and where each ends.
#[derive(Debug, Default)]
pub struct Chunk {
    bytes: Vec<u8>,
    /// Offset of each line's `\n` (or of the end, for a last line without one).
    ends: Vec<u32>,
    /// The level detected in each line (`Level::code`), for the level filter and the strip.
    levels: Vec<u8>,
    /// Error lines per hour (hour start, Unix seconds): from the line's own timestamp, or
    /// the last one seen before it in the chunk.
    pub errors_by_hour: Vec<(i64, u32)>,
}

impl Chunk {
    /// Indexes `bytes`, which hold whole lines (the last may lack its newline).
    pub fn new(bytes: Vec<u8>) -> Chunk {
        Chunk::with_levels(bytes, None)
    }

    /// Indexes `bytes` with the levels already known (lines tagged with their source no
    /// longer start as their format does, so their levels come from the source's chunks).
    pub fn with_levels(bytes: Vec<u8>, levels: Option<Vec<u8>>) -> Chunk {
        debug_assert!(bytes.len() < u32::MAX as usize);
        let mut ends: Vec<u32> = Vec::with_capacity(bytes.len() / 64 + 1);
        ends.extend(memchr::memchr_iter(b'\n', &bytes).map(|p| p as u32));
        if ends.last().map_or(0, |&e| e as usize + 1) < bytes.len() {
            ends.push(bytes.len() as u32);
        }
        let mut c = Chunk {
            bytes,
            ends,
            levels: Vec::new(),
            errors_by_hour: Vec::new(),
        };
        c.classify(levels);
        c
    }

    fn classify(&mut self, known: Option<Vec<u8>>) {
        let known = known.filter(|k| k.len() == self.ends.len());
        let mut levels = Vec::with_capacity(self.ends.len());
        let mut hours: Vec<(i64, u32)> = Vec::new();
        let mut last_hour: Option<i64> = None;
        for i in 0..self.ends.len() {
            let line = self.line(i);
            let lv = match &known {
                Some(k) => Level::from_code(k[i]),
                None => level::detect(line),
            };
            levels.push(lv.map_or(0, Level::code));
            if lv.is_some_and(|l| l >= Level::Error) {
                if let Some(t) = stamp::parse(line) {
                    last_hour = Some(t.timestamp().div_euclid(3600) * 3600);
                }
                if let Some(h) = last_hour {
                    match hours.last_mut() {
                        Some((lh, n)) if *lh == h => *n += 1,
                        _ => hours.push((h, 1)),
                    }
                }
            } else if last_hour.is_none() || i.is_multiple_of(64) {
                // Cheap: only some lines are parsed for the running hour when not errors.
                if let Some(t) = stamp::parse(line) {
                    last_hour = Some(t.timestamp().div_euclid(3600) * 3600);
                }
            }
        }
        self.levels = levels;
        self.errors_by_hour = hours;
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn ends(&self) -> &[u32] {
        &self.ends
    }

    fn start(&self, i: usize) -> usize {
        if i == 0 {
            0
        } else {
            self.ends[i - 1] as usize + 1
        }
    }

    /// Line `i` without its newline.
    pub fn line(&self, i: usize) -> &[u8] {
        &self.bytes[self.start(i)..self.ends[i] as usize]
    }

    pub fn level(&self, i: usize) -> Option<Level> {
        Level::from_code(self.levels[i])
    }

    /// Offset where line `i` starts.
    pub fn line_start(&self, i: usize) -> usize {
        self.start(i)
    }
}

/// A source's lines: shared chunks, the lines dropped by the cap.
#[derive(Debug, Clone)]
pub struct LineStore {
    chunks: Vec<Arc<Chunk>>,
    /// Index of each chunk's first line among the lines kept (after `skip`).
    firsts: Vec<usize>,
    /// Lines of the first chunk already dropped.
    skip: usize,
    len: usize,
    dropped: u64,
    cap: usize,
}

pub const DEFAULT_CAP: usize = 1_000_000;

/// Chunks smaller than this take appended lines in (re-indexing at most this much).
const MERGE_BELOW: usize = 256 * 1024;

impl Default for LineStore {
    fn default() -> Self {
        LineStore::new(DEFAULT_CAP)
    }
}

impl LineStore {
    pub fn new(cap: usize) -> LineStore {
        LineStore {
            chunks: Vec::new(),
            firsts: Vec::new(),
            skip: 0,
            len: 0,
            dropped: 0,
            cap: cap.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Lines dropped because the cap was reached.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    pub fn push(&mut self, chunk: Arc<Chunk>) {
        if chunk.is_empty() {
            return;
        }
        // Following appends small chunks often: they are merged into the last one, so a
        // day of following is a few chunks, not hundreds of thousands.
        if let Some(last) = self.chunks.last_mut() {
            if last.bytes.len() + chunk.bytes.len() <= MERGE_BELOW {
                let mut bytes = Vec::with_capacity(last.bytes.len() + chunk.bytes.len() + 1);
                bytes.extend_from_slice(&last.bytes);
                if bytes.last().is_some_and(|&b| b != b'\n') {
                    bytes.push(b'\n');
                }
                bytes.extend_from_slice(&chunk.bytes);
                let mut levels = last.levels.clone();
                levels.extend_from_slice(&chunk.levels);
                *last = Arc::new(Chunk::with_levels(bytes, Some(levels)));
                self.len += chunk.len();
                self.enforce_cap();
                return;
            }
        }
        self.firsts.push(self.len);
        self.len += chunk.len();
        self.chunks.push(chunk);
        self.enforce_cap();
    }

    pub fn push_bytes(&mut self, bytes: Vec<u8>) {
        self.push(Arc::new(Chunk::new(bytes)));
    }

    fn enforce_cap(&mut self) {
        if self.len <= self.cap {
            return;
        }
        let mut excess = self.len - self.cap;
        self.dropped += excess as u64;
        // Whole chunks first, then lines of the first one.
        while let Some(first) = self.chunks.first() {
            let avail = first.len() - self.skip;
            if avail <= excess {
                excess -= avail;
                self.chunks.remove(0);
                self.skip = 0;
            } else {
                self.skip += excess;
                break;
            }
        }
        self.len = self.cap;
        let mut n = 0;
        self.firsts.clear();
        for (i, c) in self.chunks.iter().enumerate() {
            self.firsts.push(n);
            n += c.len() - if i == 0 { self.skip } else { 0 };
        }
    }

    fn locate(&self, i: usize) -> (usize, usize) {
        let ci = self.firsts.partition_point(|&f| f <= i) - 1;
        let off = i - self.firsts[ci] + if ci == 0 { self.skip } else { 0 };
        (ci, off)
    }

    /// Line `i` (0 is the oldest kept), without its newline.
    pub fn line(&self, i: usize) -> &[u8] {
        let (c, off) = self.locate(i);
        self.chunks[c].line(off)
    }

    pub fn level(&self, i: usize) -> Option<Level> {
        let (c, off) = self.locate(i);
        self.chunks[c].level(off)
    }

    /// The chunks with the index of their first kept line and the lines to skip in them.
    pub fn segments(&self) -> impl Iterator<Item = (usize, &Arc<Chunk>, usize)> + '_ {
        self.chunks
            .iter()
            .enumerate()
            .map(|(i, c)| (self.firsts[i], c, if i == 0 { self.skip } else { 0 }))
    }

    /// Error lines per hour over every chunk kept.
    pub fn errors_by_hour(&self) -> std::collections::BTreeMap<i64, u32> {
        let mut m = std::collections::BTreeMap::new();
        for c in &self.chunks {
            for &(h, n) in &c.errors_by_hour {
                *m.entry(h).or_insert(0) += n;
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_back_across_chunks_and_the_cap_counts_what_it_drops() {
        let mut s = LineStore::new(5);
        s.push_bytes(b"a\nb\nc\n".to_vec());
        s.push_bytes(b"d\ne\nf\ng".to_vec());
        assert_eq!(s.len(), 5);
        assert_eq!(s.dropped(), 2);
        let got: Vec<&[u8]> = (0..s.len()).map(|i| s.line(i)).collect();
        assert_eq!(got, [&b"c"[..], b"d", b"e", b"f", b"g"]);
        s.push_bytes(b"h\ni\n".to_vec());
        assert_eq!(s.dropped(), 4);
        assert_eq!(s.line(0), b"e");
        assert_eq!(s.line(4), b"i");
    }

    #[test]
    fn empty_lines_and_a_missing_last_newline() {
        let c = Chunk::new(b"\n\nx".to_vec());
        assert_eq!(c.len(), 3);
        assert_eq!(c.line(0), b"");
        assert_eq!(c.line(2), b"x");
        assert_eq!(Chunk::new(b"x\n".to_vec()).len(), 1);
    }
}
