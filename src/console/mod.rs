//! The console: how a key or a provider's report changes the state ([`update`]), which tabs
//! exist and what each does ([`tabs`], the one registry), how keys become actions
//! ([`keys`]), and how the whole screen is drawn ([`view`]).
//!
//! Layering: `console` uses `state` (plain data), the capabilities (their own state,
//! update and views) and `ui` (shared drawing pieces); none of them uses `console`.

pub mod alarms;
pub mod calendar;
pub mod hints;
pub mod keys;
pub mod logs;
pub mod logs_insights;
pub mod prompt;
pub mod runbook_resume;
pub mod runbooks;
pub mod services;
pub mod tabs;
mod update;
pub mod view;

pub use update::update;
pub use view::render;
