//! A real backup tree for `toban --demo`: a blog's data folder and SQLite database, daily
//! and weekly tar.gz backups of them with manifests and checksums (one backup corrupted,
//! one day missing), and seed 004-style `pg_dump`-like `*.sql.gz` dumps.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Duration, Local, Utc};
use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

use super::config::BackupsConfig;
use super::verify::hex;

/// Where the demo put things.
#[derive(Debug, Clone)]
pub struct DemoTree {
    /// Configure this as the backup root.
    pub backups_root: PathBuf,
    /// The live data the backups are of: `data/blog/` and `data/blog.db`.
    pub data_dir: PathBuf,
    pub database: PathBuf,
    /// The daily backup whose `data.tar.gz` has a flipped byte.
    pub corrupted: PathBuf,
}

impl DemoTree {
    pub fn config(&self) -> BackupsConfig {
        BackupsConfig {
            roots: vec![self.backups_root.clone()],
            ..BackupsConfig::default()
        }
    }
}

/// Days ago of the daily backup left out (a gap) and of the corrupted one.
pub const MISSING_DAY: i64 = 2;
pub const CORRUPTED_DAY: i64 = 1;

/// Builds the tree under `root` (which should be empty), with backup times relative to
/// `now`.
pub fn make_demo_tree(root: &Path, now: DateTime<Utc>) -> anyhow::Result<DemoTree> {
    let data_dir = root.join("data");
    let blog = data_dir.join("blog");
    fs::create_dir_all(blog.join("posts"))?;
    fs::create_dir_all(blog.join("uploads"))?;
    for i in 1..=5 {
        fs::write(
            blog.join("posts").join(format!("post-{i}.md")),
            format!("# Post {i}\n\nSomething worth restoring, part {i}.\n"),
        )?;
    }
    fs::write(
        blog.join("uploads/logo.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n",
    )?;
    fs::write(
        blog.join("config.toml"),
        "title = \"toban demo blog\"\nposts_per_page = 10\n",
    )?;
    let database = data_dir.join("blog.db");
    make_sqlite(&database)?;

    let backups_root = root.join("backups");
    let mut corrupted = PathBuf::new();
    for day in 0..7i64 {
        if day == MISSING_DAY {
            continue;
        }
        let created = now - Duration::days(day) - Duration::hours(2);
        let dir = dated(&backups_root.join("blog/daily"), created);
        fs::create_dir_all(&dir)?;
        let mut files = vec![
            write_tar_gz(&dir.join("data.tar.gz"), &[("blog", &blog)])?,
            write_gz_copy(&dir.join("blog.db.gz"), &database)?,
        ];
        files.sort_by(|a, b| a.0.cmp(&b.0));
        write_manifest(&dir, "blog", "daily", created, &files)?;
        if day == CORRUPTED_DAY {
            flip_byte(&dir.join("data.tar.gz"))?;
            corrupted = dir.clone();
        }
    }
    for week in 0..4i64 {
        let created = now - Duration::days(7 * week) - Duration::hours(3);
        let dir = dated(&backups_root.join("blog/weekly"), created);
        fs::create_dir_all(&dir)?;
        let f = write_tar_gz(
            &dir.join("full-backup.tar.gz"),
            &[("blog", &blog), ("blog.db", &database)],
        )?;
        write_manifest(&dir, "blog", "weekly", created, &[f])?;
    }
    let dumps = backups_root.join("db");
    fs::create_dir_all(&dumps)?;
    for day in 0..3i64 {
        let t = (now - Duration::days(day) - Duration::hours(1)).with_timezone(&Local);
        let name = format!("{}.sql.gz", t.format("%Y%m%d_%H%M%S"));
        let sql = format!(
            "-- PostgreSQL database dump (toban demo)\nCREATE TABLE jobs (id integer PRIMARY KEY, name text, ok boolean);\n\
             INSERT INTO jobs VALUES (1, 'nightly', true), (2, 'weekly', true), ({}, 'day -{day}', true);\n",
            day + 3
        );
        let mut e = GzEncoder::new(fs::File::create(dumps.join(name))?, Compression::default());
        e.write_all(sql.as_bytes())?;
        e.finish()?;
    }
    Ok(DemoTree {
        backups_root,
        data_dir,
        database,
        corrupted,
    })
}

fn dated(parent: &Path, t: DateTime<Utc>) -> PathBuf {
    parent.join(t.with_timezone(&Local).format("%Y-%m-%d").to_string())
}

/// (name, size, sha256)
type Written = (String, u64, String);

fn digest(path: &Path) -> anyhow::Result<Written> {
    let bytes = fs::read(path)?;
    Ok((
        path.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned(),
        bytes.len() as u64,
        hex(&Sha256::digest(&bytes)),
    ))
}

fn write_tar_gz(dest: &Path, items: &[(&str, &Path)]) -> anyhow::Result<Written> {
    let enc = GzEncoder::new(fs::File::create(dest)?, Compression::default());
    let mut tar = tar::Builder::new(enc);
    for (name, src) in items {
        if src.is_dir() {
            tar.append_dir_all(name, src)?;
        } else {
            tar.append_path_with_name(src, name)?;
        }
    }
    tar.into_inner()?.finish()?;
    digest(dest)
}

fn write_gz_copy(dest: &Path, src: &Path) -> anyhow::Result<Written> {
    let mut e = GzEncoder::new(fs::File::create(dest)?, Compression::default());
    e.write_all(&fs::read(src)?)?;
    e.finish()?;
    digest(dest)
}

fn write_manifest(
    dir: &Path,
    service: &str,
    kind: &str,
    created: DateTime<Utc>,
    files: &[Written],
) -> anyhow::Result<()> {
    let doc = serde_json::json!({
        "created": created.to_rfc3339(),
        "status": "success",
        "service": service,
        "kind": kind,
        "host": "demo",
        "files": files.iter().map(|(p, s, h)| serde_json::json!({"path": p, "size": s, "sha256": h})).collect::<Vec<_>>(),
    });
    fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(&doc)?)?;
    Ok(())
}

fn flip_byte(path: &Path) -> anyhow::Result<()> {
    let mut b = fs::read(path)?;
    let i = b.len() / 2;
    b[i] ^= 0x20;
    fs::write(path, b)?;
    Ok(())
}

/// A small real SQLite database, made by sqlx on a thread of its own so this works inside
/// or outside a tokio runtime.
fn make_sqlite(path: &Path) -> anyhow::Result<()> {
    let path = path.to_path_buf();
    std::thread::spawn(move || -> anyhow::Result<()> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(async {
            use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
            use sqlx::{ConnectOptions, Connection};
            let mut conn = SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Delete)
                .connect()
                .await?;
            sqlx::query("CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL)")
                .execute(&mut conn)
                .await?;
            for i in 1..=5 {
                sqlx::query("INSERT INTO posts (title, body) VALUES ($1, $2)")
                    .bind(format!("Post {i}"))
                    .bind(format!("Something worth restoring, part {i}."))
                    .execute(&mut conn)
                    .await?;
            }
            conn.close().await?;
            anyhow::Ok(())
        })
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the SQLite demo thread panicked"))?
    .context("creating the demo SQLite database")
}
