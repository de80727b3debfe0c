//! Writes backup trees the way backup scripts do, for tests, benchmarks and the demo:
//! real files, real manifests with real sha256 sums, real gzip streams.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Local, Utc};
use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

use super::verify::hex;

/// `<root>/<service>/<kind>/<local date of created>/` with `files` and a manifest listing
/// them (size and sha256 as written). Returns the folder.
pub fn folder_backup(
    root: &Path,
    service: &str,
    kind: &str,
    created: DateTime<Utc>,
    success: bool,
    files: &[(&str, &[u8])],
) -> std::io::Result<PathBuf> {
    let dir = root
        .join(service)
        .join(kind)
        .join(created.with_timezone(&Local).format("%Y-%m-%d").to_string());
    fs::create_dir_all(&dir)?;
    let mut listed = Vec::new();
    for (name, data) in files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&p, data)?;
        listed.push(serde_json::json!({
            "path": name,
            "size": data.len(),
            "sha256": hex(&Sha256::digest(data)),
        }));
    }
    write_manifest_json(
        &dir,
        &serde_json::json!({
            "created": created.to_rfc3339(),
            "status": if success { "success" } else { "failed" },
            "service": service,
            "kind": kind,
            "files": listed,
        }),
    )?;
    Ok(dir)
}

pub fn write_manifest_json(dir: &Path, v: &serde_json::Value) -> std::io::Result<()> {
    fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(v).unwrap_or_default(),
    )
}

/// `<root>/<service>/[<sub>/]YYYYMMDD_HHMMSS.sql.gz` (local time, as `date` writes it) of
/// `sql`; `complete = false` cuts the gzip stream short as a crashed job would.
pub fn dump(
    root: &Path,
    service: &str,
    sub: Option<&str>,
    at: DateTime<Utc>,
    sql: &[u8],
    complete: bool,
) -> std::io::Result<PathBuf> {
    let mut dir = root.join(service);
    if let Some(s) = sub {
        dir = dir.join(s);
    }
    fs::create_dir_all(&dir)?;
    let p = dir.join(format!(
        "{}.sql.gz",
        at.with_timezone(&Local).format("%Y%m%d_%H%M%S")
    ));
    let mut bytes = gzip(sql);
    if !complete {
        bytes.truncate(bytes.len().saturating_sub(6).max(10));
    }
    fs::write(&p, bytes)?;
    Ok(p)
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// Flips one bit in the middle of a file, keeping its size.
pub fn flip_byte(path: &Path) -> std::io::Result<()> {
    let mut b = fs::read(path)?;
    let i = b.len() / 2;
    if let Some(x) = b.get_mut(i) {
        *x ^= 0x01;
    }
    fs::write(path, b)
}

/// Cuts a file to half its size.
pub fn truncate_half(path: &Path) -> std::io::Result<()> {
    let len = fs::metadata(path)?.len();
    fs::OpenOptions::new()
        .write(true)
        .open(path)?
        .set_len(len / 2)
}
