//! toban (当番): a terminal operations console for the person on call.

pub mod action;
pub mod alarm_types;
pub mod backups;
pub mod config;
pub mod health;
pub mod providers;
pub mod runbook;
pub mod state;
pub mod store;
pub mod ui;
