//! Command line: the TUI is the default command; headless twins for scripts and cron.

pub mod config_check;
pub mod status;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "toban",
    version,
    about = "当番 — the terminal console for the person on call"
)]
pub struct Cli {
    #[arg(long, global = true, value_name = "NAME", help = shipped_help("Colour theme", crate::config::theme::SHIPPED))]
    pub theme: Option<String>,
    #[arg(long, global = true, value_name = "NAME", help = shipped_help("Key bindings", crate::config::keymap::SHIPPED))]
    pub keymap: Option<String>,
    /// config.toml to use instead of the one in the user's config directory.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Refuse every action that changes something.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Start on a throw-away environment in a temporary folder.
    #[arg(long)]
    pub demo: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `"Colour theme (shipped: default, light, …; or your own)"`, from what the binary embeds.
fn shipped_help(what: &str, shipped: &[(&str, &str)]) -> String {
    let names: Vec<&str> = shipped.iter().map(|(name, _)| *name).collect();
    format!("{what} (shipped: {}; or your own)", names.join(", "))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print host health and exit 0 OK, 1 warning, 2 critical, 3 unknown.
    Status {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Alarms of every source (CloudWatch, Alertmanager, toban's own); exit 0 OK, 1 warning,
    /// 2 an ALARM nobody acknowledged, 3 a source could not be read.
    Alarms {
        /// Only alarms in this state: ALARM, INSUFFICIENT_DATA or OK.
        #[arg(long, value_name = "STATE")]
        state: Option<String>,
        /// Only this source: `cloudwatch`, `cloudwatch:prod`, `alertmanager:main`, `local`.
        #[arg(long, value_name = "SOURCE")]
        source: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The backup catalog.
    Backups {
        #[command(subcommand)]
        command: BackupsCommand,
    },
    /// Runbooks: list, show, run (headless, for cron and drills), history.
    Runbook {
        #[command(subcommand)]
        command: RunbookCommand,
    },
    /// The operations calendar: the agenda (exit 1 when a duty is overdue, 2 when a
    /// critical one is), `--ics`, and `done` / `skip` / `snooze`.
    Calendar(crate::calendar::cli::CalendarArgs),
    /// Containers, HTTP checks and certificates, looked at once; exit 0 OK, 1 warning,
    /// 2 critical, 3 an engine did not answer.
    Services {
        #[arg(long)]
        json: bool,
    },
    /// Log files (or `[logs]` sources): filter by regex, level and age, follow across
    /// rotation; output made safe for a terminal unless --raw. Exit 1 when no line matched.
    Logs(crate::logs::cli::LogsArgs),
    /// Configuration files.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum BackupsCommand {
    /// Check every file's size and sha256 against its manifest (and dumps' gzip streams);
    /// records the results; exits 1 on any failure.
    Verify {
        /// Only this service.
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RunbookCommand {
    /// Every runbook, shipped and your own.
    List,
    /// A runbook's parameters and steps, with what each would do.
    Show { name: String },
    /// Run without the wizard. A confirmation fails the run unless --yes names the target;
    /// exit 0 succeeded, 1 failed, 2 usage, 3 a confirmation was needed.
    Run {
        name: String,
        /// Show what every step would do; execute nothing (recorded as a dry run).
        #[arg(long)]
        dry_run: bool,
        /// Restore into a scratch target, verify, time it and record the drill.
        #[arg(long)]
        drill: bool,
        /// A parameter, `key=value` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Confirms steps: a typed confirmation passes only if this is the target's name.
        #[arg(long, value_name = "TARGET")]
        yes: Option<String>,
    },
    /// Go on with a run left open (toban died, the session dropped), without the wizard.
    /// Refused for a run whose runbook changed or is gone (abort it) and for one another
    /// session holds. Exit codes as `run`.
    Resume {
        /// The run's id (`toban runbook history` lists them).
        run: String,
        /// For a step found interrupted: take what is known, run it again (refused while
        /// the original still runs) or abort the run.
        #[arg(long, value_name = "accept|rerun|abort")]
        step: Option<ResumeStep>,
        /// Confirms the steps still to come, as for `run`.
        #[arg(long, value_name = "TARGET")]
        yes: Option<String>,
    },
    /// End an open run as aborted (recorded with user, SSH client and reason): also a run
    /// whose runbook changed or is gone. Exit 0 aborted, 1 not possible (already ended,
    /// driven by another session), 2 no such run.
    Abort {
        /// The run's id (`toban runbook history` lists them).
        run: String,
        /// Why, for the audit.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Past runs, newest first; `--run ID` shows one run's full audit record.
    History {
        #[arg(long, value_name = "ID")]
        run: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

/// `toban runbook resume --step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ResumeStep {
    Accept,
    Rerun,
    Abort,
}

impl From<ResumeStep> for crate::runbook::engine::ResumeChoice {
    fn from(s: ResumeStep) -> Self {
        match s {
            ResumeStep::Accept => Self::Accept,
            ResumeStep::Rerun => Self::Rerun,
            ResumeStep::Abort => Self::Abort,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate config.toml, themes and keymaps; exit non-zero naming file, line and field.
    Check,
}
