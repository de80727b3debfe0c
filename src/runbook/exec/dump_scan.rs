//! Reads a plain SQL dump as it streams to `psql`: the rows of each `COPY … FROM stdin`
//! block (the proof a drill compares with the restored tables), whether the stream ended
//! inside one (cut short), and the lines that would take psql out of its target database —
//! `\connect`, `CREATE`/`DROP`/`ALTER DATABASE`, roles (cluster-wide), `\!` (a shell).
//!
//! The supervisor feeds it each chunk before the chunk is written to psql, so a drill can
//! stop the stream before such a line reaches the server. It looks at each line once and
//! keeps only a bounded prefix of a line split between chunks; inside COPY data it only
//! looks for the `\.` that ends the block (text-format data escapes every backslash, so
//! no data row can be that line).

use serde::{Deserialize, Serialize};

/// The longest prefix of one line that is kept to classify it.
const LINE_KEEP: usize = 4096;

/// One `COPY` block of the dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRows {
    /// The table's name parts as the server knows them (unquoted: `["public", "items"]`);
    /// empty when the `COPY` line could not be read.
    pub name: Vec<String>,
    /// Data lines (rows) seen.
    pub rows: u64,
    /// The block ended with `\.`.
    pub ended: bool,
    /// Line of the `COPY`.
    pub line: u64,
}

impl TableRows {
    /// `schema.table` for people (quotes only where a part needs them).
    pub fn display(&self) -> String {
        if self.name.is_empty() {
            return format!("(unreadable COPY at line {})", self.line);
        }
        self.name
            .iter()
            .map(|p| {
                let plain = p
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    && !p.is_empty();
                if plain {
                    p.clone()
                } else {
                    super::sql_quote::quote_pg_ident(p).unwrap_or_else(|_| p.clone())
                }
            })
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// A line that leaves, creates, drops or alters a database other than the target, changes
/// roles, or runs a shell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub line: u64,
    /// In words: "connects to database `prod`".
    pub what: String,
}

impl Finding {
    pub fn describe(&self) -> String {
        format!("line {}: {}", self.line, self.what)
    }
}

/// What the scan found, written to `<run_dir>/dump_scan.json` by the supervisor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DumpReport {
    /// The database the stream is meant for.
    pub target: String,
    pub tables: Vec<TableRows>,
    pub findings: Vec<Finding>,
    pub lines: u64,
    pub bytes: u64,
    /// The whole stream was scanned (not stopped early by a refusal or an error).
    pub complete: bool,
    /// Set when the stream was stopped before it all reached psql: why.
    pub refused: Option<String>,
    /// The backup catalog's verdict when it verified the file in the same read.
    #[serde(default)]
    pub verified: Option<String>,
    /// That verification in full (ok or not), for the catalog's record of it.
    #[serde(default)]
    pub verification: Option<crate::backups::verify::VerifyReport>,
}

impl DumpReport {
    /// The block the stream ended inside, if it did (the dump is cut short there).
    pub fn cut_short(&self) -> Option<&TableRows> {
        self.tables.last().filter(|t| !t.ended)
    }

    /// One line per finding, for a warning or a refusal.
    pub fn findings_text(&self) -> String {
        self.findings
            .iter()
            .map(Finding::describe)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The streaming scanner.
#[derive(Debug)]
pub struct DumpScan {
    report: DumpReport,
    /// The start of a line split between chunks (at most [`LINE_KEEP`] bytes of it).
    partial: Vec<u8>,
    in_copy: bool,
}

impl DumpScan {
    pub fn new(target: &str) -> Self {
        DumpScan {
            report: DumpReport {
                target: target.to_string(),
                ..Default::default()
            },
            partial: Vec::new(),
            in_copy: false,
        }
    }

    /// Findings so far.
    pub fn findings(&self) -> &[Finding] {
        &self.report.findings
    }

    /// Scans the next chunk of the stream. Returns how many findings it added.
    pub fn feed(&mut self, chunk: &[u8]) -> usize {
        let before = self.report.findings.len();
        self.report.bytes += chunk.len() as u64;
        let mut rest = chunk;
        if !self.partial.is_empty() {
            match memchr::memchr(b'\n', rest) {
                Some(nl) => {
                    self.keep_partial(&rest[..nl]);
                    let line = std::mem::take(&mut self.partial);
                    self.line(&line);
                    rest = &rest[nl + 1..];
                }
                None => {
                    self.keep_partial(rest);
                    return 0;
                }
            }
        }
        // Inside COPY data (the hot path) a line costs a newline search and one byte test.
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', rest) {
            self.line(&rest[start..nl]);
            start = nl + 1;
        }
        if start < rest.len() {
            self.keep_partial(&rest[start..]);
        }
        self.report.findings.len() - before
    }

    /// The end of the stream: a last line without a newline counts.
    pub fn finish(mut self, complete: bool) -> DumpReport {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line(&line);
        }
        self.report.complete = complete;
        self.report
    }

    fn keep_partial(&mut self, bytes: &[u8]) {
        let room = LINE_KEEP.saturating_sub(self.partial.len());
        self.partial
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn count_row(&mut self) {
        if let Some(t) = self.report.tables.last_mut() {
            t.rows += 1;
        }
    }

    fn end_copy(&mut self) {
        self.in_copy = false;
        if let Some(t) = self.report.tables.last_mut() {
            t.ended = true;
        }
    }

    fn line(&mut self, line: &[u8]) {
        self.report.lines += 1;
        if self.in_copy {
            if line.first() == Some(&b'\\') && is_end_of_copy(line) {
                self.end_copy();
            } else {
                self.count_row();
            }
            return;
        }
        let n = self.report.lines;
        let text = String::from_utf8_lossy(&line[..line.len().min(LINE_KEEP)]);
        let t = text.trim();
        if t.is_empty() || t.starts_with("--") {
            return;
        }
        if let Some(meta) = t.strip_prefix('\\') {
            if let Some(what) = meta_command(meta, &self.report.target) {
                self.report.findings.push(Finding { line: n, what });
            }
            return;
        }
        let words = upper_words(t, 4);
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        if w.first() == Some(&"COPY") && ends_with_from_stdin(t) {
            self.in_copy = true;
            self.report.tables.push(TableRows {
                name: copy_table(t).unwrap_or_default(),
                rows: 0,
                ended: false,
                line: n,
            });
            return;
        }
        if let Some(what) = database_statement(t, &w, &self.report.target) {
            self.report.findings.push(Finding { line: n, what });
        }
    }
}

fn is_end_of_copy(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line == b"\\."
}

fn ends_with_from_stdin(t: &str) -> bool {
    let t = t.trim_end_matches(';').trim_end();
    let up = t.to_ascii_uppercase();
    up.ends_with("FROM STDIN")
}

/// The first `n` words, upper-cased.
fn upper_words(t: &str, n: usize) -> Vec<String> {
    t.split(|c: char| c.is_whitespace() || c == ';')
        .filter(|w| !w.is_empty())
        .take(n)
        .map(str::to_ascii_uppercase)
        .collect()
}

/// psql meta-commands that leave the target or reach outside the database.
fn meta_command(meta: &str, target: &str) -> Option<String> {
    let (cmd, args) = match meta.find(char::is_whitespace) {
        Some(i) => (&meta[..i], meta[i..].trim()),
        None => (meta, ""),
    };
    match cmd {
        "c" | "connect" => {
            let args = psql_args(args);
            let mut rest = args.iter().filter(|a| !a.starts_with("-reuse-previous"));
            let db = rest.next().cloned().unwrap_or_default();
            let db_name = conninfo_dbname(&db).unwrap_or(db.clone());
            let others: Vec<&String> = rest.filter(|a| a.as_str() != "-").collect();
            if (db_name.is_empty() || db_name == "-" || db_name == target) && others.is_empty() {
                None
            } else if db_name.is_empty() || db_name == "-" || db_name == target {
                Some(format!("reconnects as {}", shown(&join(&others))))
            } else {
                Some(format!("connects to database {}", shown(&db_name)))
            }
        }
        "!" => Some("runs a shell command".into()),
        _ if cmd.starts_with('!') => Some("runs a shell command".into()),
        _ => None,
    }
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

/// psql's argument words: whitespace-separated, `"…"` and `'…'` quoting.
fn psql_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                any = true;
            }
            None if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            None => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `dbname=x` in a conninfo string (or a URI's path).
fn conninfo_dbname(s: &str) -> Option<String> {
    if s.starts_with("postgres://") || s.starts_with("postgresql://") {
        let path = s.split_once("://")?.1.split_once('/')?.1;
        return Some(path.split('?').next().unwrap_or_default().to_string());
    }
    if !s.contains('=') {
        return None;
    }
    psql_args(s).iter().find_map(|kv| {
        kv.split_once('=')
            .filter(|(k, _)| k.trim() == "dbname")
            .map(|(_, v)| v.trim().trim_matches('\'').to_string())
    })
}

/// `CREATE`/`DROP`/`ALTER DATABASE` and role statements.
fn database_statement(t: &str, w: &[&str], target: &str) -> Option<String> {
    let name_after = |skip: usize| -> String {
        let rest: Vec<&str> = t.split_whitespace().skip(skip).collect();
        let first = rest.first().copied().unwrap_or_default();
        first.trim_end_matches(';').trim_matches('"').to_string()
    };
    match w {
        ["CREATE", "DATABASE", ..] => Some(format!("creates database {}", shown(&name_after(2)))),
        ["DROP", "DATABASE", "IF", "EXISTS"] => {
            Some(format!("drops database {}", shown(&name_after(4))))
        }
        ["DROP", "DATABASE", ..] => Some(format!("drops database {}", shown(&name_after(2)))),
        ["ALTER", "DATABASE", ..] => {
            let name = name_after(2);
            let renames = t.to_ascii_uppercase().contains(" RENAME ");
            if renames {
                Some(format!("renames database {}", shown(&name)))
            } else if name != target {
                Some(format!("alters database {}", shown(&name)))
            } else {
                None
            }
        }
        ["CREATE" | "DROP" | "ALTER", "ROLE" | "USER", ..] => Some(format!(
            "changes roles (cluster-wide): {} {} {}",
            w[0],
            w[1],
            shown(&name_after(2))
        )),
        _ => None,
    }
}

/// A name from the dump, safe to show: escapes gone, length bounded.
fn shown(s: &str) -> String {
    let clean: String = crate::sanitize::strip_escapes(s).chars().take(80).collect();
    format!("`{clean}`")
}

/// The table of `COPY schema.table (cols) FROM stdin;` as unquoted name parts.
fn copy_table(t: &str) -> Option<Vec<String>> {
    let rest = t.get(4..)?.trim_start();
    let mut parts = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    '"' => break,
                    c => part.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_alphanumeric() || c == '_' || c == '$' {
                    part.push(c.to_ascii_lowercase());
                    chars.next();
                } else {
                    break;
                }
            }
            if part.is_empty() {
                return None;
            }
        }
        parts.push(part);
        match chars.peek() {
            Some('.') => {
                chars.next();
            }
            Some(c) if c.is_whitespace() || *c == '(' => break,
            _ => return None,
        }
    }
    Some(parts)
}

#[cfg(test)]
#[path = "dump_scan_tests.rs"]
mod tests;
