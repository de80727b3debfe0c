//! A line's level, from the common formats: JSON `level`/`severity`, logfmt `level=`,
//! syslog `<PRI>`, nginx access-log status codes (5xx error, 4xx warning) and bracketed or
//! bare words (`[error]`, `ERROR`, `WARN` …). Only the head of a line is looked at: a 10 MB
//! line costs no more than a short one.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use memchr::memmem::Finder;

/// Built once: building a finder per line would cost more than the search.
static LOGFMT_KEYS: LazyLock<[Finder<'static>; 3]> = LazyLock::new(|| {
    [
        Finder::new(b"level="),
        Finder::new(b"lvl="),
        Finder::new(b"severity="),
    ]
});
static HTTP: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b" HTTP/"));

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// How far into a line levels are looked for.
const HEAD: usize = 256;

impl Level {
    pub fn code(self) -> u8 {
        self as u8 + 1
    }

    pub fn from_code(c: u8) -> Option<Level> {
        match c {
            1 => Some(Level::Debug),
            2 => Some(Level::Info),
            3 => Some(Level::Warn),
            4 => Some(Level::Error),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    /// A level word (any case): `err`, `warning`, `fatal`, `crit`, `notice`, `trace` …
    pub fn from_word(w: &[u8]) -> Option<Level> {
        if w.len() > 9 {
            return None;
        }
        let mut buf = [0u8; 9];
        for (b, c) in buf.iter_mut().zip(w) {
            *b = c.to_ascii_lowercase();
        }
        Some(match &buf[..w.len()] {
            b"error" | b"err" | b"fatal" | b"critical" | b"crit" | b"panic" | b"emerg"
            | b"emergency" | b"alert" | b"severe" => Level::Error,
            b"warn" | b"warning" => Level::Warn,
            b"info" | b"notice" | b"information" => Level::Info,
            b"debug" | b"trace" | b"dbug" | b"verbose" => Level::Debug,
            _ => return None,
        })
    }

    /// Syslog severity 0–7.
    pub fn from_syslog(sev: u8) -> Level {
        match sev {
            0..=3 => Level::Error,
            4 => Level::Warn,
            5 | 6 => Level::Info,
            _ => Level::Debug,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Level, String> {
        Level::from_word(s.as_bytes())
            .ok_or_else(|| format!("unknown level `{s}` (error, warn, info or debug)"))
    }
}

pub fn detect(line: &[u8]) -> Option<Level> {
    let head = &line[..line.len().min(HEAD)];
    let t = trim_start(head);
    if t.first() == Some(&b'{') {
        if let Some(l) = json(t) {
            return Some(l);
        }
    }
    if t.first() == Some(&b'<') {
        if let Some(l) = syslog(t) {
            return Some(l);
        }
    }
    // Cheap prefilters: logfmt needs an `=`, an access log a quote.
    if memchr::memchr(b'=', head).is_some() {
        if let Some(l) = logfmt(head) {
            return Some(l);
        }
    }
    if memchr::memchr(b'"', head).is_some() {
        if let Some(l) = nginx_status(head) {
            return Some(l);
        }
    }
    words(head)
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

/// `"level":"error"`, `"severity": "WARNING"`, `"lvl"`, `"levelname"`, pino/bunyan numbers.
fn json(t: &[u8]) -> Option<Level> {
    for key in [
        &b"\"level\""[..],
        b"\"severity\"",
        b"\"lvl\"",
        b"\"levelname\"",
        b"\"log.level\"",
    ] {
        let Some(p) = memchr::memmem::find(t, key) else {
            continue;
        };
        let rest = trim_start(&t[p + key.len()..]);
        let rest = trim_start(rest.strip_prefix(b":")?);
        if let Some(s) = rest.strip_prefix(b"\"") {
            let end = memchr::memchr(b'"', s)?;
            return Level::from_word(&s[..end]);
        }
        let n: Vec<u8> = rest
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .copied()
            .collect();
        let n: u32 = std::str::from_utf8(&n).ok()?.parse().ok()?;
        // pino/bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
        return Some(match n {
            0..=7 => Level::from_syslog(n as u8),
            8..=29 => Level::Debug,
            30..=39 => Level::Info,
            40..=49 => Level::Warn,
            _ => Level::Error,
        });
    }
    None
}

/// `<PRI>` with PRI = facility * 8 + severity.
fn syslog(t: &[u8]) -> Option<Level> {
    let end = memchr::memchr(b'>', &t[..t.len().min(5)])?;
    let n: u16 = std::str::from_utf8(&t[1..end]).ok()?.parse().ok()?;
    (n <= 191).then(|| Level::from_syslog((n % 8) as u8))
}

/// `level=error`, `lvl=warn`, `severity="info"` at the start of a logfmt pair.
fn logfmt(head: &[u8]) -> Option<Level> {
    for finder in LOGFMT_KEYS.iter() {
        let key = finder.needle();
        let mut from = 0;
        while let Some(p) = finder.find(&head[from..]) {
            let at = from + p;
            from = at + key.len();
            if at > 0 && !matches!(head[at - 1], b' ' | b'\t') {
                continue;
            }
            let v = &head[from..];
            let v = v.strip_prefix(b"\"").unwrap_or(v);
            let end = v
                .iter()
                .position(|c| !c.is_ascii_alphabetic())
                .unwrap_or(v.len());
            return Level::from_word(&v[..end]);
        }
    }
    None
}

/// nginx/Apache access log: `"GET / HTTP/1.1" 502 …`.
fn nginx_status(head: &[u8]) -> Option<Level> {
    let p = HTTP.find(head)?;
    let q = p + memchr::memmem::find(&head[p..], b"\" ")? + 2;
    let code = head.get(q..q + 3)?;
    if !code.iter().all(u8::is_ascii_digit) || head.get(q + 3).is_some_and(|c| *c != b' ') {
        return None;
    }
    Some(match code[0] {
        b'5' => Level::Error,
        b'4' => Level::Warn,
        _ => Level::Info,
    })
}

/// The first level word: in brackets any case (`[error]`, `[Warn]`), bare only in capitals
/// (`ERROR`), so "an error occurred" in a message is not a level.
fn words(head: &[u8]) -> Option<Level> {
    let mut i = 0;
    while i < head.len() {
        let c = head[i];
        if c.is_ascii_alphabetic() {
            let start = i;
            while i < head.len() && head[i].is_ascii_alphabetic() {
                i += 1;
            }
            let w = &head[start..i];
            let before = if start > 0 { head[start - 1] } else { b' ' };
            let after = head.get(i).copied().unwrap_or(b' ');
            if before.is_ascii_alphanumeric() || after.is_ascii_alphanumeric() || after == b'_' {
                continue;
            }
            let bracketed =
                matches!(before, b'[' | b'<' | b'(') && matches!(after, b']' | b'>' | b')');
            let capitals = w.iter().all(u8::is_ascii_uppercase) && w.len() >= 3;
            if bracketed || capitals {
                if let Some(l) = Level::from_word(w) {
                    return Some(l);
                }
            }
        } else {
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_of_common_formats() {
        use Level::*;
        let table: &[(&str, Option<Level>)] = &[
            (
                r#"{"time":"2026-12-03T07:00:00Z","level":"error","msg":"db down"}"#,
                Some(Error),
            ),
            (r#"{"severity": "WARNING", "message": "slow"}"#, Some(Warn)),
            (r#"{"level":30,"msg":"listening"}"#, Some(Info)),
            (r#"{"level":50,"msg":"boom"}"#, Some(Error)),
            (r#"{"levelname":"DEBUG"}"#, Some(Debug)),
            (
                r#"{"msg":"ERROR in message only","level":"info"}"#,
                Some(Info),
            ),
            (
                "ts=2026-12-03T07:00:00Z level=warn msg=\"disk 85%\"",
                Some(Warn),
            ),
            ("ts=1 lvl=error msg=x", Some(Error)),
            ("time=1 level=\"info\" msg=ok", Some(Info)),
            ("<11>Dec  3 07:00:00 host app: failed", Some(Error)),
            ("<12>Dec  3 07:00:00 host app: careful", Some(Warn)),
            ("<14>Dec  3 07:00:00 host app: hello", Some(Info)),
            ("<15>Dec  3 07:00:00 host app: detail", Some(Debug)),
            ("<30>Dec  3 07:00:00 host systemd: Started", Some(Info)),
            (
                "2026-12-03 07:00:00 [ERROR] connection refused",
                Some(Error),
            ),
            ("2026-12-03 07:00:00 ERROR connection refused", Some(Error)),
            ("2026-12-03 07:00:00 WARN pool nearly full", Some(Warn)),
            ("2026-12-03 07:00:00 WARNING pool nearly full", Some(Warn)),
            ("2026-12-03 07:00:00 INFO started", Some(Info)),
            ("2026-12-03 07:00:00 DEBUG query took 3ms", Some(Debug)),
            (
                "2026/12/03 07:00:00 [error] 12#12: *1 connect() failed",
                Some(Error),
            ),
            (
                "2026/12/03 07:00:00 [warn] 12#12: upstream buffered",
                Some(Warn),
            ),
            (
                "2026/12/03 07:00:00 [crit] 12#12: open() failed",
                Some(Error),
            ),
            ("[Info] started", Some(Info)),
            (
                r#"10.0.0.1 - - [03/Dec/2026:07:00:00 +0000] "GET /api HTTP/1.1" 502 157 "-" "curl""#,
                Some(Error),
            ),
            (
                r#"10.0.0.1 - - [03/Dec/2026:07:00:00 +0000] "GET /x HTTP/1.1" 404 0 "-" "curl""#,
                Some(Warn),
            ),
            (
                r#"10.0.0.1 - - [03/Dec/2026:07:00:00 +0000] "GET / HTTP/2.0" 200 612 "-" "curl""#,
                Some(Info),
            ),
            ("an error occurred while reading", None),
            ("ERRORS_TOTAL=3", None),
            ("INFORMATIONAL text", None),
            ("plain line", None),
            ("", None),
        ];
        for (line, want) in table {
            assert_eq!(detect(line.as_bytes()), *want, "{line}");
        }
    }

    #[test]
    fn only_the_head_of_a_huge_line_is_read() {
        let mut l = vec![b'x'; 10 << 20];
        l[5 << 20..(5 << 20) + 7].copy_from_slice(b" ERROR ");
        assert_eq!(detect(&l), None);
    }
}
