//! `manifest.json`: what a backup job says it wrote. The format is documented in
//! README-backups.md. Parsing never fails as a whole: each defect becomes a [`Problem`]
//! and whatever is usable is kept.

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::catalog::{Problem, ProblemKind};
use super::safe_path::{check_relative, open_nofollow};

pub const MANIFEST_NAME: &str = "manifest.json";
/// A manifest larger than this is not a manifest.
pub const MAX_MANIFEST_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestStatus {
    Success,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestFile {
    /// As written in the manifest (for messages).
    pub raw_path: String,
    /// Checked relative path; `None` when refused (the problem is recorded).
    pub path: Option<PathBuf>,
    pub size: Option<u64>,
    /// Lowercase hex, 64 characters; `None` when absent or malformed.
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Manifest {
    pub created: Option<DateTime<Utc>>,
    pub status: Option<ManifestStatus>,
    pub service: Option<String>,
    pub kind: Option<String>,
    pub files: Vec<ManifestFile>,
}

/// Reads `manifest.json` from `folder` (not through a symlink, not more than
/// [`MAX_MANIFEST_BYTES`]). `Ok(None)` when there is none.
pub fn read_manifest(folder: &Path) -> Result<Option<Vec<u8>>, Problem> {
    let path = folder.join(MANIFEST_NAME);
    let f = match open_nofollow(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(Problem::new(
                ProblemKind::UnsafePath,
                "manifest.json is a symlink (not followed)",
            ))
        }
        Err(e) => {
            return Err(Problem::new(
                ProblemKind::ManifestUnreadable,
                format!("manifest.json: {e}"),
            ))
        }
    };
    let mut buf = Vec::new();
    match f.take(MAX_MANIFEST_BYTES + 1).read_to_end(&mut buf) {
        Ok(_) if buf.len() as u64 > MAX_MANIFEST_BYTES => Err(Problem::new(
            ProblemKind::ManifestInvalid,
            format!(
                "manifest.json is larger than {} MiB",
                MAX_MANIFEST_BYTES >> 20
            ),
        )),
        Ok(_) => Ok(Some(buf)),
        Err(e) => Err(Problem::new(
            ProblemKind::ManifestUnreadable,
            format!("manifest.json: {e}"),
        )),
    }
}

/// Parses manifest bytes; every defect is a problem, nothing panics.
pub fn parse_manifest(bytes: &[u8]) -> (Manifest, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut m = Manifest::default();
    let invalid = |msg: String| Problem::new(ProblemKind::ManifestInvalid, msg);
    let v: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            problems.push(invalid(format!(
                "manifest.json is not valid JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            )));
            return (m, problems);
        }
    };
    let Some(obj) = v.as_object() else {
        problems.push(invalid("manifest.json is not a JSON object".into()));
        return (m, problems);
    };

    match obj.get("created").and_then(|c| c.as_str()) {
        Some(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => m.created = Some(t.with_timezone(&Utc)),
            Err(e) => problems.push(invalid(format!(
                "`created`: `{}` is not RFC 3339: {e}",
                clip(s)
            ))),
        },
        None => problems.push(invalid(
            "`created` is missing (RFC 3339 time expected)".into(),
        )),
    }
    match obj.get("status").and_then(|c| c.as_str()) {
        Some("success") => m.status = Some(ManifestStatus::Success),
        Some("failed") => m.status = Some(ManifestStatus::Failed),
        Some(other) => problems.push(invalid(format!(
            "`status`: `{}` is neither \"success\" nor \"failed\"",
            clip(other)
        ))),
        None => problems.push(invalid(
            "`status` is missing (\"success\" or \"failed\")".into(),
        )),
    }
    m.service = obj
        .get("service")
        .and_then(|s| s.as_str())
        .map(String::from);
    if m.service.is_none() {
        problems.push(invalid("`service` is missing".into()));
    }
    m.kind = obj.get("kind").and_then(|s| s.as_str()).map(String::from);
    if m.kind.is_none() {
        problems.push(invalid("`kind` is missing".into()));
    }
    match obj.get("files") {
        Some(serde_json::Value::Array(files)) => {
            for (i, f) in files.iter().enumerate() {
                if let Some(mf) = parse_file(i, f, &mut problems) {
                    m.files.push(mf);
                }
            }
        }
        Some(_) => problems.push(invalid("`files` is not a list".into())),
        None => problems.push(invalid("`files` is missing".into())),
    }
    (m, problems)
}

fn parse_file(
    i: usize,
    f: &serde_json::Value,
    problems: &mut Vec<Problem>,
) -> Option<ManifestFile> {
    let invalid = |msg: String| Problem::new(ProblemKind::ManifestInvalid, msg);
    let Some(raw) = f.get("path").and_then(|p| p.as_str()) else {
        problems.push(invalid(format!("`files[{i}]` has no `path`")));
        return None;
    };
    let path = match check_relative(raw) {
        Ok(p) => Some(p),
        Err(why) => {
            problems.push(Problem::new(
                ProblemKind::UnsafePath,
                format!("`{}` refused: {why}", clip(raw)),
            ));
            None
        }
    };
    let size = f.get("size").and_then(|s| s.as_u64());
    if size.is_none() {
        problems.push(invalid(format!(
            "`{}`: `size` missing or not a byte count",
            clip(raw)
        )));
    }
    let sha256 = f
        .get("sha256")
        .and_then(|s| s.as_str())
        .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|s| s.to_ascii_lowercase());
    if sha256.is_none() {
        problems.push(invalid(format!(
            "`{}`: `sha256` missing or not 64 hex digits",
            clip(raw)
        )));
    }
    Some(ManifestFile {
        raw_path: raw.to_string(),
        path,
        size,
        sha256,
    })
}

/// Keeps hostile strings short and free of control characters in messages.
pub fn clip(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if cleaned.chars().count() > 80 {
        format!("{}…", cleaned.chars().take(80).collect::<String>())
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_manifest_has_no_problems_and_extras_are_allowed() {
        let (m, p) = parse_manifest(
            br#"{"created":"2026-11-22T03:00:05+09:00","status":"success","service":"mail",
                "kind":"daily","host":"ops1","files":[{"path":"a.tar.gz","size":3,
                "sha256":"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD","mode":"0644"}]}"#,
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(m.created.unwrap().to_rfc3339(), "2026-11-21T18:00:05+00:00");
        assert_eq!(m.status, Some(ManifestStatus::Success));
        assert_eq!(m.files[0].sha256.as_deref().unwrap().len(), 64);
        assert!(m.files[0].sha256.as_deref().unwrap().starts_with("ba78"));
    }

    #[test]
    fn defects_are_reported_one_by_one() {
        let (_, p) = parse_manifest(b"{not json");
        assert_eq!(p[0].kind, ProblemKind::ManifestInvalid);
        assert!(p[0].message.contains("line 1"));
        let (m, p) = parse_manifest(
            br#"{"created":"yesterday","status":"ok","files":[{"path":"/etc/passwd","size":1,"sha256":"00"},
                {"path":"../x","size":-1},{"size":1}]}"#,
        );
        let msgs: Vec<_> = p.iter().map(|p| p.message.as_str()).collect();
        assert!(msgs.iter().any(|m| m.contains("`created`")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("`status`")), "{msgs:?}");
        assert!(msgs
            .iter()
            .any(|m| m.contains("/etc/passwd") && m.contains("absolute")));
        assert!(msgs.iter().any(|m| m.contains("../x") && m.contains("..")));
        assert!(msgs.iter().any(|m| m.contains("files[2]")));
        assert_eq!(m.files.len(), 2);
        assert!(m.files.iter().all(|f| f.path.is_none()));
    }
}
