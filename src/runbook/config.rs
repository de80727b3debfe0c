//! `[runbooks]` in config.toml.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

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
