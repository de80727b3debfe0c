//! The runbook file format (TOML) and its validation.
//!
//! ```toml
//! name = "restore-postgres"
//! title = "Restore PostgreSQL from a pg_dump"
//! kind = "restore"            # restore | rotation | maintenance
//! drillable = true
//!
//! [[param]]
//! name = "database"
//! kind = "string"             # string choice backup secret path connection list integer
//! pattern = '^[a-z_]+$'
//!
//! [drill.set]                 # parameter overrides for a drill (a scratch target)
//! database = "{{params.database}}_drill"
//!
//! [[step]]
//! id = "confirm"
//! kind = "confirm"
//! typed = "{{params.database}}"
//! destructive = true
//! ```
//!
//! Every mistake is a [`ConfigError`] naming the file, the line and the field; nothing here
//! panics on any input.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::template::{self, Filter, Var};
use crate::config::error::line_col;
use crate::config::ConfigError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunbookKind {
    Restore,
    Rotation,
    Maintenance,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Runbook {
    pub name: String,
    pub title: String,
    pub description: String,
    pub kind: RunbookKind,
    pub drillable: bool,
    pub params: Vec<Param>,
    pub drill: Option<DrillSpec>,
    pub steps: Vec<Step>,
    /// The file it came from (`<shipped>/NAME.toml` for embedded ones).
    pub source: PathBuf,
}

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
    /// A regular-expression-free check kept deliberately simple: see [`Param::validate`].
    #[serde(default)]
    pub pattern: Option<String>,
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
            if !pattern_matches(p, value) {
                return Err(format!("`{}` does not match `{p}`", self.name));
            }
        }
        Ok(())
    }
}

/// A small pattern language (no regex crate in the tree): `^…$` anchors, character classes
/// `[a-z0-9_]`, `.`, `\.`/`\d`/`\w`, and `*` `+` `?` after an atom. Enough for names, ports,
/// file suffixes.
pub fn pattern_matches(pattern: &str, value: &str) -> bool {
    let atoms = match compile_pattern(pattern) {
        Some(a) => a,
        None => return false,
    };
    let anchored_start = pattern.starts_with('^');
    let v: Vec<char> = value.chars().collect();
    if anchored_start {
        match_here(&atoms.0, &v, atoms.1)
    } else {
        (0..=v.len()).any(|i| match_here(&atoms.0, &v[i..], atoms.1))
    }
}

#[derive(Debug, Clone)]
enum Atom {
    Any,
    Set(Vec<(char, char)>, bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rep {
    One,
    Star,
    Plus,
    Opt,
}

type Compiled = (Vec<(Atom, Rep)>, bool);

fn compile_pattern(p: &str) -> Option<Compiled> {
    let mut chars: Vec<char> = p.chars().collect();
    if chars.first() == Some(&'^') {
        chars.remove(0);
    }
    let mut end = false;
    if chars.last() == Some(&'$') && !(chars.len() >= 2 && chars[chars.len() - 2] == '\\') {
        chars.pop();
        end = true;
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let atom = match chars[i] {
            '.' => Atom::Any,
            '\\' => {
                i += 1;
                match chars.get(i)? {
                    'd' => Atom::Set(vec![('0', '9')], false),
                    'w' => Atom::Set(vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')], false),
                    c => Atom::Set(vec![(*c, *c)], false),
                }
            }
            '[' => {
                let mut j = i + 1;
                let neg = chars.get(j) == Some(&'^');
                if neg {
                    j += 1;
                }
                let mut ranges = Vec::new();
                while *chars.get(j)? != ']' {
                    let a = if chars[j] == '\\' {
                        j += 1;
                        *chars.get(j)?
                    } else {
                        chars[j]
                    };
                    if chars.get(j + 1) == Some(&'-') && chars.get(j + 2).is_some_and(|c| *c != ']')
                    {
                        ranges.push((a, chars[j + 2]));
                        j += 3;
                    } else {
                        ranges.push((a, a));
                        j += 1;
                    }
                }
                i = j;
                Atom::Set(ranges, neg)
            }
            c => Atom::Set(vec![(c, c)], false),
        };
        i += 1;
        let rep = match chars.get(i) {
            Some('*') => Rep::Star,
            Some('+') => Rep::Plus,
            Some('?') => Rep::Opt,
            _ => Rep::One,
        };
        if rep != Rep::One {
            i += 1;
        }
        out.push((atom, rep));
    }
    Some((out, end))
}

fn atom_matches(a: &Atom, c: char) -> bool {
    match a {
        Atom::Any => true,
        Atom::Set(r, neg) => r.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *neg,
    }
}

fn match_here(atoms: &[(Atom, Rep)], v: &[char], end: bool) -> bool {
    let Some(((atom, rep), rest)) = atoms.split_first() else {
        return !end || v.is_empty();
    };
    match rep {
        Rep::One => !v.is_empty() && atom_matches(atom, v[0]) && match_here(rest, &v[1..], end),
        Rep::Opt => {
            (!v.is_empty() && atom_matches(atom, v[0]) && match_here(rest, &v[1..], end))
                || match_here(rest, v, end)
        }
        Rep::Star | Rep::Plus => {
            let mut n = 0;
            while n < v.len() && atom_matches(atom, v[n]) {
                n += 1;
            }
            let min = if *rep == Rep::Plus { 1 } else { 0 };
            (min..=n).rev().any(|k| match_here(rest, &v[k..], end))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillSpec {
    /// Parameter overrides for the scratch target (templates over the normal parameters).
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// The parameter that names the backup used, for the drill record.
    #[serde(default)]
    pub backup_param: Option<String>,
}

/// How a step behaves in a drill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrillMode {
    /// Runs in normal runs and drills.
    #[default]
    Both,
    /// Skipped in a drill (stopping production services).
    Skip,
    /// Only in a drill (make and drop the scratch database).
    Only,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    #[default]
    Stop,
    Continue,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub id: String,
    pub title: String,
    /// What the step is for, shown before it runs.
    pub explain: Option<String>,
    pub action: StepAction,
    pub destructive: bool,
    /// Replaces the generated "would …" text in a dry run.
    pub dry_run: Option<String>,
    /// The step runs only when this renders non-empty.
    pub when: Option<String>,
    /// The step runs only when this renders empty (the "else" of a `when`).
    pub unless: Option<String>,
    pub drill: DrillMode,
    pub on_failure: OnFailure,
    /// A step (marked `rollback_only`) run when this one fails.
    pub rollback: Option<String>,
    /// Never run in the normal flow; only as another step's rollback.
    pub rollback_only: bool,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepAction {
    Note {
        text: String,
    },
    Checklist {
        items: Vec<String>,
    },
    /// Ask for (or confirm) a parameter's value.
    Input {
        param: String,
        prompt: Option<String>,
    },
    Confirm {
        prompt: Option<String>,
        /// Typed confirmation: the operator must type exactly this (rendered) text.
        typed: Option<String>,
    },
    Command {
        argv: Vec<String>,
        cwd: Option<String>,
        env: BTreeMap<String, String>,
        #[serde(with = "secs")]
        timeout: Duration,
        stdin: Option<StdinSpec>,
        /// Exit codes that count as success (default `[0]`).
        ok_codes: Vec<i32>,
    },
    Container {
        action: ContainerAction,
        names: Vec<String>,
    },
    Sql {
        connection: String,
        /// Connect to this database instead of the connection's own.
        database: Option<String>,
        statements: Vec<String>,
        /// The first column of the last statement's first row must (not) equal this.
        expect: Option<String>,
        expect_not: Option<String>,
    },
    /// `ALTER USER … WITH PASSWORD` with the password sent as a quoted literal, never logged.
    AlterPassword {
        connection: String,
        user: String,
        password: String,
    },
    /// Try to log in; `expect = "ok"` or `"fail"`.
    CheckLogin {
        connection: String,
        user: String,
        password: String,
        expect: LoginExpect,
    },
    Wait {
        target: WaitTarget,
        #[serde(with = "secs")]
        timeout: Duration,
    },
    VerifyBackup {
        path: String,
    },
    /// Tar archives of a backup: list what would change, extract, or verify.
    Extract {
        from: String,
        component: String,
        target: String,
        mode: ExtractMode,
    },
    /// Write a file (content may hold a secret); mode as octal, e.g. "0600".
    WriteFile {
        path: String,
        content: String,
        mode: u32,
    },
    /// Replace a secret where the application reads it: a file (0600, atomic) or an AWS
    /// Secrets Manager secret; optionally one field of a JSON object.
    UpdateSecret {
        /// `file` or `aws_secrets_manager`.
        store: String,
        /// The file's path, or the secret's id.
        location: String,
        field: Option<String>,
        region: Option<String>,
        endpoint_url: Option<String>,
        value: String,
    },
    /// Copy-truncate then gzip each file (toban's own log rotation).
    RotateFiles {
        paths: Vec<String>,
    },
    /// Compare two rendered values: `changed` (must differ), `equal`, `contains`.
    Check {
        left: String,
        op: CheckOp,
        right: String,
    },
    ScheduleFollowup {
        #[serde(rename = "followup_title")]
        title: String,
        due: String,
        note: Option<String>,
    },
    GenerateSecret {
        length: usize,
    },
}

mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs(u64::deserialize(d)?))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdinSpec {
    /// Feed this file to the command's stdin.
    pub file: String,
    /// Decompress it on the way (gzip), in-process: no `gunzip | …` shell pipe.
    #[serde(default)]
    pub gunzip: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerAction {
    Start,
    Stop,
    Restart,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginExpect {
    Ok,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtractMode {
    List,
    Extract,
    Verify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOp {
    Changed,
    Equal,
    Contains,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitTarget {
    Http(String),
    Tcp(String),
    File(String),
    Container(String),
    /// The file is non-empty (written again after a rotation).
    Written(String),
}

impl StepAction {
    pub fn kind_name(&self) -> &'static str {
        match self {
            StepAction::Note { .. } => "note",
            StepAction::Checklist { .. } => "checklist",
            StepAction::Input { .. } => "input",
            StepAction::Confirm { .. } => "confirm",
            StepAction::Command { .. } => "command",
            StepAction::Container { .. } => "container",
            StepAction::Sql { .. } => "sql",
            StepAction::AlterPassword { .. } => "alter_password",
            StepAction::CheckLogin { .. } => "check_login",
            StepAction::Wait { .. } => "wait",
            StepAction::VerifyBackup { .. } => "verify_backup",
            StepAction::Extract { .. } => "extract",
            StepAction::WriteFile { .. } => "write_file",
            StepAction::UpdateSecret { .. } => "update_secret",
            StepAction::RotateFiles { .. } => "rotate_files",
            StepAction::Check { .. } => "check",
            StepAction::ScheduleFollowup { .. } => "schedule_followup",
            StepAction::GenerateSecret { .. } => "generate_secret",
        }
    }

    /// Steps the operator answers (no executor involved).
    pub fn is_interactive(&self) -> bool {
        matches!(
            self,
            StepAction::Note { .. }
                | StepAction::Checklist { .. }
                | StepAction::Input { .. }
                | StepAction::Confirm { .. }
        )
    }

    /// Every templated string field, with its field name, and whether it is an argv/env
    /// field (where secrets are forbidden) or an SQL statement (where filters are required).
    fn template_fields(&self) -> Vec<(String, &str, FieldUse)> {
        let mut v: Vec<(String, &str, FieldUse)> = Vec::new();
        let t = FieldUse::Text;
        match self {
            StepAction::Note { text } => v.push(("text".into(), text, t)),
            StepAction::Checklist { items } => {
                for (i, s) in items.iter().enumerate() {
                    v.push((format!("items[{i}]"), s, t));
                }
            }
            StepAction::Input { prompt, .. } => {
                if let Some(p) = prompt {
                    v.push(("prompt".into(), p, t));
                }
            }
            StepAction::Confirm { prompt, typed } => {
                if let Some(p) = prompt {
                    v.push(("prompt".into(), p, t));
                }
                if let Some(p) = typed {
                    v.push(("typed".into(), p, FieldUse::Public));
                }
            }
            StepAction::Command {
                argv,
                cwd,
                env,
                stdin,
                ..
            } => {
                for (i, s) in argv.iter().enumerate() {
                    v.push((format!("argv[{i}]"), s, FieldUse::Public));
                }
                if let Some(c) = cwd {
                    v.push(("cwd".into(), c, FieldUse::Public));
                }
                for (k, s) in env {
                    v.push((format!("env.{k}"), s, FieldUse::Public));
                }
                if let Some(s) = stdin {
                    v.push(("stdin.file".into(), &s.file, FieldUse::Public));
                }
            }
            StepAction::Container { names, .. } => {
                for (i, s) in names.iter().enumerate() {
                    v.push((format!("names[{i}]"), s, FieldUse::Public));
                }
            }
            StepAction::Sql {
                connection,
                database,
                statements,
                expect,
                expect_not,
            } => {
                v.push(("connection".into(), connection, FieldUse::Public));
                if let Some(d) = database {
                    v.push(("database".into(), d, FieldUse::Public));
                }
                for (i, s) in statements.iter().enumerate() {
                    v.push((format!("statements[{i}]"), s, FieldUse::Sql));
                }
                for (n, e) in [("expect", expect), ("expect_not", expect_not)] {
                    if let Some(e) = e {
                        v.push((n.into(), e, t));
                    }
                }
            }
            StepAction::AlterPassword {
                connection,
                user,
                password,
            }
            | StepAction::CheckLogin {
                connection,
                user,
                password,
                ..
            } => {
                v.push(("connection".into(), connection, FieldUse::Public));
                v.push(("user".into(), user, FieldUse::Public));
                v.push(("password".into(), password, t));
            }
            StepAction::Wait { target, .. } => match target {
                WaitTarget::Http(s)
                | WaitTarget::Tcp(s)
                | WaitTarget::File(s)
                | WaitTarget::Written(s)
                | WaitTarget::Container(s) => v.push(("target".into(), s, FieldUse::Public)),
            },
            StepAction::VerifyBackup { path } => v.push(("path".into(), path, FieldUse::Public)),
            StepAction::Extract {
                from,
                component,
                target,
                ..
            } => {
                v.push(("from".into(), from, FieldUse::Public));
                v.push(("component".into(), component, FieldUse::Public));
                v.push(("target".into(), target, FieldUse::Public));
            }
            StepAction::WriteFile { path, content, .. } => {
                v.push(("path".into(), path, FieldUse::Public));
                v.push(("content".into(), content, t));
            }
            StepAction::UpdateSecret {
                location,
                field,
                region,
                endpoint_url,
                value,
                ..
            } => {
                v.push(("location".into(), location, FieldUse::Public));
                for (name, f) in [
                    ("field", field),
                    ("region", region),
                    ("endpoint_url", endpoint_url),
                ] {
                    if let Some(f) = f {
                        v.push((name.into(), f, FieldUse::Public));
                    }
                }
                v.push(("value".into(), value, t));
            }
            StepAction::RotateFiles { paths } => {
                for (i, s) in paths.iter().enumerate() {
                    v.push((format!("paths[{i}]"), s, FieldUse::Public));
                }
            }
            StepAction::Check { left, right, .. } => {
                v.push(("left".into(), left, t));
                v.push(("right".into(), right, t));
            }
            StepAction::ScheduleFollowup { title, due, note } => {
                v.push(("title".into(), title, FieldUse::Public));
                v.push(("due".into(), due, FieldUse::Public));
                if let Some(n) = note {
                    v.push(("note".into(), n, FieldUse::Public));
                }
            }
            StepAction::GenerateSecret { .. } => {}
        }
        v
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldUse {
    /// May hold a secret (it is masked when shown).
    Text,
    /// Shown, logged or visible to other users (argv, env, paths): no secrets.
    Public,
    /// SQL text: every placeholder needs `| ident`, `| literal` or `| raw`.
    Sql,
}

/// The step kinds, for "did you mean" and docs.
pub const STEP_KINDS: &[&str] = &[
    "note",
    "checklist",
    "input",
    "confirm",
    "command",
    "container",
    "sql",
    "alter_password",
    "check_login",
    "wait",
    "verify_backup",
    "extract",
    "write_file",
    "update_secret",
    "rotate_files",
    "check",
    "schedule_followup",
    "generate_secret",
];

// ---------------------------------------------------------------------------------------
// Parsing

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
];

fn de<T: serde::de::DeserializeOwned>(table: toml::Table) -> Result<T, String> {
    toml::Value::Table(table)
        .try_into::<T>()
        .map_err(|e| e.message().trim().to_string())
}

fn parse_duration(v: Option<&toml::Value>, field: &str, default: u64) -> Result<Duration, String> {
    match v {
        None => Ok(Duration::from_secs(default)),
        Some(toml::Value::Integer(n)) if *n >= 0 => Ok(Duration::from_secs(*n as u64)),
        Some(toml::Value::String(s)) => humantime::parse_duration(s).map_err(|e| {
            format!("`{field}`: `{s}` is not a duration like \"30s\" or \"10m\" ({e})")
        }),
        Some(_) => Err(format!("`{field}` must be a duration like \"30s\"")),
    }
}

fn parse_action(kind: &str, mut t: toml::Table) -> Result<StepAction, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Command {
        argv: Vec<String>,
        #[serde(default)]
        cwd: Option<String>,
        #[serde(default)]
        env: BTreeMap<String, String>,
        #[serde(default)]
        stdin: Option<StdinSpec>,
        #[serde(default)]
        ok_codes: Vec<i32>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Wait {
        #[serde(default)]
        http: Option<String>,
        #[serde(default)]
        tcp: Option<String>,
        #[serde(default)]
        file: Option<String>,
        #[serde(default)]
        container: Option<String>,
        #[serde(default)]
        written: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct WriteFile {
        path: String,
        content: String,
        #[serde(default)]
        mode: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct UpdateSecret {
        store: String,
        #[serde(default)]
        path: Option<String>,
        #[serde(default)]
        secret_id: Option<String>,
        #[serde(default)]
        field: Option<String>,
        #[serde(default)]
        region: Option<String>,
        #[serde(default)]
        endpoint_url: Option<String>,
        value: String,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Gen {
        #[serde(default)]
        length: Option<usize>,
    }
    let action = match kind {
        "command" => {
            let timeout = parse_duration(t.remove("timeout").as_ref(), "timeout", 600)?;
            let c: Command = de(t)?;
            if c.argv.is_empty() {
                return Err("`argv` must name a program".into());
            }
            StepAction::Command {
                argv: c.argv,
                cwd: c.cwd,
                env: c.env,
                timeout,
                stdin: c.stdin,
                ok_codes: if c.ok_codes.is_empty() {
                    vec![0]
                } else {
                    c.ok_codes
                },
            }
        }
        "wait" => {
            let timeout = parse_duration(t.remove("timeout").as_ref(), "timeout", 120)?;
            let w: Wait = de(t)?;
            let target = match (w.http, w.tcp, w.file, w.container, w.written) {
                (Some(u), None, None, None, None) => WaitTarget::Http(u),
                (None, Some(a), None, None, None) => WaitTarget::Tcp(a),
                (None, None, Some(f), None, None) => WaitTarget::File(f),
                (None, None, None, Some(c), None) => WaitTarget::Container(c),
                (None, None, None, None, Some(f)) => WaitTarget::Written(f),
                _ => {
                    return Err(
                        "a wait step needs exactly one of `http`, `tcp`, `file`, `container`, `written`"
                            .into(),
                    )
                }
            };
            StepAction::Wait { target, timeout }
        }
        "write_file" => {
            let w: WriteFile = de(t)?;
            let mode = match w.mode {
                None => 0o600,
                Some(m) => u32::from_str_radix(m.trim_start_matches("0o"), 8)
                    .map_err(|_| format!("`mode`: `{m}` is not an octal mode like \"0600\""))?,
            };
            StepAction::WriteFile {
                path: w.path,
                content: w.content,
                mode,
            }
        }
        "update_secret" => {
            let u: UpdateSecret = de(t)?;
            let location = match (u.store.as_str(), u.path, u.secret_id) {
                ("file", Some(p), None) => p,
                ("aws_secrets_manager", None, Some(id)) => id,
                ("file", _, _) => {
                    return Err("a `file` secret needs `path` (and no `secret_id`)".into())
                }
                ("aws_secrets_manager", _, _) => {
                    return Err(
                        "an `aws_secrets_manager` secret needs `secret_id` (and no `path`)".into(),
                    )
                }
                (other, _, _) => {
                    return Err(format!(
                        "`store`: `{other}` is not `file` or `aws_secrets_manager`"
                    ))
                }
            };
            StepAction::UpdateSecret {
                store: u.store,
                location,
                field: u.field,
                region: u.region,
                endpoint_url: u.endpoint_url,
                value: u.value,
            }
        }
        "generate_secret" => {
            let g: Gen = de(t)?;
            let length = g.length.unwrap_or(32);
            if !(16..=256).contains(&length) {
                return Err("`length` must be between 16 and 256".into());
            }
            StepAction::GenerateSecret { length }
        }
        other => {
            // The remaining kinds deserialize directly from their fields.
            t.insert("kind".into(), toml::Value::String(other.into()));
            let a: StepAction = de(t)?;
            if let StepAction::Sql { statements, .. } = &a {
                if statements.is_empty() {
                    return Err("`statements` must hold at least one statement".into());
                }
            }
            a
        }
    };
    Ok(action)
}

fn did_you_mean(name: &str, options: &[&str]) -> Option<String> {
    options
        .iter()
        .map(|o| (strsim::jaro_winkler(o, name), *o))
        .filter(|(s, _)| *s > 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, o)| o.to_string())
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
        let span = spanned.span();
        let (line, _) = line_col(source, span.start);
        // `[[step]]` headers span from the header: point at the first key's line instead.
        let line = first_key_line(source, span.start).unwrap_or(line);
        let err = |field: &str, msg: String| {
            ConfigError::new(file, msg)
                .at(line, 1)
                .field(format!("step[{i}].{field}"))
        };
        let mut table = spanned.get_ref().clone();
        let kind = match table.remove("kind") {
            Some(toml::Value::String(k)) => k,
            Some(_) => {
                errors.push(err("kind", "must be a string".into()));
                continue;
            }
            None => {
                errors.push(err("kind", "missing field `kind`".into()));
                continue;
            }
        };
        if !STEP_KINDS.contains(&kind.as_str()) {
            let mut msg = format!("unknown step kind `{kind}`");
            if let Some(s) = did_you_mean(&kind, STEP_KINDS) {
                msg.push_str(&format!(" (did you mean `{s}`?)"));
            }
            errors.push(
                ConfigError::new(file, msg)
                    .at(line_of(source, &format!("\"{kind}\""), line), 1)
                    .field(format!("step[{i}].kind")),
            );
            continue;
        }
        if kind == "schedule_followup" {
            // `followup` names the calendar entry; without it the step's title does.
            match table.remove("followup") {
                Some(t) => {
                    table.insert("followup_title".into(), t);
                }
                None => {
                    if let Some(t) = table.get("title").cloned() {
                        table.insert("followup_title".into(), t);
                    }
                }
            }
        }
        let mut common_t = toml::Table::new();
        for k in COMMON_KEYS {
            if let Some(v) = table.remove(*k) {
                common_t.insert((*k).to_string(), v);
            }
        }
        let common: RawCommon = match de(common_t) {
            Ok(c) => c,
            Err(m) => {
                errors.push(err("", m));
                continue;
            }
        };
        let action = match parse_action(&kind, table) {
            Ok(a) => a,
            Err(m) => {
                errors.push(err(&kind, m));
                continue;
            }
        };
        steps.push(Step {
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
            line,
        });
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
    };
    errors.extend(validate(&rb, source));
    if errors.is_empty() {
        Ok(rb)
    } else {
        Err(errors)
    }
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
fn line_of(source: &str, needle: &str, from_line: usize) -> usize {
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

fn validate(rb: &Runbook, source: &str) -> Vec<ConfigError> {
    let file = &rb.source;
    let mut errors = Vec::new();
    let params: HashSet<&str> = rb.params.iter().map(|p| p.name.as_str()).collect();
    let mut seen_params = HashSet::new();
    for (i, p) in rb.params.iter().enumerate() {
        if !seen_params.insert(p.name.as_str()) {
            errors.push(
                ConfigError::new(file, format!("duplicate parameter `{}`", p.name))
                    .at(line_of(source, &format!("\"{}\"", p.name), 1), 1)
                    .field(format!("param[{i}].name")),
            );
        }
        if p.kind == ParamKind::Choice && p.choices.is_empty() {
            errors.push(
                ConfigError::new(file, "a choice parameter needs `choices`")
                    .at(line_of(source, &format!("\"{}\"", p.name), 1), 1)
                    .field(format!("param[{i}].choices")),
            );
        }
    }
    if let Some(d) = &rb.drill {
        for k in d.set.keys().chain(d.backup_param.iter()) {
            if !params.contains(k.as_str()) {
                errors.push(
                    ConfigError::new(file, format!("unknown parameter `{k}`"))
                        .at(line_of(source, k, 1), 1)
                        .field("drill"),
                );
            }
        }
    }
    let mut earlier: HashSet<&str> = HashSet::new();
    let all_ids: HashSet<&str> = rb.steps.iter().map(|s| s.id.as_str()).collect();
    let secret_steps: HashSet<&str> = rb
        .steps
        .iter()
        .filter(|s| matches!(s.action, StepAction::GenerateSecret { .. }))
        .map(|s| s.id.as_str())
        .collect();
    for (i, step) in rb.steps.iter().enumerate() {
        let at = |field: &str, needle: &str, msg: String| {
            ConfigError::new(file, msg)
                .at(line_of(source, needle, step.line), 1)
                .field(format!("step[{i}].{field}"))
        };
        if !earlier.insert(step.id.as_str()) {
            errors.push(at(
                "id",
                &step.id,
                format!("duplicate step id `{}`", step.id),
            ));
        }
        if let StepAction::Input { param, .. } = &step.action {
            if !params.contains(param.as_str()) {
                errors.push(at("param", param, format!("unknown parameter `{param}`")));
            }
        }
        if let Some(r) = &step.rollback {
            match rb.steps.iter().find(|s| &s.id == r) {
                None => errors.push(at(
                    "rollback",
                    r,
                    format!("no step `{r}` to roll back with"),
                )),
                Some(s) if !s.rollback_only => errors.push(at(
                    "rollback",
                    r,
                    format!("step `{r}` must be marked `rollback_only = true`"),
                )),
                _ => {}
            }
        }
        let mut fields = step.action.template_fields();
        if let Some(w) = &step.when {
            fields.push(("when".into(), w, FieldUse::Text));
        }
        if let Some(w) = &step.unless {
            fields.push(("unless".into(), w, FieldUse::Text));
        }
        for (field, text, usage) in fields {
            let pieces = match template::parse(text) {
                Ok(p) => p,
                Err(m) => {
                    errors.push(at(&field, text, m));
                    continue;
                }
            };
            for piece in pieces {
                let template::Piece::Hole(h) = piece else {
                    continue;
                };
                let problem = match &h.var {
                    Var::Param(n) if !params.contains(n.as_str()) => {
                        let names: Vec<&str> = params.iter().copied().collect();
                        let mut m = format!("`{}` references unknown parameter `{n}`", h.text);
                        if let Some(s) = did_you_mean(n, &names) {
                            m.push_str(&format!(" (did you mean `{s}`?)"));
                        }
                        Some(m)
                    }
                    Var::StepOutput(id) if !earlier.contains(id.as_str()) || id == &step.id => {
                        if all_ids.contains(id.as_str()) {
                            Some(format!(
                                "`{}` references step `{id}`, which runs later",
                                h.text
                            ))
                        } else {
                            Some(format!("`{}` references unknown step `{id}`", h.text))
                        }
                    }
                    Var::Secret(id) if !secret_steps.contains(id.as_str()) => Some(format!(
                        "`{}`: `{id}` is not a generate_secret step",
                        h.text
                    )),
                    Var::Secret(_) if usage == FieldUse::Public => Some(format!(
                        "`{}`: secrets may not go into command lines, environment, paths or \
                         container names (they would be visible in `ps`)",
                        h.text
                    )),
                    Var::Param(n)
                        if usage == FieldUse::Public
                            && rb
                                .params
                                .iter()
                                .any(|p| &p.name == n && p.kind == ParamKind::Secret) =>
                    {
                        Some(format!(
                            "`{}`: secret parameters may not go into command lines, environment, \
                             paths or container names",
                            h.text
                        ))
                    }
                    _ if usage == FieldUse::Sql && h.filter == Filter::None => Some(format!(
                        "`{}` in SQL needs a filter: `| ident`, `| literal` or `| raw`",
                        h.text
                    )),
                    _ => None,
                };
                if let Some(m) = problem {
                    errors.push(at(&field, &h.text, m));
                }
            }
        }
    }
    errors
}

// ---------------------------------------------------------------------------------------
// Loading

/// The runbooks shipped in the binary.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "restore-postgres.toml",
        include_str!("../../runbooks/restore-postgres.toml"),
    ),
    (
        "restore-files.toml",
        include_str!("../../runbooks/restore-files.toml"),
    ),
    (
        "rotate-db-password.toml",
        include_str!("../../runbooks/rotate-db-password.toml"),
    ),
    (
        "rotate-access-key.toml",
        include_str!("../../runbooks/rotate-access-key.toml"),
    ),
    (
        "rotate-logs.toml",
        include_str!("../../runbooks/rotate-logs.toml"),
    ),
    (
        "renew-certificate.toml",
        include_str!("../../runbooks/renew-certificate.toml"),
    ),
];

/// Shipped runbooks plus every `*.toml` in `user_dirs` (a user file overrides a shipped one
/// of the same `name`). Bad files are reported and left out; this never panics.
pub fn load_all(user_dirs: &[PathBuf]) -> (Vec<Runbook>, Vec<ConfigError>) {
    let mut books: Vec<Runbook> = Vec::new();
    let mut errors = Vec::new();
    let add = |rb: Runbook, books: &mut Vec<Runbook>| {
        if let Some(existing) = books.iter_mut().find(|b| b.name == rb.name) {
            *existing = rb;
        } else {
            books.push(rb);
        }
    };
    for (name, text) in SHIPPED {
        match parse(&Path::new("<shipped>").join(name), text) {
            Ok(rb) => add(rb, &mut books),
            Err(e) => errors.extend(e),
        }
    }
    for dir in user_dirs {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                errors.push(ConfigError::new(dir, format!("cannot read folder: {e}")));
                continue;
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(ConfigError::new(&path, format!("cannot read: {e}")));
                    continue;
                }
            };
            match parse(&path, &text) {
                Ok(rb) => add(rb, &mut books),
                Err(e) => errors.extend(e),
            }
        }
    }
    (books, errors)
}

/// For `toban config check`: every problem in the shipped and user runbooks.
pub fn check(user_dirs: &[PathBuf]) -> Vec<ConfigError> {
    load_all(user_dirs).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_runbooks_load_clean() {
        let (books, errors) = load_all(&[]);
        assert!(errors.is_empty(), "{errors:#?}");
        assert_eq!(books.len(), SHIPPED.len());
    }

    #[test]
    fn patterns() {
        assert!(pattern_matches("^[A-Za-z_][A-Za-z0-9_]*$", "backup_mgmt"));
        assert!(!pattern_matches("^[A-Za-z_][A-Za-z0-9_]*$", "x; drop"));
        assert!(pattern_matches("\\.sql\\.gz$", "/b/20260225.sql.gz"));
        assert!(!pattern_matches("\\.sql\\.gz$", "/b/x.sql"));
        assert!(pattern_matches("^\\d+$", "5432"));
        assert!(!pattern_matches("^\\d+$", "54a"));
    }
}
