//! One runbook file into a [`Runbook`]: the keys every step has are read here, the rest of
//! a step's table by its kind (`StepAction::parse`). Every error found is kept, each with
//! its file, line and field.

use std::path::Path;

use serde::Deserialize;

use super::{validate, DrillMode, DrillSpec, OnFailure, Param, Runbook, RunbookKind, Step};
use crate::config::error::line_col;
use crate::config::ConfigError;
use crate::runbook::steps::kind::de;
use crate::runbook::steps::{StepAction, StepHeader, STEP_KINDS};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRunbook {
    name: String,
    title: String,
    #[serde(default)]
    description: String,
    kind: RunbookKind,
    #[serde(default)]
    drillable: bool,
    #[serde(default, rename = "param")]
    params: Vec<Param>,
    #[serde(default)]
    drill: Option<DrillSpec>,
    #[serde(rename = "step")]
    steps: Vec<toml::Spanned<toml::Table>>,
}

/// The keys every step has, whatever its kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommon {
    id: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    explain: Option<String>,
    #[serde(default)]
    destructive: bool,
    #[serde(default)]
    dry_run: Option<String>,
    #[serde(default)]
    when: Option<String>,
    #[serde(default)]
    unless: Option<String>,
    #[serde(default)]
    drill: DrillMode,
    #[serde(default)]
    on_failure: OnFailure,
    #[serde(default)]
    rollback: Option<String>,
    #[serde(default)]
    rollback_only: bool,
    #[serde(default)]
    finally: bool,
}

const COMMON_KEYS: &[&str] = &[
    "id",
    "title",
    "explain",
    "destructive",
    "dry_run",
    "when",
    "unless",
    "drill",
    "on_failure",
    "rollback",
    "rollback_only",
    "finally",
];

/// The closest of `options` to `name`, when one is close enough to be a typo.
pub fn did_you_mean(name: &str, options: &[&str]) -> Option<String> {
    options
        .iter()
        .map(|o| (strsim::jaro_winkler(o, name), *o))
        .filter(|(s, _)| *s > 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, o)| o.to_string())
}

/// sha256 (hex) of the runbook's canonical TOML: the parsed table written back, so a
/// comment or re-indented line leaves it unchanged while any value, step or order of steps
/// changes it.
pub fn digest(source: &str) -> String {
    use sha2::{Digest, Sha256};
    let canonical = source
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| toml::to_string(&t).ok())
        .unwrap_or_else(|| source.to_string());
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Parses and validates one runbook file. Every error found is returned, not just the first.
pub fn parse(file: &Path, source: &str) -> Result<Runbook, Vec<ConfigError>> {
    let raw: RawRunbook = match toml::from_str(source) {
        Ok(r) => r,
        Err(e) => return Err(vec![ConfigError::from_toml(file, source, &e)]),
    };
    let mut errors = Vec::new();
    let mut steps = Vec::new();
    for (i, spanned) in raw.steps.iter().enumerate() {
        match parse_step(file, source, i, spanned) {
            Ok(s) => steps.push(s),
            Err(e) => errors.push(e),
        }
    }
    let rb = Runbook {
        name: raw.name,
        title: raw.title,
        description: raw.description,
        kind: raw.kind,
        drillable: raw.drillable,
        params: raw.params,
        drill: raw.drill,
        steps,
        source: file.to_path_buf(),
        digest: digest(source),
    };
    errors.extend(validate::validate(&rb, source));
    if errors.is_empty() {
        Ok(rb)
    } else {
        Err(errors)
    }
}

fn parse_step(
    file: &Path,
    source: &str,
    i: usize,
    spanned: &toml::Spanned<toml::Table>,
) -> Result<Step, ConfigError> {
    let span = spanned.span();
    // `[[step]]` headers span from the header: point at the first key's line instead.
    let line = first_key_line(source, span.start).unwrap_or_else(|| line_col(source, span.start).0);
    let err = |field: &str, msg: String| {
        ConfigError::new(file, msg)
            .at(line, 1)
            .field(format!("step[{i}].{field}"))
    };
    let mut table = spanned.get_ref().clone();
    let kind = match table.remove("kind") {
        Some(toml::Value::String(k)) => k,
        Some(_) => return Err(err("kind", "must be a string".into())),
        None => return Err(err("kind", "missing field `kind`".into())),
    };
    if !STEP_KINDS.contains(&kind.as_str()) {
        let mut msg = format!("unknown step kind `{kind}`");
        if let Some(s) = did_you_mean(&kind, STEP_KINDS) {
            msg.push_str(&format!(" (did you mean `{s}`?)"));
        }
        return Err(ConfigError::new(file, msg)
            .at(line_of(source, &format!("\"{kind}\""), line), 1)
            .field(format!("step[{i}].kind")));
    }
    let mut common_t = toml::Table::new();
    for k in COMMON_KEYS {
        if let Some(v) = table.remove(*k) {
            common_t.insert((*k).to_string(), v);
        }
    }
    let common: RawCommon = de(common_t).map_err(|m| err("", m))?;
    let header = StepHeader {
        id: &common.id,
        title: common.title.as_deref(),
    };
    let action = match StepAction::parse(&kind, table, &header) {
        Some(Ok(a)) => a,
        Some(Err(m)) => return Err(err(&kind, m)),
        None => return Err(err("kind", format!("unknown step kind `{kind}`"))),
    };
    Ok(Step {
        title: common.title.unwrap_or_else(|| common.id.clone()),
        id: common.id,
        explain: common.explain,
        action,
        destructive: common.destructive,
        dry_run: common.dry_run,
        when: common.when,
        unless: common.unless,
        drill: common.drill,
        on_failure: common.on_failure,
        rollback: common.rollback,
        rollback_only: common.rollback_only,
        finally: common.finally,
        line,
    })
}

fn first_key_line(source: &str, start: usize) -> Option<usize> {
    let rest = source.get(start..)?;
    let mut offset = start;
    for l in rest.split_inclusive('\n') {
        let t = l.trim();
        if !t.is_empty() && !t.starts_with('#') && !t.starts_with('[') {
            return Some(line_col(source, offset).0);
        }
        offset += l.len();
    }
    None
}

/// The line of the first occurrence of `needle` at or after `from_line`, else `from_line`.
pub fn line_of(source: &str, needle: &str, from_line: usize) -> usize {
    let start: usize = source
        .split_inclusive('\n')
        .take(from_line.saturating_sub(1))
        .map(str::len)
        .sum();
    source
        .get(start..)
        .and_then(|s| s.find(needle))
        .map(|o| line_col(source, start + o).0)
        .unwrap_or(from_line)
}
