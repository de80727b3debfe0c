//! A source's lines, stored compactly: chunks of raw bytes with the end offset of each line
//! (found with memchr), never a `String` per line. A chunk is shared (`Arc`), so a snapshot
//! of the store for a search off the UI task costs a few pointer copies. The cap drops the
//! oldest lines and counts them, so the view can say how many are gone.

use std::borrow::Cow;
use std::sync::Arc;

use super::level::{self, Level};
use super::packed::Packed;
use super::stamp;

/// Complete lines: their bytes (newlines included, as read) and where each ends.
#[derive(Debug)]
pub struct Chunk {
    data: Data,
    /// Offset of each line's `\n` (or of the end, for a last line without one).
    ends: Vec<u32>,
    /// The level detected in each line (`Level::code`), for the level filter and the strip.
    levels: Vec<u8>,
    /// Error lines per hour (hour start, Unix seconds): from the line's own timestamp, or
    /// the last one seen before it in the chunk.
    pub errors_by_hour: Vec<(i64, u32)>,
}

/// A chunk still taking appended lines is kept as read; a sealed one compressed.
#[derive(Debug)]
enum Data {
    Raw(Vec<u8>),
    Packed(Packed),
}

impl Default for Chunk {
    fn default() -> Self {
        Chunk::new(Vec::new())
    }
}

fn slice_line<'b>(bytes: &'b [u8], ends: &[u32], i: usize) -> &'b [u8] {
    let start = if i == 0 { 0 } else { ends[i - 1] as usize + 1 };
    &bytes[start..ends[i] as usize]
}

/// Each line's end, level and the error lines per hour of `bytes` (whole lines).
fn index(bytes: &[u8], known: Option<Vec<u8>>) -> (Vec<u32>, Vec<u8>, Vec<(i64, u32)>) {
    debug_assert!(bytes.len() < u32::MAX as usize);
    let mut ends: Vec<u32> = Vec::with_capacity(bytes.len() / 64 + 1);
    ends.extend(memchr::memchr_iter(b'\n', bytes).map(|p| p as u32));
    if ends.last().map_or(0, |&e| e as usize + 1) < bytes.len() {
        ends.push(bytes.len() as u32);
    }
    ends.shrink_to_fit();
    let known = known.filter(|k| k.len() == ends.len());
    let mut levels = Vec::with_capacity(ends.len());
    let mut hours: Vec<(i64, u32)> = Vec::new();
    let mut last_hour: Option<i64> = None;
    for i in 0..ends.len() {
        let line = slice_line(bytes, &ends, i);
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
    (ends, levels, hours)
}

impl Chunk {
    /// Indexes `bytes`, which hold whole lines (the last may lack its newline).
    pub fn new(bytes: Vec<u8>) -> Chunk {
        Chunk::with_levels(bytes, None)
    }

    /// Indexes `bytes` with the levels already known (lines tagged with their source no
    /// longer start as their format does, so their levels come from the source's chunks).
    /// A chunk too large to take appended lines is sealed (compressed) at once.
    pub fn with_levels(bytes: Vec<u8>, levels: Option<Vec<u8>>) -> Chunk {
        let (ends, levels, errors_by_hour) = index(&bytes, levels);
        let data = if bytes.len() > MERGE_BELOW {
            Data::Packed(Packed::new(&bytes, &ends))
        } else {
            Data::Raw(bytes)
        };
        Chunk {
            data,
            ends,
            levels,
            errors_by_hour,
        }
    }

    /// Indexes and seals (compresses) `bytes` without taking them: the loader reuses its
    /// read buffer, so a file's raw bytes are never all in memory at once.
    pub fn sealed(bytes: &[u8]) -> Chunk {
        let (ends, levels, errors_by_hour) = index(bytes, None);
        Chunk {
            data: Data::Packed(Packed::new(bytes, &ends)),
            ends,
            levels,
            errors_by_hour,
        }
    }

    /// This chunk compressed, when it is not yet.
    pub fn seal(&self) -> Option<Chunk> {
        let Data::Raw(bytes) = &self.data else {
            return None;
        };
        Some(Chunk {
            data: Data::Packed(Packed::new(bytes, &self.ends)),
            ends: self.ends.clone(),
            levels: self.levels.clone(),
            errors_by_hour: self.errors_by_hour.clone(),
        })
    }

    pub fn is_sealed(&self) -> bool {
        matches!(self.data, Data::Packed(_))
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Length of the lines as read.
    pub fn raw_len(&self) -> usize {
        match &self.data {
            Data::Raw(b) => b.len(),
            Data::Packed(p) => p.len(),
        }
    }

    /// Bytes this chunk holds (text, line ends, levels).
    pub fn heap_size(&self) -> usize {
        let data = match &self.data {
            Data::Raw(b) => b.capacity(),
            Data::Packed(p) => p.heap_size(),
        };
        data + self.ends.capacity() * 4
            + self.levels.capacity()
            + self.errors_by_hour.capacity() * 16
    }

    /// The lines as read (decompressed when sealed).
    pub fn bytes(&self) -> Cow<'_, [u8]> {
        match &self.data {
            Data::Raw(b) => Cow::Borrowed(b),
            Data::Packed(p) => {
                let mut out = Vec::with_capacity(p.len());
                let mut buf = Vec::new();
                for b in 0..p.blocks() {
                    out.extend_from_slice(p.decode(b, &mut buf));
                }
                Cow::Owned(out)
            }
        }
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

    /// Line `i` without its newline (a sealed chunk decompresses the line's block; to read
    /// many lines, use [`LineStore::lines`] or [`Chunk::scan`]).
    pub fn line(&self, i: usize) -> Cow<'_, [u8]> {
        match &self.data {
            Data::Raw(b) => Cow::Borrowed(slice_line(b, &self.ends, i)),
            Data::Packed(p) => {
                let blk = p.block_of(i);
                let base = p.block_start(blk);
                let mut buf = Vec::new();
                let text = p.decode(blk, &mut buf);
                Cow::Owned(text[self.start(i) - base..self.ends[i] as usize - base].to_vec())
            }
        }
    }

    pub fn level(&self, i: usize) -> Option<Level> {
        Level::from_code(self.levels[i])
    }

    /// Offset where line `i` starts.
    pub fn line_start(&self, i: usize) -> usize {
        self.start(i)
    }

    /// The text from line `from` on, in pieces of whole lines: `f(piece, offset)` with the
    /// piece's offset in the chunk. A sealed chunk is decompressed one block at a time into
    /// `buf`.
    pub fn scan(&self, from: usize, buf: &mut Vec<u8>, mut f: impl FnMut(&[u8], usize)) {
        if from >= self.len() {
            return;
        }
        let at = self.start(from);
        match &self.data {
            Data::Raw(b) => f(&b[at..], at),
            Data::Packed(p) => {
                let first = p.block_of(from);
                for blk in first..p.blocks() {
                    let base = p.block_start(blk);
                    let skip = if blk == first { at - base } else { 0 };
                    f(&p.decode(blk, buf)[skip..], base + skip);
                }
            }
        }
    }

    /// Calls `f(i, line)` for each line from `from` on, in order.
    pub fn for_each_line(&self, from: usize, mut f: impl FnMut(usize, &[u8])) {
        let mut i = from;
        let mut buf = Vec::new();
        self.scan(from, &mut buf, |piece, off| {
            let stop = off + piece.len();
            while i < self.len() && (self.ends[i] as usize) <= stop {
                let s = self.start(i) - off;
                let e = (self.ends[i] as usize - off).min(piece.len());
                f(i, &piece[s..e]);
                i += 1;
                if self.ends[i - 1] as usize >= stop {
                    break;
                }
            }
        });
    }
}

/// Reads a store's lines one after another (or near each other), decompressing each block
/// of a sealed chunk once.
pub struct Lines<'a> {
    store: &'a LineStore,
    block: Option<(usize, usize)>,
    buf: Vec<u8>,
}

impl Lines<'_> {
    /// Line `i` (0 is the oldest kept), without its newline.
    pub fn get(&mut self, i: usize) -> &[u8] {
        let store = self.store;
        let (c, off) = store.locate(i);
        let chunk = &store.chunks[c];
        match &chunk.data {
            Data::Raw(b) => slice_line(b, &chunk.ends, off),
            Data::Packed(p) => {
                let blk = p.block_of(off);
                let base = p.block_start(blk);
                if self.block != Some((c, blk)) {
                    p.decode(blk, &mut self.buf);
                    self.block = Some((c, blk));
                }
                &self.buf[chunk.start(off) - base..chunk.ends[off] as usize - base]
            }
        }
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
            if last.raw_len() + chunk.raw_len() <= MERGE_BELOW {
                let mut bytes = Vec::with_capacity(last.raw_len() + chunk.raw_len() + 1);
                bytes.extend_from_slice(&last.bytes());
                if bytes.last().is_some_and(|&b| b != b'\n') {
                    bytes.push(b'\n');
                }
                bytes.extend_from_slice(&chunk.bytes());
                let mut levels = last.levels.clone();
                levels.extend_from_slice(&chunk.levels);
                *last = Arc::new(Chunk::with_levels(bytes, Some(levels)));
                self.len += chunk.len();
                self.enforce_cap();
                return;
            }
        }
        // The last chunk takes no more lines now: it is sealed (compressed).
        if let Some(last) = self.chunks.last_mut() {
            if let Some(sealed) = last.seal() {
                *last = Arc::new(sealed);
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

    /// Line `i` (0 is the oldest kept), without its newline; to read many, [`Self::lines`].
    pub fn line(&self, i: usize) -> Cow<'_, [u8]> {
        let (c, off) = self.locate(i);
        self.chunks[c].line(off)
    }

    /// A reader of lines that decompresses each sealed block once.
    pub fn lines(&self) -> Lines<'_> {
        Lines {
            store: self,
            block: None,
            buf: Vec::new(),
        }
    }

    /// Bytes the kept chunks hold.
    pub fn heap_size(&self) -> usize {
        self.chunks.iter().map(|c| c.heap_size()).sum()
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
        let got: Vec<Vec<u8>> = (0..s.len()).map(|i| s.line(i).to_vec()).collect();
        assert_eq!(got, [&b"c"[..], b"d", b"e", b"f", b"g"]);
        s.push_bytes(b"h\ni\n".to_vec());
        assert_eq!(s.dropped(), 4);
        assert_eq!(&*s.line(0), b"e");
        assert_eq!(&*s.line(4), b"i");
    }

    #[test]
    fn empty_lines_and_a_missing_last_newline() {
        let c = Chunk::new(b"\n\nx".to_vec());
        assert_eq!(c.len(), 3);
        assert_eq!(&*c.line(0), b"");
        assert_eq!(&*c.line(2), b"x");
        assert_eq!(Chunk::new(b"x\n".to_vec()).len(), 1);
    }

    /// Lines of every kind: invalid UTF-8, empty, CR, escapes, a 10 MB line, no last newline.
    fn awkward() -> Vec<u8> {
        let mut b = Vec::new();
        for i in 0..30_000 {
            b.extend_from_slice(
                format!("2026-12-03T07:00:{:02}Z INFO line {i}\n", i % 60).as_bytes(),
            );
            if i % 1000 == 0 {
                b.extend_from_slice(b"bad \xff\xfe \x80 utf-8 \x1b[31mred\r\n\n");
            }
            if i == 12_345 {
                b.extend(std::iter::repeat_n(b'x', 10 << 20));
                b.push(b'\n');
            }
        }
        b.extend_from_slice(b"last without newline \xc3");
        b
    }

    fn expected(bytes: &[u8]) -> Vec<&[u8]> {
        let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        body.split(|&c| c == b'\n').collect()
    }

    #[test]
    fn a_sealed_chunk_gives_back_every_line_byte_for_byte() {
        let bytes = awkward();
        let want = expected(&bytes);
        let c = Chunk::sealed(&bytes);
        assert!(c.is_sealed());
        assert_eq!(c.len(), want.len());
        assert_eq!(c.raw_len(), bytes.len());
        assert!(
            c.heap_size() < bytes.len() / 2,
            "{} bytes kept",
            c.heap_size()
        );
        for (i, w) in want.iter().enumerate().step_by(97) {
            assert_eq!(&*c.line(i), *w, "line {i}");
        }
        let mut n = 0;
        c.for_each_line(0, |i, l| {
            assert_eq!(l, want[i], "line {i}");
            n += 1;
        });
        assert_eq!(n, want.len());
        assert_eq!(&*c.bytes(), &bytes[..]);
        let mut glued = Vec::new();
        c.scan(0, &mut Vec::new(), |piece, off| {
            assert_eq!(off, glued.len());
            glued.extend_from_slice(piece);
        });
        assert_eq!(glued, bytes);
        // The same through a store and its reader, backwards too.
        let mut s = LineStore::new(usize::MAX);
        s.push(Arc::new(Chunk::sealed(&bytes)));
        let mut lines = s.lines();
        for i in (0..want.len()).rev() {
            assert_eq!(lines.get(i), want[i], "line {i}");
        }
        // Levels are kept: the raw chunk and the sealed one agree.
        let raw = Chunk::with_levels(bytes[..100_000].to_vec(), None);
        let cut = bytes[..100_000].iter().rposition(|&b| b == b'\n').unwrap() + 1;
        let sealed = Chunk::sealed(&bytes[..cut]);
        for i in 0..sealed.len() {
            assert_eq!(raw.level(i), sealed.level(i));
        }
    }

    #[test]
    fn following_seals_the_chunk_it_leaves_and_the_cap_still_counts() {
        let mut s = LineStore::new(20_000);
        let mut want = Vec::new();
        for k in 0..40 {
            let mut b = Vec::new();
            for i in 0..1000 {
                let l = format!("{k} INFO appended {i} \u{fffd}");
                b.extend_from_slice(l.as_bytes());
                b.push(b'\n');
                want.push(l.into_bytes());
            }
            s.push_bytes(b);
        }
        assert_eq!(s.len(), 20_000);
        assert_eq!(s.dropped(), 20_000);
        let sealed = s.segments().filter(|(_, c, _)| c.is_sealed()).count();
        assert!(
            sealed >= s.segments().count() - 1,
            "only the open chunk stays raw"
        );
        let mut lines = s.lines();
        for i in 0..s.len() {
            assert_eq!(lines.get(i), &want[20_000 + i][..]);
        }
        assert_eq!(&*s.line(0), &want[20_000][..]);
    }
}
