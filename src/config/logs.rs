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
//!
//! cloudwatch = ["/ecs/staff-api"]      # CloudWatch Logs groups (`GROUP` or `GROUP:STREAM`)
//! [logs.aws]                           # how they are reached: the standard AWS chain
//! profile = "prod"
//! region = "ap-northeast-1"
//! poll = "2s"                          # FilterLogEvents for new events this often
//! since = "1h"                         # how far back a group's tail starts
//!
//! [[logs.query]]                       # Logs Insights queries beside the shipped two
//! name = "5xx by path"
//! query = "fields @timestamp, path | filter status >= 500 | stats count() by path"
//! groups = ["/ecs/staff-api"]          # empty: the selected CloudWatch source's group
//! since = "1h"
//! ```

use std::time::Duration;

use serde::Deserialize;

use super::humantime_serde_compat;

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
    /// CloudWatch Logs groups tailed as sources: `GROUP` or `GROUP:STREAM` (a group name
    /// never holds a colon).
    pub cloudwatch: Vec<String>,
    /// How CloudWatch Logs is reached and polled.
    pub aws: LogsAws,
    /// Logs Insights queries offered beside the shipped ones.
    #[serde(rename = "query")]
    pub queries: Vec<SavedQueryConfig>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogsAws {
    /// A profile of ~/.aws/config; empty: the default chain (env, default profile, role).
    pub profile: Option<String>,
    /// Empty: the profile's region or `AWS_REGION`.
    pub region: Option<String>,
    /// For a local stand-in or a VPC endpoint; `AWS_ENDPOINT_URL` is honoured without it.
    pub endpoint_url: Option<String>,
    /// New events are asked for this often (FilterLogEvents from the last one seen).
    #[serde(with = "humantime_serde_compat")]
    pub poll: Duration,
    /// A group's tail starts this long ago.
    #[serde(with = "humantime_serde_compat")]
    pub since: Duration,
}

impl Default for LogsAws {
    fn default() -> Self {
        LogsAws {
            profile: None,
            region: None,
            endpoint_url: None,
            poll: Duration::from_secs(2),
            since: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SavedQueryConfig {
    pub name: String,
    pub query: String,
    /// Groups queried; empty: the selected CloudWatch source's group.
    #[serde(default)]
    pub groups: Vec<String>,
    /// The query's window ends now and starts this long ago.
    #[serde(default = "one_hour", with = "humantime_serde_compat")]
    pub since: Duration,
}

/// `GROUP` or `GROUP:STREAM`: a log group name is `[A-Za-z0-9_./#-]{1,512}` (no colon), a
/// stream name anything but `:` and `*`.
pub fn group_and_stream(s: &str) -> Option<(&str, Option<&str>)> {
    let (g, st) = match s.split_once(':') {
        Some((g, st)) => (g, Some(st)),
        None => (s, None),
    };
    let group_ok = !g.is_empty()
        && g.len() <= 512
        && g.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./#-".contains(&b));
    let stream_ok = st.is_none_or(|st| !st.is_empty() && !st.contains([':', '*']));
    (group_ok && stream_ok).then_some((g, st))
}

fn one_hour() -> Duration {
    Duration::from_secs(3600)
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
            cloudwatch: Vec::new(),
            aws: LogsAws::default(),
            queries: Vec::new(),
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
        for (i, g) in self.cloudwatch.iter().enumerate() {
            if group_and_stream(g).is_none() {
                out.push((
                    format!("logs.cloudwatch[{i}]"),
                    format!("`{g}` is not a log group (`GROUP` or `GROUP:STREAM`)"),
                ));
            }
        }
        if self.aws.poll < Duration::from_secs(1) {
            out.push(("logs.aws.poll".into(), "must be at least 1s".into()));
        }
        for (i, q) in self.queries.iter().enumerate() {
            if q.name.trim().is_empty() {
                out.push((format!("logs.query[{i}].name"), "must not be empty".into()));
            }
            if q.query.trim().is_empty() {
                out.push((format!("logs.query[{i}].query"), "must not be empty".into()));
            }
        }
        out
    }
}
