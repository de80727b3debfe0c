//! Runbooks: TOML files of steps that the wizard runs one confirmed step at a time.

pub mod cli;
pub mod config;
pub mod engine;
pub mod exec;
pub mod runner;
pub mod spec;
pub mod steps;
pub mod template;
