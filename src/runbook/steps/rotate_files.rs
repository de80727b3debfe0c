//! `rotate_files`: toban's own log rotation — each file copied to `<file>.<time>.gz`, then
//! truncated in place (copy-truncate: the writer keeps its descriptor). The copy gets the
//! original's mode, owner and group: a 0640 log of `app:adm` stays readable by `adm` and by
//! nobody else.

use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::context::StopRead;
use super::kind::{de, duration, Field, FieldUse, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateFiles {
    pub paths: Vec<String>,
    #[serde(default = "one_hour", deserialize_with = "duration")]
    pub timeout: Duration,
}

fn one_hour() -> Duration {
    Duration::from_secs(3600)
}

impl StepKind for RotateFiles {
    const NAME: &'static str = "rotate_files";

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        de(table)
    }

    fn fields(&self) -> Vec<Field<'_>> {
        Field::each("paths", &self.paths, FieldUse::Public)
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(RotateFiles {
            paths: r.list(&self.paths)?,
            timeout: self.timeout,
        })
    }

    fn describe(&self) -> Vec<String> {
        self.paths
            .iter()
            .map(|p| format!("copy {p} to {p}.<time>.gz and truncate it"))
            .collect()
    }

    fn time_limit(&self) -> Duration {
        self.timeout
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { cx.blocking(move |stop| rotate_files(&self.paths, stop)).await })
    }
}

pub fn rotate_files(paths: &[String], stop: &CancellationToken) -> Result<String, String> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut lines = Vec::new();
    for p in paths {
        let path = Path::new(p);
        let rotated = PathBuf::from(format!("{p}.{stamp}.gz"));
        let src = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| format!("{p}: {e}"))?;
        let meta = src.metadata().map_err(|e| format!("{p}: {e}"))?;
        // Private until it has the original's owner and mode (never wider for a moment).
        let out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&rotated)
            .map_err(|e| format!("{}: {e}", rotated.display()))?;
        let kept = keep_owner_and_mode(&out, &meta);
        if let Err(e) = &kept {
            drop(out);
            let _ = std::fs::remove_file(&rotated);
            return Err(format!("{}: {e}", rotated.display()));
        }
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        let mut reader = StopRead { inner: &src, stop };
        let copied = std::io::copy(&mut reader, &mut gz);
        let n = match copied {
            Ok(n) => n,
            Err(e) => {
                // Nothing truncated: the half-written copy goes, the log stays as it was.
                drop(gz);
                let _ = std::fs::remove_file(&rotated);
                return Err(format!("{p}: {e}"));
            }
        };
        gz.finish()
            .and_then(|f| f.sync_all())
            .map_err(|e| format!("{}: {e}", rotated.display()))?;
        // Copy-truncate: the writer keeps its descriptor (with O_APPEND it writes at 0).
        src.set_len(0).map_err(|e| format!("truncating {p}: {e}"))?;
        lines.push(format!(
            "{p}: {n} bytes to {} (mode {:04o}, owner {}:{})",
            rotated.display(),
            meta.mode() & 0o7777,
            meta.uid(),
            meta.gid()
        ));
    }
    Ok(lines.join("\n"))
}

/// The original's owner and group (only root may give a file away: anyone else's copy stays
/// theirs when the owner differs), then its mode — after the chown, which clears set-id bits.
fn keep_owner_and_mode(out: &std::fs::File, meta: &std::fs::Metadata) -> std::io::Result<()> {
    let mine = out.metadata()?;
    if (mine.uid(), mine.gid()) != (meta.uid(), meta.gid()) {
        std::os::unix::fs::fchown(out, Some(meta.uid()), Some(meta.gid())).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "cannot give the copy the log's owner {}:{} ({e}); nothing rotated",
                    meta.uid(),
                    meta.gid()
                ),
            )
        })?;
    }
    out.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o7777))
}
