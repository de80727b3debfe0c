//! Which files a source names: a `[logs]` source by name, a configured glob, or a path.
//! Globs take `*` and `?` in the file name only (`/srv/app/logs/*.log`), which is what log
//! directories need, and are expanded by reading the one directory.

use std::path::{Path, PathBuf};

use crate::config::logs::LogsConfig;

/// A file to read, with the name it is shown under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSource {
    pub name: String,
    pub path: PathBuf,
}

/// Every file of the config's `files` globs and `source` entries, in config order.
pub fn configured(cfg: &LogsConfig) -> Vec<FileSource> {
    let mut out = Vec::new();
    for g in &cfg.files {
        for p in expand(g) {
            out.push(FileSource {
                name: p.display().to_string(),
                path: p,
            });
        }
    }
    for c in &cfg.containers {
        let name = format!("{}{c}", super::container::PREFIX);
        out.push(FileSource {
            name: name.clone(),
            path: PathBuf::from(name),
        });
    }
    for g in &cfg.cloudwatch {
        let name = format!("{}{g}", super::cloudwatch::PREFIX);
        out.push(FileSource {
            name: name.clone(),
            path: PathBuf::from(name),
        });
    }
    for s in &cfg.sources {
        let files = expand(&s.path);
        let many = files.len() > 1;
        for p in files {
            let name = if many {
                format!(
                    "{}:{}",
                    s.name,
                    p.file_name().unwrap_or_default().to_string_lossy()
                )
            } else {
                s.name.clone()
            };
            out.push(FileSource { name, path: p });
        }
    }
    out
}

/// What `toban logs SOURCE` means: a configured source's files, else the path itself.
pub fn resolve(cfg: &LogsConfig, arg: &str) -> Vec<FileSource> {
    let named: Vec<FileSource> = configured(cfg)
        .into_iter()
        .filter(|s| s.name == arg || s.name.starts_with(&format!("{arg}:")))
        .collect();
    if !named.is_empty() {
        return named;
    }
    if super::container::name_of(arg).is_some()
        || super::journal::path_of(arg).is_some()
        || super::cloudwatch::target_of(arg).is_some()
    {
        return vec![FileSource {
            name: arg.to_string(),
            path: PathBuf::from(arg),
        }];
    }
    if arg.contains(['*', '?']) {
        return expand(arg)
            .into_iter()
            .map(|p| FileSource {
                name: p.display().to_string(),
                path: p,
            })
            .collect();
    }
    vec![FileSource {
        name: arg.to_string(),
        path: PathBuf::from(arg),
    }]
}

/// Files matching `pattern` (wildcards in the last component only), sorted; a pattern
/// without wildcards is itself.
pub fn expand(pattern: &str) -> Vec<PathBuf> {
    let path = Path::new(pattern);
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return vec![path.to_path_buf()];
    };
    if !name.contains(['*', '?']) {
        return vec![path.to_path_buf()];
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| wildcard(name.as_bytes(), e.file_name().as_encoded_bytes()))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

fn wildcard(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| wildcard(rest, &s[i..])),
        Some((b'?', rest)) => !s.is_empty() && wildcard(rest, &s[1..]),
        Some((c, rest)) => s.first() == Some(c) && wildcard(rest, &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_names() {
        assert!(wildcard(b"*.log", b"app.log"));
        assert!(!wildcard(b"*.log", b"app.log.1"));
        assert!(wildcard(b"a?p*", b"app.log"));
        let d = tempfile::tempdir().unwrap();
        for n in ["a.log", "b.log", "c.txt"] {
            std::fs::write(d.path().join(n), "x\n").unwrap();
        }
        let g = format!("{}/*.log", d.path().display());
        assert_eq!(expand(&g).len(), 2);
        let cfg = LogsConfig {
            sources: vec![crate::config::logs::LogSourceConfig {
                name: "app".into(),
                path: g,
            }],
            ..Default::default()
        };
        let r = resolve(&cfg, "app");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].name, "app:a.log");
        assert_eq!(resolve(&cfg, "/x/y.log")[0].path, PathBuf::from("/x/y.log"));
    }
}
