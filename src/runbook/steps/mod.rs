//! Step kinds: what each `kind = "…"` of a runbook step is and does.
//!
//! A kind is one file in this folder: a struct holding its fields and an implementation
//! of [`StepKind`] (parse, check, render, describe, time limit, execute with cancel). It is
//! registered by one line in the `step_kinds!` list below, which makes it a variant of
//! [`StepAction`] and a name in [`STEP_KINDS`]; nothing else in toban lists the kinds.
//!
//! - [`kind`]: the trait and the helpers every kind uses (fields, rendering, parsing).
//! - [`outcome`]: what a step's run produced ([`StepOutcome`]), its rendered form
//!   ([`Rendered`]) and what is known after a restart ([`Reattach`]).
//! - [`context`]: what a running step gets: its cancel token, time limit, run folder,
//!   connections, store, and an output channel.
//! - [`executor`]: runs any kind with the runner's safety net, and reattaches to commands.

pub mod context;
pub mod executor;
pub mod kind;
pub mod outcome;

use std::time::Duration;

use futures::future::BoxFuture;

pub use context::{ExecContext, StepContext};
pub use executor::{ExecRequest, StepExecutor, SupervisedExecutor};
pub use kind::{CheckCx, Field, FieldUse, Problem, Render, StepHeader, StepKind};
pub use outcome::{digest_of, tail_of, Outcome, Reattach, Rendered, StepOutcome};

/// Declares the kinds: each line `Variant(module::Type)` adds `pub mod module;`, the
/// [`StepAction`] variant and its name; every method of [`StepAction`] dispatches here.
macro_rules! step_kinds {
    ($($variant:ident($module:ident::$kind:ident)),+ $(,)?) => {
        $(pub mod $module;)+

        /// One step's action: its kind and that kind's fields.
        #[derive(Debug, Clone, PartialEq)]
        pub enum StepAction {
            $($variant($module::$kind),)+
        }

        /// Every kind's name, in the order registered (for "did you mean" and the docs).
        pub const STEP_KINDS: &[&str] = &[$(<$module::$kind as StepKind>::NAME,)+];

        impl StepAction {
            /// A step of kind `kind` from its table; None when there is no such kind.
            pub fn parse(
                kind: &str,
                table: toml::Table,
                header: &StepHeader<'_>,
            ) -> Option<Result<StepAction, String>> {
                $(if kind == <$module::$kind as StepKind>::NAME {
                    return Some(
                        <$module::$kind as StepKind>::parse(table, header).map(StepAction::$variant),
                    );
                })+
                None
            }

            pub fn kind_name(&self) -> &'static str {
                match self {
                    $(StepAction::$variant(_) => <$module::$kind as StepKind>::NAME,)+
                }
            }

            /// Answered by the operator (no executor involved).
            pub fn is_interactive(&self) -> bool {
                match self {
                    $(StepAction::$variant(_) => <$module::$kind as StepKind>::INTERACTIVE,)+
                }
            }

            /// Gives later steps a secret (`{{secrets.ID}}`).
            pub fn makes_secret(&self) -> bool {
                match self {
                    $(StepAction::$variant(a) => a.makes_secret(),)+
                }
            }

            pub fn fields(&self) -> Vec<Field<'_>> {
                match self {
                    $(StepAction::$variant(a) => a.fields(),)+
                }
            }

            pub fn check(&self, cx: &CheckCx<'_>) -> Vec<Problem> {
                match self {
                    $(StepAction::$variant(a) => a.check(cx),)+
                }
            }

            pub fn render(&self, r: &Render<'_>) -> Result<StepAction, String> {
                match self {
                    $(StepAction::$variant(a) => a.render(r).map(StepAction::$variant),)+
                }
            }

            /// Exactly what a (masked) action does, as lines for the screen and the audit.
            pub fn describe(&self) -> Vec<String> {
                match self {
                    $(StepAction::$variant(a) => a.describe(),)+
                }
            }

            pub fn time_limit(&self) -> Duration {
                match self {
                    $(StepAction::$variant(a) => a.time_limit(),)+
                }
            }

            pub fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
                match self {
                    $(StepAction::$variant(a) => a.execute(cx),)+
                }
            }
        }
    };
}

step_kinds! {
    Note(note::Note),
    Checklist(checklist::Checklist),
    Input(input::Input),
    Confirm(confirm::Confirm),
    Command(command::Command),
    Container(container::Container),
    Sql(sql::Sql),
    AlterPassword(alter_password::AlterPassword),
    CheckLogin(check_login::CheckLogin),
    Wait(wait::Wait),
    VerifyBackup(verify_backup::VerifyBackup),
    Extract(extract::Extract),
    WriteFile(write_file::WriteFile),
    UpdateSecret(update_secret::UpdateSecret),
    ReadSecret(read_secret::ReadSecret),
    RotateFiles(rotate_files::RotateFiles),
    Check(check::Check),
    CertExpiry(cert_expiry::CertExpiry),
    CompareCounts(compare_counts::CompareCounts),
    ScheduleFollowup(schedule_followup::ScheduleFollowup),
    GenerateSecret(generate_secret::GenerateSecret),
    AccessKey(access_key::AccessKey),
}
