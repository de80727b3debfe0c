//! Where toban keeps its files: config (config.toml, themes/, keymaps/, runbooks/), data (the
//! SQLite store) and state (logs, run state).

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub state_dir: PathBuf,
}

impl Paths {
    /// The user's folders, following the platform's rules (XDG_CONFIG_HOME, XDG_DATA_HOME,
    /// XDG_STATE_HOME on Linux). Without a home directory, a folder under the temp dir.
    pub fn discover() -> Paths {
        match directories::ProjectDirs::from("", "", "toban") {
            Some(d) => Paths {
                config_dir: d.config_dir().to_path_buf(),
                data_dir: d.data_dir().to_path_buf(),
                // Only Linux has a state dir; elsewhere keep state beside local data.
                state_dir: d
                    .state_dir()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| d.data_local_dir().join("state")),
            },
            None => Paths::under(&std::env::temp_dir().join("toban")),
        }
    }

    /// Everything under one folder: `root/config`, `root/data`, `root/state` (for `--demo` and
    /// tests).
    pub fn under(root: &Path) -> Paths {
        Paths {
            config_dir: root.join("config"),
            data_dir: root.join("data"),
            state_dir: root.join("state"),
        }
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn themes_dir(&self) -> PathBuf {
        self.config_dir.join("themes")
    }

    pub fn keymaps_dir(&self) -> PathBuf {
        self.config_dir.join("keymaps")
    }
}

/// Stems of the `*.toml` files in a folder (none when it does not exist).
pub(crate) fn toml_stems(dir: Option<&Path>) -> Vec<String> {
    let Some(entries) = dir.and_then(|d| std::fs::read_dir(d).ok()) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(String::from))
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_puts_the_three_folders_below_root() {
        let p = Paths::under(Path::new("/tmp/x"));
        assert_eq!(p.config_dir, Path::new("/tmp/x/config"));
        assert_eq!(p.data_dir, Path::new("/tmp/x/data"));
        assert_eq!(p.state_dir, Path::new("/tmp/x/state"));
        assert_eq!(p.config_file(), Path::new("/tmp/x/config/config.toml"));
    }
}
