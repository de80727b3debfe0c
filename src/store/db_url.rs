//! Database URLs: building the SQLite one from a path, and showing any of them without
//! the secret parts.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::any::AnyConnectOptions;

/// `sqlite://<path>?mode=rwc` with the path percent-encoded, so spaces, `?`, `#` or `%` in a
/// home directory reach SQLite unchanged.
pub fn sqlite_url(path: &Path) -> anyhow::Result<String> {
    let text = path.to_str().ok_or_else(|| {
        anyhow::anyhow!(
            "the state database path {} is not valid UTF-8; set database_url instead",
            path.display()
        )
    })?;
    let mut out = String::from("sqlite://");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out.push_str("?mode=rwc");
    Ok(out)
}

/// The URL as it may be shown: scheme, user, host, port and database; never the password
/// nor the query (PostgreSQL accepts `?password=` there).
pub fn redact_url(url: &str) -> String {
    if url.starts_with("sqlite:") {
        return url.split('?').next().unwrap_or(url).to_string();
    }
    match AnyConnectOptions::from_str(url) {
        Ok(opts) => {
            let u = &opts.database_url;
            let mut out = format!("{}://", u.scheme());
            if !u.username().is_empty() {
                out.push_str(u.username());
                out.push('@');
            }
            out.push_str(u.host_str().unwrap_or(""));
            if let Some(port) = u.port() {
                let _ = write!(out, ":{port}");
            }
            out.push_str(u.path());
            out
        }
        Err(_) => {
            let scheme = url.split("://").next().unwrap_or("");
            let plausible = !scheme.is_empty()
                && scheme.len() < url.len()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            if plausible {
                format!("{scheme}://… (unparseable URL)")
            } else {
                "(unparseable URL)".to_string()
            }
        }
    }
}

/// The file a `sqlite:` URL names and whether SQLite may create it (`mode=rwc`); None
/// for an in-memory database.
pub(super) fn sqlite_file_of(url: &str) -> Option<(PathBuf, bool)> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (db, params) = rest.split_once('?').unwrap_or((rest, ""));
    let mode = params
        .split('&')
        .find_map(|kv| kv.strip_prefix("mode="))
        .unwrap_or("");
    if db.is_empty() || db == ":memory:" || mode == "memory" {
        return None;
    }
    Some((PathBuf::from(percent_decode(db)), mode == "rwc"))
}

/// The password of `url` as written and percent-decoded, for scrubbing driver messages.
pub(super) fn password_of(url: &str) -> Vec<String> {
    let Ok(opts) = AnyConnectOptions::from_str(url) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    if let Some(raw) = opts.database_url.password() {
        found.push(raw.to_string());
        let decoded = percent_decode(raw);
        if decoded != raw {
            found.push(decoded);
        }
    }
    for (k, v) in opts.database_url.query_pairs() {
        if k.eq_ignore_ascii_case("password") && !v.is_empty() {
            found.push(v.into_owned());
        }
    }
    found
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_postgres_url_keeps_where_but_not_the_password() {
        let shown = redact_url("postgres://toban:hunter2@db.example:5433/toban?sslmode=require");
        assert_eq!(shown, "postgres://toban@db.example:5433/toban");
        let shown = redact_url("postgresql://db.example/toban?password=hunter2");
        assert_eq!(shown, "postgresql://db.example/toban");
    }

    #[test]
    fn unparseable_url_shows_only_its_scheme() {
        let shown = redact_url("postgres://u:pa ss@@[bad/x");
        assert!(!shown.contains("pa ss"), "{shown}");
        assert!(shown.starts_with("postgres://"), "{shown}");
        assert_eq!(redact_url("hunter2"), "(unparseable URL)");
    }

    #[test]
    fn sqlite_url_encodes_awkward_paths() {
        let url = sqlite_url(Path::new("/home/a b/50%?#/toban.db")).unwrap();
        assert_eq!(url, "sqlite:///home/a%20b/50%25%3F%23/toban.db?mode=rwc");
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        let url = sqlite_url(Path::new("/srv/on call/toban.db")).unwrap();
        assert_eq!(
            sqlite_file_of(&url),
            Some((PathBuf::from("/srv/on call/toban.db"), true))
        );
        assert_eq!(
            sqlite_file_of("sqlite:rel.db"),
            Some((PathBuf::from("rel.db"), false))
        );
        assert_eq!(sqlite_file_of("sqlite::memory:"), None);
        assert_eq!(sqlite_file_of("sqlite://x.db?mode=memory"), None);
    }

    #[test]
    fn passwords_are_found_raw_decoded_and_in_the_query() {
        let pw = password_of("postgres://u:p%40ss@h/db?password=other");
        assert_eq!(pw, vec!["p%40ss", "p@ss", "other"]);
    }
}
