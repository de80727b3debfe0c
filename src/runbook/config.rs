//! `[runbooks]` in config.toml.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RunbooksConfig {
    /// Extra folders of runbook files (the user's config folder `runbooks/` is always read).
    pub dirs: Vec<PathBuf>,
}
