//! `[logs]` in config.toml: the files the Logs tab opens at start and `toban logs` knows by
//! name, the line cap, and the errors-per-hour threshold (seed 002: more than 10 errors an
//! hour means trouble).
//!
//! ```toml
//! [logs]
//! files = ["/srv/app/logs/*/*.log"]   # each matching file is a source named after it
//! containers = ["backend"]             # container output (stdout and stderr), by name
//! errors_per_hour = 10                 # more than this in an hour raises a local alarm
//! max_lines = 1000000                  # per source; older lines are dropped and counted
//!
//! [[logs.source]]
//! name = "nginx"
//! path = "/var/log/nginx/*.log"        # a glob: `*` and `?` in the file name
//! ```

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogsConfig {
    /// Globs of files, each a source named after its path.
    pub files: Vec<String>,
    /// Containers whose output is a source (`container:NAME`), by name.
    pub containers: Vec<String>,
    /// Named sources (one name may cover several files).
    #[serde(rename = "source")]
    pub sources: Vec<LogSourceConfig>,
    /// More error lines than this in an hour raises a local alarm for the source.
    pub errors_per_hour: u32,
    /// Lines kept per source; older ones are dropped (and the view says how many).
    pub max_lines: usize,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogSourceConfig {
    pub name: String,
    pub path: String,
}

impl Default for LogsConfig {
    fn default() -> Self {
        LogsConfig {
            files: Vec::new(),
            containers: Vec::new(),
            sources: Vec::new(),
            errors_per_hour: 10,
            max_lines: 1_000_000,
        }
    }
}

impl LogsConfig {
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.errors_per_hour == 0 {
            out.push(("logs.errors_per_hour".into(), "must be at least 1".into()));
        }
        if self.max_lines < 1000 {
            out.push(("logs.max_lines".into(), "must be at least 1000".into()));
        }
        let mut names = std::collections::HashSet::new();
        for (i, s) in self.sources.iter().enumerate() {
            if s.name.trim().is_empty() {
                out.push((format!("logs.source[{i}].name"), "must not be empty".into()));
            } else if !names.insert(s.name.as_str()) {
                out.push((
                    format!("logs.source[{i}].name"),
                    format!("`{}` is used by an earlier source", s.name),
                ));
            }
            if s.path.trim().is_empty() {
                out.push((format!("logs.source[{i}].path"), "must not be empty".into()));
            }
        }
        out
    }
}
