//! The operations calendar: recurring duties from presets and config.toml (RFC 5545 rules
//! in each duty's zone), follow-ups that runbooks schedule, and who did what when.
//!
//! - `recur`: when a duty falls due (the `rrule` crate, chrono-tz)
//! - `model`: duties, follow-ups and the records against them
//! - `book`: due / overdue / missed / done at a given moment; agenda, history, summary
//! - `findings`: overdue duties as local alarms
//! - `complete`: recording done / skip / snooze (a follow-up's action runs first)
//! - `store`: completions, skips, snoozes and follow-ups in the state store
//! - `provider`: re-reads the records (other operators on a shared store)
//! - `state`, `effects`, `view`: the Calendar tab's state, its effects, its blocks
//! - `ics`: the iCalendar export; `cli`: `toban calendar`

pub mod book;
pub mod cli;
pub mod complete;
pub mod effects;
pub mod findings;
pub mod ics;
pub mod model;
pub mod provider;
pub mod recur;
pub mod state;
pub mod store;
pub mod view;

pub use book::{Book, OccState, Occurrence, Summary};
pub use findings::findings;
pub use model::{Actor, Duty, DutyEvent, EventKind, Followup};
pub use state::{CalendarEffect, CalendarMsg, CalendarState, RunbookRequest};
