//! The runbook wizard: its state (the run's engine plus what the screen needs) and its view.
//! The console opens it as a modal over any tab and feeds it keys and runner reports.

pub mod form;
pub mod form_view;
pub mod read_only;
pub mod reattach_view;
mod resume;
pub mod state;
pub mod text;
pub mod view;

pub use state::*;
