//! A runbook's parameters: kinds, defaults, and the check of a value (required, no control
//! characters, a choice, a whole number, the `pattern`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    pub name: String,
    #[serde(default)]
    pub kind: ParamKind,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub help: Option<String>,
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub choices: Vec<String>,
    /// A regular expression the value must match somewhere (anchor it with `^…$` to
    /// match the whole value).
    #[serde(default)]
    pub pattern: Option<Pattern>,
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    #[default]
    String,
    Choice,
    /// A backup from the catalog (a file or a dated folder).
    Backup,
    /// Never shown, never audited.
    Secret,
    Path,
    /// The name of a database connection from the configuration.
    Connection,
    /// Items separated by commas or spaces; as a whole list element it expands to its items.
    List,
    Integer,
}

impl Param {
    /// Err says what is wrong with `value` for this parameter.
    pub fn validate(&self, value: &str) -> Result<(), String> {
        if value.is_empty() {
            return if self.required {
                Err(format!("`{}` is required", self.name))
            } else {
                Ok(())
            };
        }
        if value.chars().any(|c| c.is_control()) {
            return Err(format!(
                "`{}` must not contain control characters",
                self.name
            ));
        }
        match self.kind {
            ParamKind::Choice if !self.choices.iter().any(|c| c == value) => {
                return Err(format!(
                    "`{}` must be one of: {}",
                    self.name,
                    self.choices.join(", ")
                ))
            }
            ParamKind::Integer if value.parse::<i64>().is_err() => {
                return Err(format!("`{}` must be a whole number", self.name))
            }
            _ => {}
        }
        if let Some(p) = &self.pattern {
            if !p.is_match(value) {
                return Err(format!("`{}` does not match `{p}`", self.name));
            }
        }
        Ok(())
    }
}

/// Largest compiled pattern: a runbook's pattern is a short check, not a program.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// A parameter's `pattern`, compiled when the runbook is read (the `regex` crate: linear
/// time whatever the input). A pattern that does not compile keeps its error, which
/// validation reports with the file and line; it matches nothing.
#[derive(Clone)]
pub struct Pattern {
    text: String,
    regex: Result<regex::Regex, String>,
}

impl Pattern {
    pub fn new(text: impl Into<String>) -> Pattern {
        let text = text.into();
        let regex = regex::RegexBuilder::new(&text)
            .size_limit(PATTERN_SIZE_LIMIT)
            .build()
            .map_err(|e| match e {
                regex::Error::Syntax(s) => s,
                other => other.to_string(),
            });
        Pattern { text, regex }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Why it does not compile.
    pub fn error(&self) -> Option<&str> {
        self.regex.as_ref().err().map(String::as_str)
    }

    pub fn is_match(&self, value: &str) -> bool {
        self.regex.as_ref().is_ok_and(|r| r.is_match(value))
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.text)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Serialize for Pattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Pattern::new(String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_regular_expressions() {
        let name = Pattern::new("^[A-Za-z_][A-Za-z0-9_]*$");
        assert!(name.is_match("backup_mgmt"));
        assert!(!name.is_match("x; drop"));
        let gz = Pattern::new(r"\.sql\.gz$");
        assert!(gz.is_match("/b/20260225.sql.gz"));
        assert!(!gz.is_match("/b/x.sql"));
        let port = Pattern::new(r"^\d+$");
        assert!(port.is_match("5432"));
        assert!(!port.is_match("54a"));
        // What the old home-made subset could not say.
        let key = Pattern::new("^(AKIA|ASIA)[A-Z0-9]{16}$");
        assert!(key.is_match("AKIAABCDEFGHIJKLMNOP"));
        assert!(!key.is_match("AKIAABCDEF"));
    }

    #[test]
    fn a_bad_pattern_keeps_its_error_and_matches_nothing() {
        let p = Pattern::new("^[a-z");
        assert!(p.error().is_some());
        assert!(!p.is_match("a"));
    }

    #[test]
    fn nested_repetition_stays_fast() {
        // Exponential for a backtracking matcher; linear here.
        let p = Pattern::new("^(a+)+$");
        let s = format!("{}!", "a".repeat(50_000));
        let t = std::time::Instant::now();
        assert!(!p.is_match(&s));
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
    }
}
