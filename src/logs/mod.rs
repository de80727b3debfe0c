//! Logs: files read with a compact line index, followed across rotation, levels detected,
//! filtered as you type off the UI task, errors per hour against the seed's threshold, and
//! `toban logs` for scripts.

pub mod cli;
mod cli_follow;
mod cli_merge;
pub mod cloud_provider;
pub mod cloudwatch;
pub mod container;
pub mod follow;
pub mod insights;
pub mod insights_view;
pub mod journal;
pub mod jump;
pub mod level;
pub mod load;
pub mod merge;
pub mod packed;
pub mod search;
pub mod sources;
pub mod stamp;
pub mod store;
pub mod text;

pub use level::Level;
pub use store::{Chunk, LineStore};
pub mod provider;
pub mod state;
pub mod update;
pub mod view;

pub use state::LogsState;
pub use update::{LogsEffect, LogsMsg};
