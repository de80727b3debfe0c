//! Several sources in one view: their lines interleaved by time, each tagged with its source
//! (`[name] line`). A line's time is its own (`stamp::parse`), else the time of the line
//! before it in its source; lines before any time come first. Sources are mostly in time
//! order already, so a heap over their heads merges them in one pass.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::level::Level;
use super::stamp;
use super::store::{Chunk, LineStore};

/// Appends `line` tagged with `name` (and its newline) to `out`.
pub fn tag(name: &str, line: &[u8], out: &mut Vec<u8>) {
    out.push(b'[');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"] ");
    out.extend_from_slice(line);
    out.push(b'\n');
}

/// Each line's time in milliseconds (inherited when it has none; `i64::MIN` before any).
fn times(store: &LineStore) -> Vec<i64> {
    let mut last = i64::MIN;
    let mut lines = store.lines();
    (0..store.len())
        .map(|i| {
            if let Some(t) = stamp::parse(lines.get(i)) {
                last = t.timestamp_millis();
            }
            last
        })
        .collect()
}

/// The order of every line of `stores` by time, as (store, line) pairs; ties keep the
/// stores' order, and each store's own order is kept.
pub fn order(stores: &[&LineStore]) -> Vec<(usize, usize)> {
    let times: Vec<Vec<i64>> = stores.iter().map(|s| times(s)).collect();
    let mut heap = BinaryHeap::new();
    for (k, t) in times.iter().enumerate() {
        if let Some(&first) = t.first() {
            heap.push(Reverse((first, k, 0usize)));
        }
    }
    let mut out = Vec::with_capacity(times.iter().map(Vec::len).sum());
    while let Some(Reverse((_, k, i))) = heap.pop() {
        out.push((k, i));
        if let Some(&next) = times[k].get(i + 1) {
            heap.push(Reverse((next, k, i + 1)));
        }
    }
    out
}

/// The lines of every `(name, store)` interleaved by time, tagged with their names.
pub fn merge(sources: &[(&str, &LineStore)], cap: usize) -> LineStore {
    let stores: Vec<&LineStore> = sources.iter().map(|(_, s)| *s).collect();
    let mut out = LineStore::new(cap);
    let mut bytes = Vec::new();
    let mut levels = Vec::new();
    let mut lines: Vec<_> = stores.iter().map(|s| s.lines()).collect();
    for (k, i) in order(&stores) {
        let (name, store) = sources[k];
        tag(name, lines[k].get(i), &mut bytes);
        levels.push(store.level(i).map_or(0, Level::code));
        if bytes.len() >= 8 << 20 {
            flush(&mut out, &mut bytes, &mut levels);
        }
    }
    flush(&mut out, &mut bytes, &mut levels);
    out
}

/// A source's new chunk, tagged, for the interleaved view.
pub fn tagged_chunk(name: &str, chunk: &Chunk) -> Chunk {
    let mut bytes = Vec::with_capacity(chunk.raw_len() + chunk.len() * (name.len() + 3));
    let mut levels = Vec::with_capacity(chunk.len());
    chunk.for_each_line(0, |i, line| {
        tag(name, line, &mut bytes);
        levels.push(chunk.level(i).map_or(0, Level::code));
    });
    Chunk::with_levels(bytes, Some(levels))
}

fn flush(out: &mut LineStore, bytes: &mut Vec<u8>, levels: &mut Vec<u8>) {
    if !bytes.is_empty() {
        out.push(std::sync::Arc::new(Chunk::with_levels(
            std::mem::take(bytes),
            Some(std::mem::take(levels)),
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_interleave_by_time_tagged_and_keep_their_levels() {
        let mut a = LineStore::new(100);
        a.push_bytes(
            b"2026-12-03T07:00:00Z INFO a1\n  continued\n2026-12-03T07:00:02Z ERROR a2\n".to_vec(),
        );
        let mut b = LineStore::new(100);
        b.push_bytes(
            b"{\"time\":\"2026-12-03T07:00:01Z\",\"level\":\"error\"}\n2026-12-03T07:00:03Z b2\n"
                .to_vec(),
        );
        let m = merge(&[("a", &a), ("b", &b)], 100);
        let got: Vec<String> = (0..m.len())
            .map(|i| String::from_utf8_lossy(&m.line(i)).into_owned())
            .collect();
        assert_eq!(
            got,
            [
                "[a] 2026-12-03T07:00:00Z INFO a1",
                "[a]   continued",
                "[b] {\"time\":\"2026-12-03T07:00:01Z\",\"level\":\"error\"}",
                "[a] 2026-12-03T07:00:02Z ERROR a2",
                "[b] 2026-12-03T07:00:03Z b2",
            ]
        );
        assert_eq!(m.level(2), Some(Level::Error));
        assert_eq!(m.level(0), Some(Level::Info));
    }
}
