//! Finding the lines that match: the regex runs over a whole chunk of bytes at once (as grep
//! does, so its literal prefilters skip most of the text), and each match is widened to its
//! line. A search over a store runs in parallel chunks and stops as soon as a newer search
//! replaces it.

use std::sync::atomic::{AtomicU64, Ordering};

use regex::bytes::{Regex, RegexBuilder};

use super::level::Level;
use super::store::LineStore;

/// What a line must contain: a regex, or plain text (smart case: lower case matches any case).
#[derive(Debug, Clone)]
pub struct Matcher {
    re: Regex,
    pub pattern: String,
}

impl Matcher {
    /// A regex as `grep -E` would take it (multi-line: `^`/`$` are line ends).
    pub fn regex(pattern: &str) -> Result<Matcher, String> {
        RegexBuilder::new(pattern)
            .multi_line(true)
            .size_limit(64 << 20)
            .build()
            .map(|re| Matcher {
                re,
                pattern: pattern.to_string(),
            })
            .map_err(|e| format!("invalid regex `{pattern}`: {e}"))
    }

    /// Plain text, any case unless it has a capital.
    pub fn plain(text: &str) -> Matcher {
        let insensitive = !text.chars().any(char::is_uppercase);
        let re = RegexBuilder::new(&regex::escape(text))
            .case_insensitive(insensitive)
            .build()
            .expect("an escaped literal is a valid regex");
        Matcher {
            re,
            pattern: text.to_string(),
        }
    }

    /// What the filter prompt takes: a regex when it is one, else plain text.
    pub fn typed(text: &str) -> Matcher {
        let has_meta = text.chars().any(|c| "\\.+*?()|[]{}^$".contains(c));
        if has_meta {
            if let Ok(m) = Matcher::regex(text) {
                return m;
            }
        }
        Matcher::plain(text)
    }

    pub fn is_match(&self, line: &[u8]) -> bool {
        self.re.is_match(line)
    }

    /// Byte ranges of the matches in `line`, for highlighting.
    pub fn ranges(&self, line: &[u8]) -> Vec<(usize, usize)> {
        self.re
            .find_iter(line)
            .filter(|m| m.end() > m.start())
            .map(|m| (m.start(), m.end()))
            .collect()
    }

    /// Calls `hit(start, end)` for each line of `buf` (newline-separated) that matches, in
    /// order, with the line's bounds (end excludes the newline).
    pub fn for_each_line(&self, buf: &[u8], mut hit: impl FnMut(usize, usize)) {
        let mut pos = 0;
        while pos < buf.len() {
            let Some(m) = self.re.find_at(buf, pos) else {
                break;
            };
            let ls = memchr::memrchr(b'\n', &buf[pos..m.start()]).map_or(pos, |p| pos + p + 1);
            if ls == buf.len() {
                break;
            }
            let le = memchr::memchr(b'\n', &buf[m.start()..]).map_or(buf.len(), |p| m.start() + p);
            // A match may run over a newline (`\s`, `[^x]`): then the line alone decides.
            if m.end() <= le || self.re.is_match(&buf[ls..le]) {
                hit(ls, le);
            }
            pos = le + 1;
        }
    }
}

/// What a view's lines are filtered by.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub matcher: Option<Matcher>,
    /// At least this severe.
    pub level: Option<Level>,
}

impl Query {
    pub fn is_empty(&self) -> bool {
        self.matcher.is_none() && self.level.is_none()
    }
}

/// Absolute numbers (dropped lines count) of the lines of `store` from index `from` on
/// that pass `query`, in order; `None` when
/// `generation` stopped being `current` (a newer search replaced this one).
pub fn search(
    store: &LineStore,
    from: usize,
    query: &Query,
    generation: u64,
    current: &AtomicU64,
) -> Option<Vec<u64>> {
    let segs: Vec<_> = store
        .segments()
        .filter(|(first, c, skip)| first + c.len() - skip > from)
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(segs.len().max(1));
    let per = segs.len().div_ceil(threads.max(1)).max(1);
    let parts: Vec<Option<Vec<u32>>> = std::thread::scope(|s| {
        let handles: Vec<_> = segs
            .chunks(per)
            .map(|group| {
                s.spawn(move || {
                    let mut out = Vec::new();
                    // One block of a sealed chunk at a time, so a search copies ~64 KiB.
                    let mut buf = Vec::new();
                    for (first, chunk, skip) in group {
                        if current.load(Ordering::Relaxed) != generation {
                            return None;
                        }
                        let start = skip + from.saturating_sub(*first);
                        search_chunk(
                            chunk,
                            start,
                            *first as isize - *skip as isize,
                            query,
                            &mut out,
                            &mut buf,
                        );
                    }
                    Some(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(None))
            .collect()
    });
    let mut all = Vec::new();
    let d = store.dropped();
    for p in parts {
        all.extend(p?.into_iter().map(|i| i as u64 + d));
    }
    Some(all)
}

/// Lines of `chunk` from line `skip` on; `base` is the store index of the chunk's line 0.
fn search_chunk(
    chunk: &super::store::Chunk,
    skip: usize,
    base: isize,
    query: &Query,
    out: &mut Vec<u32>,
    buf: &mut Vec<u8>,
) {
    if skip >= chunk.len() {
        return;
    }
    let level_ok = |i: usize| match query.level {
        Some(min) => chunk.level(i).is_some_and(|l| l >= min),
        None => true,
    };
    match &query.matcher {
        None => out.extend(
            (skip..chunk.len())
                .filter(|&i| level_ok(i))
                .map(|i| (base + i as isize) as u32),
        ),
        Some(m) => {
            let ends = chunk.ends();
            let mut cursor = skip;
            chunk.scan(skip, buf, |text, start| {
                m.for_each_line(text, |ls, _| {
                    let at = start + ls;
                    cursor += ends[cursor..].partition_point(|&e| (e as usize) < at);
                    if level_ok(cursor) {
                        out.push((base + cursor as isize) as u32);
                    }
                });
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(m: &Matcher, s: &str) -> Vec<String> {
        let mut v = Vec::new();
        m.for_each_line(s.as_bytes(), |a, b| v.push(s[a..b].to_string()));
        v
    }

    #[test]
    fn matches_widen_to_whole_lines_like_grep() {
        let m = Matcher::regex("b+").unwrap();
        assert_eq!(lines(&m, "abc\nxyz\nbb\n"), ["abc", "bb"]);
        let m = Matcher::regex("^x").unwrap();
        assert_eq!(lines(&m, "ax\nxa\n"), ["xa"]);
        let m = Matcher::regex("a$").unwrap();
        assert_eq!(lines(&m, "xa\nax\na"), ["xa", "a"]);
        // A match across a newline does not count; the next line is still searched.
        let m = Matcher::regex(r"a\sb").unwrap();
        assert_eq!(lines(&m, "xa\nb a b\n"), ["b a b"]);
        let m = Matcher::regex("^$").unwrap();
        assert_eq!(lines(&m, "a\n\nb\n"), [""]);
    }

    #[test]
    fn plain_text_is_smart_case() {
        assert!(Matcher::plain("error").is_match(b"ERROR x"));
        assert!(!Matcher::plain("Error").is_match(b"ERROR x"));
        assert!(Matcher::typed("a.c").is_match(b"abc"));
        assert!(Matcher::typed("(").is_match(b"f(x)"));
    }

    #[test]
    fn a_store_search_gives_line_indices_and_stops_when_replaced() {
        let mut s = LineStore::new(1000);
        s.push_bytes(b"INFO a\nERROR b\n".to_vec());
        s.push_bytes(b"ERROR c\nINFO d\nWARN error e\n".to_vec());
        let cur = AtomicU64::new(1);
        let q = Query {
            matcher: Some(Matcher::plain("error")),
            level: None,
        };
        assert_eq!(search(&s, 0, &q, 1, &cur), Some(vec![1, 2, 4]));
        assert_eq!(search(&s, 2, &q, 1, &cur), Some(vec![2, 4]));
        let q = Query {
            matcher: None,
            level: Some(Level::Warn),
        };
        assert_eq!(search(&s, 0, &q, 1, &cur), Some(vec![1, 2, 4]));
        assert_eq!(search(&s, 0, &q, 2, &cur), None);
    }

    #[test]
    fn a_sealed_store_matches_the_same_lines_as_the_text() {
        let text: String = (0..200_000)
            .map(|i| {
                format!(
                    "{} [svc-{}] req={i}\n",
                    ["INFO", "ERROR"][i % 7 / 6],
                    i % 13
                )
            })
            .collect();
        let mut s = LineStore::new(1_000_000);
        s.push(std::sync::Arc::new(super::super::store::Chunk::sealed(
            text.as_bytes(),
        )));
        let m = Matcher::regex("ERROR.*svc-1[0-2]").unwrap();
        let want: Vec<u64> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| m.is_match(l.as_bytes()))
            .map(|(i, _)| i as u64)
            .collect();
        let q = Query {
            matcher: Some(m),
            level: None,
        };
        let cur = AtomicU64::new(1);
        assert_eq!(search(&s, 0, &q, 1, &cur).unwrap(), want);
        let tail: Vec<u64> = want.iter().copied().filter(|&i| i >= 150_000).collect();
        assert_eq!(search(&s, 150_000, &q, 1, &cur).unwrap(), tail);
    }
}
