//! `extract`: a backup's tar archives against a target folder — list what a restore would
//! change (`list`, writes nothing), extract (`extract`), or compare byte for byte
//! (`verify`). Archive paths never leave the target.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::context::StopRead;
use super::kind::{de, duration, Field, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extract {
    pub from: String,
    pub component: String,
    pub target: String,
    pub mode: ExtractMode,
    #[serde(default = "two_hours", deserialize_with = "duration")]
    pub timeout: Duration,
}

fn two_hours() -> Duration {
    Duration::from_secs(2 * 3600)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtractMode {
    List,
    Extract,
    Verify,
}

impl StepKind for Extract {
    const NAME: &'static str = "extract";

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        de(table)
    }

    fn fields(&self) -> Vec<Field<'_>> {
        vec![
            Field::public("from", &self.from),
            Field::public("component", &self.component),
            Field::public("target", &self.target),
        ]
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(Extract {
            from: r.text(&self.from)?,
            component: r.text(&self.component)?,
            target: r.text(&self.target)?,
            ..self.clone()
        })
    }

    fn describe(&self) -> Vec<String> {
        let (from, component, target) = (&self.from, &self.component, &self.target);
        vec![match self.mode {
            ExtractMode::List => {
                format!("list what restoring `{component}` from {from} would change in {target} (changes nothing)")
            }
            ExtractMode::Extract => {
                format!("extract `{component}` from {from} into {target} (overwrites files)")
            }
            ExtractMode::Verify => {
                format!("compare {target} with `{component}` in {from}, byte for byte")
            }
        }]
    }

    fn time_limit(&self) -> Duration {
        self.timeout
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(async move {
            cx.blocking(move |stop| {
                extract(
                    Path::new(&self.from),
                    &self.component,
                    Path::new(&self.target),
                    self.mode,
                    stop,
                )
            })
            .await
        })
    }
}

fn archives(from: &Path, component: &str) -> Result<Vec<PathBuf>, String> {
    if from.is_file() {
        return Ok(vec![from.to_path_buf()]);
    }
    if component != "all" {
        let p = from.join(format!("{component}.tar.gz"));
        return if p.is_file() {
            Ok(vec![p])
        } else {
            Err(format!("no {} in the backup", p.display()))
        };
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(from)
        .map_err(|e| format!("{}: {e}", from.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.to_string_lossy().ends_with(".tar.gz") || p.extension().is_some_and(|e| e == "tgz")
        })
        .collect();
    v.sort();
    if v.is_empty() {
        return Err(format!("no *.tar.gz in {}", from.display()));
    }
    Ok(v)
}

type Archive<'a> = tar::Archive<flate2::read::GzDecoder<StopRead<'a, std::fs::File>>>;

fn open_tar<'a>(p: &Path, stop: &'a CancellationToken) -> Result<Archive<'a>, String> {
    let f = std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
    Ok(tar::Archive::new(flate2::read::GzDecoder::new(StopRead {
        inner: f,
        stop,
    })))
}

/// A path inside the archive made safe to join to the target: no root, no `..`.
fn inside(target: &Path, entry: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut out = target.to_path_buf();
    for c in entry.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

pub fn extract(
    from: &Path,
    component: &str,
    target: &Path,
    mode: ExtractMode,
    stop: &CancellationToken,
) -> Result<String, String> {
    let mut lines = Vec::new();
    let (mut new, mut changed, mut same, mut bad) = (0, 0, 0, 0);
    if mode == ExtractMode::Extract {
        std::fs::create_dir_all(target).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    for archive in archives(from, component)? {
        let mut ar = open_tar(&archive, stop)?;
        if mode == ExtractMode::Extract {
            ar.set_preserve_permissions(true);
            ar.set_preserve_mtime(true);
            ar.set_overwrite(true);
            // unpack_in refuses entries that would land outside the target.
            for entry in ar
                .entries()
                .map_err(|e| format!("{}: {e}", archive.display()))?
            {
                let mut entry = entry.map_err(|e| format!("{}: {e}", archive.display()))?;
                let p = entry.path().map_err(|e| e.to_string())?.into_owned();
                let placed = entry
                    .unpack_in(target)
                    .map_err(|e| format!("extracting {}: {e}", p.display()))?;
                if placed && entry.header().entry_type().is_file() {
                    new += 1;
                }
            }
            continue;
        }
        for entry in ar
            .entries()
            .map_err(|e| format!("{}: {e}", archive.display()))?
        {
            let mut entry = entry.map_err(|e| format!("{}: {e}", archive.display()))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let rel = entry.path().map_err(|e| e.to_string())?.into_owned();
            let Some(dest) = inside(target, &rel) else {
                return Err(format!("unsafe path in archive: {}", rel.display()));
            };
            let mut want = Vec::new();
            entry
                .read_to_end(&mut want)
                .map_err(|e| format!("{}: {e}", rel.display()))?;
            let (label, differs) = match std::fs::read(&dest) {
                Err(_) => {
                    new += 1;
                    (("new    ", "MISSING"), true)
                }
                Ok(have) if have != want => {
                    changed += 1;
                    (("changed", "DIFFERS"), true)
                }
                Ok(_) => {
                    same += 1;
                    (("", ""), false)
                }
            };
            if differs {
                bad += 1;
                let word = if mode == ExtractMode::List {
                    label.0
                } else {
                    label.1
                };
                lines.push(format!("{word} {}", rel.display()));
            }
        }
    }
    match mode {
        ExtractMode::Extract => Ok(format!("extracted {new} file(s) into {}", target.display())),
        ExtractMode::List => {
            let mut s = format!("{new} new, {changed} changed, {same} unchanged");
            for l in lines {
                s.push('\n');
                s.push_str(&l);
            }
            Ok(s)
        }
        ExtractMode::Verify => {
            if bad > 0 {
                Err(format!(
                    "{bad} file(s) differ from the backup: {}",
                    lines.join("; ")
                ))
            } else {
                Ok(format!("{same} file(s) identical to the backup"))
            }
        }
    }
}
