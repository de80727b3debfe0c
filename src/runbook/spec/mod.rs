//! The runbook file format (TOML): what a runbook is once read.
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
//! - [`param`]: parameters and the check of a value.
//! - [`parse`]: one file into a [`Runbook`] (each step's kind-specific fields are parsed by
//!   its kind, see `runbook::steps`).
//! - [`validate`]: what needs the whole runbook (ids, rollbacks, templates).
//! - [`load`]: the shipped runbooks and the user's folders.
//!
//! Every mistake is a `ConfigError` naming the file, the line and the field; nothing here
//! panics on any input.

pub mod load;
pub mod param;
pub mod parse;
pub mod validate;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use load::{check, load_all, SHIPPED};
pub use param::{Param, ParamKind, Pattern};
pub use parse::parse;

// The kinds' own types, where code has always found them.
pub use crate::runbook::steps::check::CheckOp;
pub use crate::runbook::steps::check_login::LoginExpect;
pub use crate::runbook::steps::command::StdinSpec;
pub use crate::runbook::steps::container::ContainerAction;
pub use crate::runbook::steps::extract::ExtractMode;
pub use crate::runbook::steps::wait::WaitTarget;
pub use crate::runbook::steps::{StepAction, STEP_KINDS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunbookKind {
    Restore,
    Rotation,
    Maintenance,
}

#[derive(Debug, Clone, PartialEq)]
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
    /// sha256 of the file's canonical TOML (comments and layout do not count), stored with
    /// each run so a resume can tell the runbook changed under it.
    pub digest: String,
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

#[derive(Debug, Clone, PartialEq)]
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
    /// Runs once when the run ends, however it ends (done, failed, aborted, cancelled):
    /// cleanup such as dropping a drill's scratch database. Not part of the normal flow.
    pub finally: bool,
    pub line: usize,
}
