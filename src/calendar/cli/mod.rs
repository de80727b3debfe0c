//! `toban calendar`: the agenda for scripts and cron (exit 0 nothing overdue, 1 a duty
//! overdue, 2 a critical one, 3 the records could not be read), `--ics` for calendar apps,
//! and `done` / `skip` / `snooze` to record from a script what the tab records.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::book::{Book, OccState, Occurrence, HISTORY_DAYS};
use super::model::{duties_from_config, Actor, DutyProblem, Origin};
use super::recur::day_start;
use super::store::CalendarRecords;
use crate::alarm_types::Finding;
use crate::config::calendar::parse_zone;
use crate::config::Config;
use crate::health::Severity;
use crate::sanitize::strip_escapes;
use crate::store::Store;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CalendarArgs {
    #[command(subcommand)]
    pub command: Option<CalendarCommand>,
    /// Days ahead to list (default: `[calendar] agenda_days`).
    #[arg(long, value_name = "N")]
    pub days: Option<u32>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
    /// Write the duties as iCalendar (RRULEs for recurring duties) instead of the agenda.
    #[arg(long, conflicts_with = "json")]
    pub ics: bool,
    /// With --ics: write this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE", requires = "ics")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Mark a duty done: its overdue or due occurrence, else the next one.
    Done {
        /// The duty's id (`toban calendar` lists them), or `followup-N`.
        duty: String,
        #[arg(long)]
        note: Option<String>,
        /// When it was done, if not now: `HH:MM` today, `YYYY-MM-DD HH:MM`, or RFC 3339.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// Which occurrence (its due time, as for --at), if not the current one.
        #[arg(long, value_name = "TIME")]
        occurrence: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Skip a duty's current occurrence, with the reason.
    Skip {
        duty: String,
        #[arg(long)]
        reason: String,
        #[arg(long, value_name = "TIME")]
        occurrence: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Put a duty's current occurrence off: it is due again after this long (`2h`, `1d`).
    Snooze {
        duty: String,
        #[arg(long = "for", value_name = "DURATION")]
        duration: String,
        #[arg(long)]
        note: Option<String>,
        #[arg(long, value_name = "TIME")]
        occurrence: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

mod record;

pub use record::record_command;

/// The zone the calendar is shown in: `[calendar] zone`, else the system's.
/// `[calendar] zone` if set, else the zone every other time is shown in.
pub fn display_zone(config: &Config) -> Tz {
    config
        .calendar
        .zone
        .as_deref()
        .and_then(|z| parse_zone(z).ok())
        .unwrap_or_else(|| config.timezone.tz())
}

/// Runs `toban calendar …`; returns the exit code.
pub fn main(
    args: CalendarArgs,
    config: &Config,
    data_dir: &Path,
    read_only: bool,
    problems: &[crate::config::ConfigError],
    runbooks: &[crate::runbook::spec::Runbook],
) -> i32 {
    for p in problems {
        eprintln!("toban: {p}");
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("toban: cannot start the runtime: {e}");
            return 3;
        }
    };
    rt.block_on(async {
        let store = Store::open(config.database_url.as_deref(), data_dir).await;
        let mut out = std::io::stdout().lock();
        let now = Utc::now();
        let code = match args.command {
            None => {
                let store = match store {
                    Ok(s) => Ok(s),
                    Err(e) => Err(format!("{e:#}")),
                };
                if args.ics {
                    ics_command(config, store.as_ref().ok(), args.output.as_deref(), now, &mut out)
                        .await
                } else {
                    agenda_command(config, store.as_ref(), args.days, args.json, now, &mut out)
                        .await
                }
            }
            Some(cmd) => {
                if read_only {
                    eprintln!("toban: read-only mode: nothing is recorded");
                    return 2;
                }
                let store = match store {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("toban: completions are kept in the state store, which is unavailable: {e:#}");
                        return 3;
                    }
                };
                // A follow-up's action runs here as a recorded runbook run, as from the tab.
                let actions = crate::calendar::complete::Actions {
                    env: crate::runbook::runner::RunEnv {
                        store: store.clone(),
                        executor: std::sync::Arc::new(crate::runbook::steps::SupervisedExecutor),
                        runs_dir: data_dir.join("runs"),
                        connections: config.runbooks.connections.clone(),
                        engines: crate::services::engines(&config.services).into_iter().collect(),
                    },
                    books: std::sync::Arc::new(runbooks.to_vec()),
                };
                record_command(config, &store, Some(&actions), cmd, &Actor::current(), now, &mut out)
                    .await
            }
        };
        let _ = out.flush();
        code
    })
}

/// The configured duties and the records: the book `toban calendar` prints from.
async fn load(
    config: &Config,
    store: Option<&Store>,
    now: DateTime<Utc>,
) -> (Book, Vec<DutyProblem>, Result<(), String>) {
    let cfg = &config.calendar;
    let (duties, problems) = duties_from_config(cfg);
    let ids: Vec<String> = duties.iter().map(|d| d.id.clone()).collect();
    let (records, read) = match store {
        Some(s) => match s.calendar_records(now, HISTORY_DAYS, &ids).await {
            Ok(r) => (r, Ok(())),
            Err(e) => (CalendarRecords::default(), Err(format!("{e:#}"))),
        },
        None => (CalendarRecords::default(), Err("no state store".into())),
    };
    let grace = Duration::from_std(cfg.grace).unwrap_or(Duration::hours(1));
    let book = Book::assemble(&duties, &records, display_zone(config), grace);
    (book, problems, read)
}

#[derive(Serialize)]
struct AgendaJson<'a> {
    now: DateTime<Utc>,
    zone: &'a str,
    overdue: usize,
    due: usize,
    exit_code: i32,
    /// Overdue, due and snoozed duties, then what comes up.
    items: Vec<ItemJson<'a>>,
    /// Everything due today (in `zone`), done or not.
    today: Vec<ItemJson<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    store_error: Option<String>,
}

#[derive(Serialize)]
struct ItemJson<'a> {
    duty: &'a str,
    title: String,
    at: DateTime<Utc>,
    local: String,
    state: OccState,
    overdue_at: DateTime<Utc>,
    schedule: &'a str,
    origin: &'a Origin,
    #[serde(skip_serializing_if = "Option::is_none")]
    runbook: Option<&'a crate::config::calendar::RunbookLink>,
    #[serde(skip_serializing_if = "Option::is_none")]
    by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

fn item<'a>(book: &'a Book, o: &Occurrence, zone: Tz) -> ItemJson<'a> {
    let d = &book.duties[o.duty];
    ItemJson {
        duty: &d.id,
        title: strip_escapes(&d.title),
        at: o.at,
        local: o
            .at
            .with_timezone(&zone)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        state: o.state,
        overdue_at: o.overdue_at,
        schedule: &d.schedule,
        origin: &d.origin,
        runbook: d.runbook.as_ref(),
        by: o.event.as_ref().map(|e| e.by.describe()),
        note: o
            .event
            .as_ref()
            .and_then(|e| e.note.as_deref().map(strip_escapes)),
    }
}

/// The exit code for what is overdue: 1 when any duty is, 2 when a critical one is.
fn severity_of(book: &Book, items: &[Occurrence]) -> Severity {
    items
        .iter()
        .filter(|o| o.state == OccState::Overdue && book.duties[o.duty].alarm)
        .map(|o| book.duties[o.duty].severity)
        .fold(Severity::Ok, Severity::worst)
}

pub async fn agenda_command(
    config: &Config,
    store: Result<&Store, &String>,
    days: Option<u32>,
    json: bool,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> i32 {
    let cfg = &config.calendar;
    let zone = display_zone(config);
    let (book, problems, read) = load(config, store.ok(), now).await;
    let read = match (read, store) {
        (_, Err(e)) => Err(e.clone()),
        (r, _) => r,
    };
    let days = days.unwrap_or(cfg.agenda_days).clamp(1, 366);
    let until = day_start(
        zone,
        now.with_timezone(&zone).date_naive() + Duration::days(i64::from(days)),
    );
    let items = book.agenda(now, until);
    let overdue = items
        .iter()
        .filter(|o| o.state == OccState::Overdue)
        .count();
    let due = items.iter().filter(|o| o.state == OccState::Due).count();
    let code = match &read {
        Err(_) => 3,
        Ok(()) => severity_of(&book, &items).exit_code(),
    };
    let problems: Vec<String> = problems
        .iter()
        .map(|p| format!("{} ({}): {}", p.field, p.id, p.message))
        .collect();
    let w = if json {
        let doc = AgendaJson {
            now,
            zone: zone.name(),
            overdue,
            due,
            exit_code: code,
            items: items.iter().map(|o| item(&book, o, zone)).collect(),
            today: book
                .summary(now, zone)
                .today
                .iter()
                .map(|o| item(&book, o, zone))
                .collect(),
            problems,
            store_error: read.err(),
        };
        serde_json::to_writer_pretty(&mut *out, &doc)
            .map_err(std::io::Error::from)
            .and_then(|_| writeln!(out))
    } else {
        write_agenda(
            out, &book, &items, zone, now, days, overdue, due, &problems, &read,
        )
    };
    if w.is_err() {
        return 3;
    }
    code
}

#[allow(clippy::too_many_arguments)]
fn write_agenda(
    out: &mut dyn Write,
    book: &Book,
    items: &[Occurrence],
    zone: Tz,
    now: DateTime<Utc>,
    days: u32,
    overdue: usize,
    due: usize,
    problems: &[String],
    read: &Result<(), String>,
) -> std::io::Result<()> {
    let local = now.with_timezone(&zone);
    writeln!(
        out,
        "Calendar {} ({}), next {days} day{}: {overdue} overdue, {due} due",
        local.format("%a %Y-%m-%d %H:%M %Z"),
        zone.name(),
        if days == 1 { "" } else { "s" },
    )?;
    if let Err(e) = read {
        writeln!(out, "warning: completions unknown (state store: {e})")?;
    }
    for p in problems {
        writeln!(out, "warning: duty left out: {p}")?;
    }
    for o in items {
        let d = &book.duties[o.duty];
        let state = match o.state {
            OccState::Upcoming => String::new(),
            s => s.label().to_uppercase(),
        };
        let runbook = d
            .runbook
            .as_ref()
            .map(|r| {
                format!(
                    "  [runbook {}{}]",
                    r.name,
                    if r.drill { ", drill" } else { "" }
                )
            })
            .unwrap_or_default();
        writeln!(
            out,
            "{} {:<8} {}  {:<22} {}{runbook}",
            o.state.symbol(),
            state,
            o.at.with_timezone(&zone).format("%a %m-%d %H:%M"),
            d.id,
            strip_escapes(&d.title),
        )?;
    }
    if items.is_empty() {
        writeln!(out, "nothing due")?;
    }
    Ok(())
}

pub async fn ics_command(
    config: &Config,
    store: Option<&Store>,
    output: Option<&Path>,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> i32 {
    let (book, problems, read) = load(config, store, now).await;
    for p in &problems {
        eprintln!(
            "toban: duty left out: {} ({}): {}",
            p.field, p.id, p.message
        );
    }
    if let Err(e) = &read {
        eprintln!("toban: exporting without completions (state store: {e})");
    }
    let zone = display_zone(config);
    let from = day_start(zone, now.with_timezone(&zone).date_naive());
    let text = super::ics::export(&book, from, now);
    let written = match output {
        Some(path) => std::fs::write(path, &text).map_err(|e| format!("{}: {e}", path.display())),
        None => out.write_all(text.as_bytes()).map_err(|e| e.to_string()),
    };
    match written {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("toban: cannot write the calendar: {e}");
            2
        }
    }
}

/// Overdue duties for `toban status`: the configured calendar and the records in the
/// state store under `data_dir` (or `database_url`).
pub fn status_findings(cfg: &Config, data_dir: &Path) -> Result<Vec<Finding>, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let store = Store::open(cfg.database_url.as_deref(), data_dir)
            .await
            .map_err(|e| format!("state store: {e:#}"))?;
        let now = Utc::now();
        let (book, _, read) = load(cfg, Some(&store), now).await;
        store.close().await;
        read.map(|_| super::findings::findings(&book, now))
    })
}
