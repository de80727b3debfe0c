//! The backup catalog: what backups exist, whether they are fresh, kept as the policy says,
//! and intact.

pub mod catalog;
pub mod cli;
pub mod config;
pub mod demo;
pub mod fixture;
pub mod gzip_check;
pub mod lookup;
pub mod manifest;
pub mod provider;
pub mod rules;
pub mod safe_path;
pub mod scan;
pub mod state;
pub mod store;
pub mod verify;
pub mod view;
