//! `[backups]` in config.toml.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct BackupsConfig {
    /// Folders whose first level is the service: `<root>/<service>/{daily,weekly}/YYYY-MM-DD/`.
    pub roots: Vec<PathBuf>,
}
