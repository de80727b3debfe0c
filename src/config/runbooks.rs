//! `[runbooks]` in config.toml: where runbook files are and the database connections their
//! steps name.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::Paths;

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RunbooksConfig {
    /// Extra folders of runbook files (the user's config folder `runbooks/` is always read).
    pub dirs: Vec<PathBuf>,
    /// Database connections that `sql`, `alter_password` and `check_login` steps name:
    /// `[runbooks.connections] postgres = "postgres://admin@127.0.0.1:5432/postgres"`.
    /// A URL's password is never shown or logged; keep this file private (mode 0600).
    pub connections: BTreeMap<String, String>,
}

impl RunbooksConfig {
    /// Every folder runbooks are read from: the user's `runbooks/` first, then `dirs`.
    pub fn all_dirs(&self, paths: &Paths) -> Vec<PathBuf> {
        let mut dirs = vec![paths.config_dir.join("runbooks")];
        dirs.extend(self.dirs.iter().cloned());
        dirs
    }
}
